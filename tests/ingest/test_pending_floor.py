"""Where pending events can be: a batch is marked correlated once every event of it has an
attribution, and the pending filter reads the events from the earliest time a pending one
can have on, not every event."""

from __future__ import annotations

import importlib
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from forensics.identities import services as correlation
from forensics.ingest import services
from forensics.ingest.models import (
    STATUS_PENDING,
    Attribution,
    Event,
    IngestBatch,
    earliest_pending,
    mark_correlated,
)
from tests.conftest import SAMPLES
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
STAGES = (SAMPLES / "k8s_audit" / "stages.log").read_text().splitlines(keepends=True)
TOKEN_RR, TOKEN_RC = 0, 1  # one request's RequestReceived and ResponseComplete stages


def _pending_by_definition() -> set[int]:
    """The events with no attribution or one stored as pending, by reading all of them."""
    return {
        e.pk for e in Event.objects.all() if e.result is None or e.result.status == STATUS_PENDING
    }


def test_a_batch_is_marked_only_once_every_event_of_it_has_an_attribution():
    whole, partial, running = f.batch(), f.batch(), f.batch()
    IngestBatch.objects.filter(pk=running.pk).update(status=IngestBatch.RUNNING)
    for b in (whole, partial, running):
        f.event(batch=b, status="attributed", origin=None)
    f.event(batch=whole, status="pending", reason="")  # a stored result, if a pending one
    f.event(batch=partial)  # never correlated
    assert mark_correlated([whole.pk, partial.pk, running.pk]) == 1
    marked = set(IngestBatch.objects.exclude(correlated_at=None).values_list("pk", flat=True))
    # The running batch may get more events: it is not marked, whatever it holds now.
    assert marked == {whole.pk}


def test_the_pending_filter_reads_from_the_earliest_pending_time_and_finds_them_all():
    old, recent = f.batch(), f.batch()
    t = f.T0 + timedelta(days=10)
    for n in range(20):
        f.event(batch=old, event_time=t + timedelta(minutes=n), status="attributed", origin=None)
    waiting = f.event(batch=old, event_time=t + timedelta(minutes=30), status="pending", reason="")
    f.event(batch=recent, event_time=t + timedelta(hours=2), status="unattributed", reason="x")
    never = f.event(batch=recent, event_time=t + timedelta(hours=1))
    mark_correlated([old.pk, recent.pk])
    assert set(IngestBatch.objects.exclude(correlated_at=None).values_list("pk", flat=True)) == {
        old.pk
    }
    # The earliest of: the stored pending result, the first event of the batch not marked.
    assert earliest_pending() == waiting.event_time
    assert set(Event.objects.with_status("pending").values_list("pk", flat=True)) == {
        waiting.pk,
        never.pk,
    }
    assert _pending_by_definition() == {waiting.pk, never.pk}


def test_with_nothing_pending_the_filter_reads_no_event():
    b = f.batch()
    f.event(batch=b, status="attributed", origin=None)
    mark_correlated([b.pk])
    assert earliest_pending() is None
    assert Event.objects.with_status("pending").query.is_empty()


def test_correlating_batches_marks_them(source, ingest_sample):
    batches = ingest_sample("cloudtrail/saml_role_chain.json", "k8s_audit/audit.log")
    assert all(b.status == IngestBatch.DONE for b in batches)
    assert not IngestBatch.objects.filter(correlated_at=None).exists()
    assert not Event.objects.with_status("pending").exists()
    assert _pending_by_definition() == set()


def test_a_replaced_event_is_pending_in_the_batch_that_replaced_it(
    source, tmp_path, ingest_files, django_capture_on_commit_callbacks
):
    early_path, late_path = tmp_path / "early.log", tmp_path / "late.log"
    early_path.write_text(STAGES[TOKEN_RR])
    late_path.write_text(STAGES[TOKEN_RC])
    (early,) = ingest_files(source, early_path)
    assert IngestBatch.objects.get(pk=early.pk).correlated_at is not None
    with django_capture_on_commit_callbacks() as correlate:
        late = services.ingest_path(source, Path(late_path))
    event = Event.objects.get()
    # Its result went with its old record, and it moved to the batch not yet correlated.
    assert event.batch_id == late.pk
    assert not Attribution.objects.filter(event_id=event.pk).exists()
    assert list(Event.objects.with_status("pending")) == [event]
    correlate[0]()
    assert IngestBatch.objects.get(pk=late.pk).correlated_at is not None
    assert not Event.objects.with_status("pending").exists()


