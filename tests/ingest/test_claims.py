"""A worker takes the queued files behind its own, and never runs a batch another holds."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection, connections

from forensics.ingest import claims, services
from forensics.ingest.models import Event, IngestBatch
from forensics.ingest.tasks import run_ingest
from tests.ingest.helpers import ct_record, records_file


def accept(source, numbers, name):
    body = io.BytesIO(records_file([ct_record(n) for n in numbers]))
    return services.accept(source, body, filename=name, via="api")


@pytest.mark.django_db
def test_a_worker_runs_the_queued_files_behind_its_own(source, settings):
    settings.CORRELATE_AFTER_INGEST = False
    first = accept(source, [1, 2], "a.json")
    second = accept(source, [3], "b.json")
    third = accept(source, [2, 4], "c.json")
    run_ingest(first.pk)
    batches = IngestBatch.objects.order_by("pk")
    assert [(b.status, b.stored, b.duplicates) for b in batches] == [
        ("done", 2, 0),
        ("done", 1, 0),
        ("done", 1, 1),
    ]
    assert Event.objects.count() == 4
    # Their own messages arrive later and find nothing left to do.
    run_ingest(second.pk)
    run_ingest(third.pk)
    assert Event.objects.count() == 4
    assert IngestBatch.objects.get(pk=third.pk).stored == 1


@pytest.mark.django_db
def test_companions_stay_within_the_group_limits(source, settings):
    settings.INGEST_GROUP_FILES = 2
    first = accept(source, [1], "a.json")
    second = accept(source, [2], "b.json")
    accept(source, [3], "c.json")
    assert claims.companions(first.pk) == [second.pk]
    settings.INGEST_GROUP_FILES = 10
    settings.INGEST_GROUP_BYTES = second.size + 1
    assert claims.companions(first.pk) == [second.pk]


@pytest.mark.django_db(transaction=True)
def test_a_batch_held_by_another_worker_is_left_to_it(source, settings):
    if connection.vendor != "postgresql":
        pytest.skip("claims are PostgreSQL advisory locks; SQLite has a single writer")
    settings.CORRELATE_AFTER_INGEST = False
    held = accept(source, [1], "a.json")
    free = accept(source, [2], "b.json")
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_worker():
        try:
            with claims.claimed([held.pk]) as got:
                assert got == [held.pk]
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert holding.wait(30)
    try:
        assert "another worker" in run_ingest(held.pk)
        assert IngestBatch.objects.get(pk=held.pk).status == IngestBatch.QUEUED
        run_ingest(free.pk)  # the held batch is not taken along either
        assert IngestBatch.objects.get(pk=held.pk).status == IngestBatch.QUEUED
        assert IngestBatch.objects.get(pk=free.pk).status == IngestBatch.DONE
    finally:
        release.set()
        thread.join(30)
    assert done.is_set()
    run_ingest(held.pk)  # released: now it runs
    assert IngestBatch.objects.get(pk=held.pk).status == IngestBatch.DONE
