"""The admin's upload page and the batch page's htmx progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forensics.ingest.models import Event, IngestBatch
from tests.ingest.helpers import ct_record, records_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_commit(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks


def upload(client, source, body: bytes, fmt: str = "auto"):
    with _capture(execute=True):
        return client.post(
            "/ingest/",
            {"source": source.pk, "format": fmt, "file": SimpleUploadedFile("trail.json", body)},
        )


def test_an_admin_uploads_a_file_and_lands_on_its_batch(client_for, admin_user, source):
    client = client_for(admin_user)
    response = upload(client, source, records_file([ct_record(1), ct_record(2)]))
    batch = IngestBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ingest/batches/{batch.pk}/"
    assert batch.submitted_by == admin_user
    assert Event.objects.count() == 2
    page = client.get(response["Location"])
    assert b"stored <b>2</b>" in page.content


def test_an_unrecognized_upload_is_refused_on_the_form(client_for, admin_user, source):
    client = client_for(admin_user)
    response = upload(client, source, b'{"hello": 1}\n')
    assert response.status_code == 200
    assert b"unrecognized log format" in response.content
    assert IngestBatch.objects.count() == 0


def test_the_progress_fragment_polls_until_the_batch_finishes(client_for, admin_user, source):
    import io

    from forensics.ingest import services

    client = client_for(admin_user)
    batch = services.accept(
        source, io.BytesIO(records_file([ct_record(1)])), filename="t.json", via="upload"
    )
    running = client.get(f"/ingest/batches/{batch.pk}/", HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    assert b'hx-trigger="every 1s"' in running.content
    assert b"<html" not in running.content
    services.run_batch(batch.pk)
    finished = client.get(f"/ingest/batches/{batch.pk}/", HTTP_HX_REQUEST="true")
    assert finished.status_code == 286  # htmx: stop polling
    assert b"hx-trigger" not in finished.content


def test_investigators_and_auditors_cannot_upload(client_for, investigator, auditor, source):
    for user in (investigator, auditor):
        client = client_for(user)
        assert upload(client, source, records_file([ct_record(1)])).status_code == 403
    assert IngestBatch.objects.count() == 0


def test_the_upload_form_requires_csrf(admin_user, source):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert upload(client, source, records_file([ct_record(1)])).status_code == 403


def test_the_batch_page_says_whether_every_event_of_it_was_correlated(
    client_for, admin_user, source
):
    import io

    from forensics.ingest import services

    client = client_for(admin_user)
    response = upload(client, source, records_file([ct_record(1), ct_record(2)]))
    assert b"every event, at " in client.get(response["Location"]).content
    # A file whose correlation has not run (yet, or its message was lost).
    batch = services.accept(
        source, io.BytesIO(records_file([ct_record(3)])), filename="t.json", via="upload"
    )
    with _capture(execute=False):
        services.run_batch(batch.pk)
    page = client.get(f"/ingest/batches/{batch.pk}/").content
    assert b"not yet: some of its events have never been correlated" in page