def test_correlating_the_store_marks_every_finished_batch(source, tmp_path):
    path = tmp_path / "audit.log"
    path.write_text((SAMPLES / "k8s_audit" / "audit.log").read_text())
    batch = services.ingest_path(source, path)  # its correlation is not run here
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is None
    assert Event.objects.with_status("pending").count() == Event.objects.count() > 0
    correlation.correlate_all(only_uncorrelated=True)
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is not None


def test_the_sweep_marks_a_batch_whose_correlation_was_lost(source, tmp_path, settings):
    path = tmp_path / "audit.log"
    path.write_text((SAMPLES / "k8s_audit" / "audit.log").read_text())
    batch = services.ingest_path(source, path)  # the message to correlate it was lost
    an_hour_ago = batch.finished_at - timedelta(minutes=settings.CORRELATION_GRACE_MINUTES + 60)
    IngestBatch.objects.filter(pk=batch.pk).update(finished_at=an_hour_ago)
    correlation.expire_pending()
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is not None
    assert _pending_by_definition() == set()


def test_upgrading_marks_the_batches_already_correlated_in_full():
    whole, partial = f.batch(), f.batch()
    f.event(batch=whole, status="attributed", origin=None)
    f.event(batch=partial)
    migration = importlib.import_module("forensics.ingest.migrations.0013_batch_correlated_at")

    class Editor:  # what the migration's function reads of its schema editor
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.mark_correlated(apps, editor)
    marked = set(IngestBatch.objects.exclude(correlated_at=None).values_list("pk", flat=True))
    assert marked == {whole.pk}
    assert Attribution.objects.count() == 1


def test_shares_of_a_correlation_leave_the_marking_to_the_command(source, tmp_path):
    path = tmp_path / "audit.log"
    path.write_text((SAMPLES / "k8s_audit" / "audit.log").read_text())
    batch = services.ingest_path(source, path)  # its correlation is not run here
    correlation.correlate_all(share=(0, 2))
    correlation.correlate_all(share=(1, 2))
    # Each share correlated part of the batch: neither can say the batch is whole.
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is None
    Attribution.objects.all().delete()
    call_command("correlate", "--share", "0/2", stdout=StringIO(), stderr=StringIO())
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is None  # half its events
    call_command("correlate", "--share", "1/2", stdout=StringIO(), stderr=StringIO())
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is not None


def test_a_batch_not_done_when_its_correlation_starts_is_not_marked(source, tmp_path):
    path = tmp_path / "audit.log"
    path.write_text((SAMPLES / "k8s_audit" / "audit.log").read_text())
    batch = services.ingest_path(source, path)
    IngestBatch.objects.filter(pk=batch.pk).update(status=IngestBatch.RUNNING)
    correlation.correlate_batches([batch.pk])
    IngestBatch.objects.filter(pk=batch.pk).update(status=IngestBatch.DONE)
    # Every event it held was correlated, but a running batch may have got more since.
    assert IngestBatch.objects.get(pk=batch.pk).correlated_at is None
    assert mark_correlated([batch.pk]) == 1  # looked at: they all have a result


def test_a_file_of_duplicates_only_is_marked_when_it_finishes(source, tmp_path):
    path = tmp_path / "audit.log"
    path.write_text((SAMPLES / "k8s_audit" / "audit.log").read_text())
    first = services.ingest_path(source, path)
    again = tmp_path / "again.log"
    again.write_text(path.read_text())
    second = services.ingest_path(source, again)
    assert (second.stored, second.replaced, second.duplicates) == (0, 0, second.received)
    # Nothing of it to correlate, so nothing to look for there; the first is not yet.
    assert IngestBatch.objects.get(pk=second.pk).correlated_at is not None
    assert IngestBatch.objects.get(pk=first.pk).correlated_at is None
