"""A record whose event id another record holds for a different event: kept in quarantine
with why, never stored over it nor called its duplicate (nothing is lost in silence)."""

from __future__ import annotations

import io

import pytest

from forensics.ingest import services
from forensics.ingest.models import Event, IngestBatch, QuarantinedRecord, Source
from tests.ingest.helpers import counts, ct_record, records_file

pytestmark = pytest.mark.django_db


def ingest(source: Source, content: bytes, name: str) -> IngestBatch:
    batch = services.accept(source, io.BytesIO(content), filename=name, via="api")
    return services.run_batch(batch.pk)


def _another_caller() -> dict[str, str]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEROLE00001:mallory",
        "arn": "arn:aws:sts::444455556666:assumed-role/Contractor/mallory",
        "accountId": "444455556666",
        "accessKeyId": "ASIAEXAMPLEKEY000009",
    }


def test_a_different_event_under_a_stored_id_is_quarantined_naming_the_event(source):
    first = ingest(source, records_file([ct_record(1)]), "a.json")
    reused = ct_record(1, userIdentity=_another_caller(), sourceIPAddress="203.0.113.9")

    batch = ingest(source, records_file([reused, ct_record(2)]), "b.json")

    assert counts(first) == (1, 1, 0, 0)
    assert counts(batch) == (2, 1, 0, 1)
    stored = Event.objects.get(source_event_id=reused["eventID"])
    assert stored.actor_principal == "arn:aws:iam::111122223333:user/alice"
    kept = QuarantinedRecord.objects.get(batch=batch)
    assert kept.position == "record 1" and "assumed-role/Contractor/mallory" in kept.raw
    assert f"event id {reused['eventID']} is also that of stored event {stored.pk}" in kept.error
    assert "actor_principal, source_address differ" in kept.error


def test_two_events_under_one_id_in_one_file_keep_the_first_and_quarantine_the_other(source):
    reused = ct_record(1, userIdentity=_another_caller())

    batch = ingest(source, records_file([ct_record(1), reused]), "a.json")

    assert counts(batch) == (2, 1, 0, 1)
    kept = QuarantinedRecord.objects.get()
    assert kept.position == "record 2"
    assert "another record of this chunk" in kept.error and "actor_principal differ" in kept.error


def test_the_same_event_delivered_again_differently_written_is_a_duplicate(source):
    ingest(source, records_file([ct_record(1)]), "a.json")
    # Same event, another delivery: other bytes (time precision, agent), same call and caller.
    again = ct_record(1, eventTime="2026-10-05T08:00:01.000Z", userAgent="aws-cli/2.15.11")

    batch = ingest(source, records_file([again, ct_record(1)]), "b.json")

    assert counts(batch) == (2, 0, 2, 0)
    assert not QuarantinedRecord.objects.exists()


def test_the_same_file_again_holds_its_different_event_once(source):
    records = records_file([ct_record(1), ct_record(1, userIdentity=_another_caller())])
    first = ingest(source, records, "a.json")
    again = ingest(source, records, "a-again.json")
    assert counts(first) == (2, 1, 0, 1)
    assert counts(again) == (2, 0, 2, 0)
    assert QuarantinedRecord.objects.count() == 1
