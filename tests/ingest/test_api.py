"""POST /api/v1/ingest and GET /api/v1/batches/<id>: the token rules and status codes."""

from __future__ import annotations

import gzip

import pytest

from forensics.ingest.models import Event, IngestBatch, Source
from tests.ingest.helpers import ct_record, records_file

pytestmark = pytest.mark.django_db
URL = "/api/v1/ingest"


@pytest.fixture
def token(source):
    return source.issue_token()


@pytest.fixture(autouse=True)
def _on_commit(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks


def post(client, body: bytes, token: str | None = None, query: str = "", **headers):
    """POST a body; the task enqueued on commit runs (in-process) before this returns."""
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with _capture(execute=True):
        return client.post(URL + query, data=body, content_type="application/json", **headers)


def test_it_accepts_a_file_and_reports_the_batch(client, token, source):
    response = post(client, records_file([ct_record(1), ct_record(2)]), token, "?filename=t.json")
    assert response.status_code == 202
    body = response.json()
    status = client.get(body["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert status["status"] == "done"
    assert (status["received"], status["stored"], status["duplicates"], status["quarantined"]) == (
        2,
        2,
        0,
        0,
    )
    assert status["filename"] == "t.json"
    assert Event.objects.filter(source=source).count() == 2


def test_it_accepts_a_gzip_body(client, token):
    response = post(client, gzip.compress(records_file([ct_record(7)])), token)
    assert response.status_code == 202
    assert Event.objects.count() == 1


def test_a_missing_token_is_401_with_a_json_error(client):
    response = post(client, records_file([ct_record(1)]))
    assert response.status_code == 401
    assert response.json()["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert IngestBatch.objects.count() == 0


def test_a_wrong_token_is_401(client, token):
    response = post(client, records_file([ct_record(1)]), token + "x")
    assert response.status_code == 401


def test_a_token_cannot_write_into_another_source(client, token):
    Source.objects.create(name="okta-prod")
    response = post(client, records_file([ct_record(1)]), token, "?source=okta-prod")
    assert response.status_code == 403
    assert "okta-prod" in response.json()["error"]
    assert IngestBatch.objects.count() == 0


def test_another_sources_token_cannot_read_this_sources_batch(client, token):
    batch_id = post(client, records_file([ct_record(1)]), token).json()["batch"]
    other = Source.objects.create(name="other").issue_token()
    response = client.get(f"/api/v1/batches/{batch_id}", HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 404


def test_an_oversize_body_is_413(client, token, settings):
    settings.INGEST_MAX_BYTES = 100
    response = post(client, records_file([ct_record(i) for i in range(10)]), token)
    assert response.status_code == 413
    assert response.json()["error"]
    assert IngestBatch.objects.count() == 0


def test_an_unknown_format_is_415(client, token):
    response = post(client, b'{"hello": "world"}\n', token)
    assert response.status_code == 415
    assert "unrecognized" in response.json()["error"]
    assert IngestBatch.objects.count() == 0


def test_an_unknown_forced_format_is_415(client, token):
    response = post(client, records_file([ct_record(1)]), token, "?format=syslog")
    assert response.status_code == 415


def test_the_api_needs_no_session_or_csrf(token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, records_file([ct_record(1)]), token).status_code == 202
