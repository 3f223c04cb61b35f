"""Ingest service: re-runs, the sweeper, personal-data rules."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from forensics.engine.parsers import UnknownFormat
from forensics.ingest import services
from forensics.ingest.models import Event, IngestBatch, PersonalDataRule, QuarantinedRecord
from forensics.ingest.personal_data import reflag_events
from forensics.ingest.tasks import sweep_batches
from tests.conftest import SAMPLES
from tests.ingest.helpers import ct_record, jsonl, records_file

pytestmark = pytest.mark.django_db


def accept(source, records, name="t.json"):
    return services.accept(source, io.BytesIO(records_file(records)), filename=name, via="api")


def test_an_accepted_batch_is_durable_and_queued_before_any_work(source):
    batch = accept(source, [ct_record(1)])
    assert batch.status == IngestBatch.QUEUED
    assert batch.detected_format == "cloudtrail"
    assert Event.objects.count() == 0


def test_re_running_an_interrupted_batch_counts_its_own_rows_as_stored(source):
    batch = accept(source, [ct_record(i) for i in range(6)])
    services.run_batch(batch.pk)
    # Simulate a worker that died after storing: the batch is handed out again.
    IngestBatch.objects.filter(pk=batch.pk).update(status=IngestBatch.RUNNING)
    again = services.run_batch(batch.pk)
    assert (again.received, again.stored, again.duplicates) == (6, 6, 0)
    assert Event.objects.count() == 6


def test_the_sweeper_picks_up_a_batch_whose_message_was_lost(source):
    batch = accept(source, [ct_record(1), ct_record(2)])
    IngestBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_batches() == 1
    batch.refresh_from_db()
    assert batch.status == IngestBatch.DONE
    assert batch.stored == 2


def test_the_sweeper_leaves_fresh_and_finished_batches_alone(source):
    fresh = accept(source, [ct_record(1)])
    done = accept(source, [ct_record(2)], name="u.json")
    services.run_batch(done.pk)
    IngestBatch.objects.filter(pk=done.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_batches() == 0
    fresh.refresh_from_db()
    assert fresh.status == IngestBatch.QUEUED


def test_personal_data_rules_flag_on_ingest_and_reflag_on_change(source):
    PersonalDataRule.objects.create(
        name="payroll", source_kind="cloudtrail", pattern="s3://hr-payroll/*"
    )
    batch = accept(
        source, [ct_record(1), ct_record(2, requestParameters={"bucketName": "logs", "key": "x"})]
    )
    services.run_batch(batch.pk)
    flags = dict(Event.objects.values_list("resource", "personal_data"))
    assert flags == {"s3://hr-payroll/2026/payroll-1.csv": True, "s3://logs/x": False}
    PersonalDataRule.objects.create(name="logs", pattern_type="contains", pattern="//LOGS/")
    assert reflag_events() == 1
    assert Event.objects.filter(personal_data=True).count() == 2
    PersonalDataRule.objects.all().update(enabled=False)
    assert reflag_events() == 2
    assert not Event.objects.filter(personal_data=True).exists()


def test_a_rule_for_another_source_kind_does_not_match(source):
    PersonalDataRule.objects.create(name="k8s only", source_kind="k8s_audit", pattern="*payroll*")
    batch = accept(source, [ct_record(1)])
    services.run_batch(batch.pk)
    assert not Event.objects.filter(personal_data=True).exists()


def test_a_record_repeated_in_a_later_chunk_is_a_duplicate(source, settings):
    settings.INGEST_BATCH_ROWS = 2
    batch = accept(source, [ct_record(1), ct_record(2), ct_record(3), ct_record(1)])
    done = services.run_batch(batch.pk)
    assert (done.received, done.stored, done.duplicates) == (4, 3, 1)


def test_a_re_run_still_counts_a_repeated_record_as_a_duplicate(source, settings):
    settings.INGEST_BATCH_ROWS = 2
    batch = accept(source, [ct_record(1), ct_record(2), ct_record(3), ct_record(1)])
    services.run_batch(batch.pk)
    IngestBatch.objects.filter(pk=batch.pk).update(status=IngestBatch.RUNNING)
    again = services.run_batch(batch.pk)
    assert (again.received, again.stored, again.duplicates) == (4, 3, 1)
    assert Event.objects.count() == 3


def test_batches_run_together_keep_their_own_counts(source, settings):
    settings.INGEST_BATCH_ROWS = 3  # flushes that mix the rows of both files
    first = accept(source, [ct_record(1), ct_record(2), ct_record(3), ct_record(2)])
    second = services.accept(
        source,
        io.BytesIO(records_file([ct_record(3), ct_record(4)]) + b"\n{broken"),
        filename="u.json",
        via="api",
    )
    done = services.run_batches([first.pk, second.pk])
    got = [(b.received, b.stored, b.duplicates, b.quarantined, b.status) for b in done]
    # The record both files carry is stored for the first file and a duplicate for the second.
    assert got == [(4, 3, 1, 0, "done"), (3, 1, 1, 1, "done")]
    assert Event.objects.filter(batch_id=second.pk).count() == 1
    assert second.quarantine.count() == 1


def test_re_running_batches_together_counts_each_batch_like_its_first_run(source, settings):
    settings.INGEST_BATCH_ROWS = 2
    first = accept(source, [ct_record(1), ct_record(2), ct_record(1)])
    second = accept(source, [ct_record(2), ct_record(5)], name="u.json")
    before = [
        (b.received, b.stored, b.duplicates) for b in services.run_batches([first.pk, second.pk])
    ]
    IngestBatch.objects.update(status=IngestBatch.RUNNING)
    again = [
        (b.received, b.stored, b.duplicates) for b in services.run_batches([first.pk, second.pk])
    ]
    assert before == again == [(3, 2, 1), (2, 1, 1)]
    assert Event.objects.count() == 3


def test_ingest_paths_reports_each_file_in_order_and_refuses_unknown_ones(source, tmp_path):
    good = tmp_path / "a.json"
    good.write_bytes(records_file([ct_record(1)]))
    odd = tmp_path / "b.json"
    odd.write_bytes(b'{"hello": "world"}\n')
    later = tmp_path / "c.json"
    later.write_bytes(records_file([ct_record(2), ct_record(3)]))
    results = list(services.ingest_paths(source, [good, odd, later]))
    assert [p for p, _ in results] == [good, odd, later]
    assert [b.stored for _, b in (results[0], results[2])] == [1, 2]
    assert "unrecognized log format" in results[1][1]


def test_batches_run_together_are_correlated_together(
    source, django_capture_on_commit_callbacks, monkeypatch
):
    from forensics.identities.tasks import correlate_batches

    sent = []
    original = correlate_batches.delay
    monkeypatch.setattr(correlate_batches, "delay", lambda ids: sent.append(ids) or original(ids))
    first = accept(source, [ct_record(1), ct_record(2)])
    second = accept(source, [ct_record(3)], name="u.json")
    empty = accept(source, [ct_record(1)], name="v.json")  # stores nothing: all duplicates
    with django_capture_on_commit_callbacks(execute=True):
        services.run_batches([first.pk, second.pk, empty.pk])
    assert sent == [[first.pk, second.pk]]
    assert Event.objects.count() == 3
    assert not Event.objects.filter(attribution__isnull=True).exists()


def test_a_big_file_is_ingested_alone_between_groups(source, tmp_path, settings, monkeypatch):
    files = []
    for n in range(4):
        path = tmp_path / f"{n}.json"
        records = [ct_record(n * 100 + i) for i in range(30 if n == 2 else 1)]
        path.write_bytes(records_file(records))
        files.append(path)
    settings.INGEST_GROUP_BYTES = files[2].stat().st_size
    groups = []
    run = services.run_batches
    monkeypatch.setattr(
        services, "run_batches", lambda ids, progress=None: groups.append(len(ids)) or run(ids)
    )
    results = list(services.ingest_paths(source, files))
    assert [b.stored for _, b in results] == [1, 1, 30, 1]
    assert groups == [2, 1, 1]


def test_entries_exported_from_a_sink_and_from_bigquery_are_stored_once(source):
    gcp = SAMPLES / "gcp_audit"
    results = dict(
        services.ingest_paths(
            source, [gcp / "cloudaudit_sink.jsonl", gcp / "bigquery_export.jsonl"]
        )
    )
    sink, bigquery = results.values()
    assert (sink.stored, sink.duplicates) == (12, 0)
    assert (bigquery.received, bigquery.stored, bigquery.duplicates) == (3, 0, 3)


@pytest.mark.parametrize(
    ("source_file", "other_export"),
    [
        ("k8s_audit/audit.log", "k8s_audit/eks_filter_log_events.json"),
        ("k8s_audit/audit.log", "k8s_audit/eks_export_000000.gz"),
        ("cloudtrail/saml_role_chain.json", "cloudtrail/cloudwatch_firehose_delivery.gz"),
        ("k8s_audit/aks_PT1H.json", "k8s_audit/aks_log_analytics.json"),
        ("entra/log_analytics_signins.json", "entra/log_analytics_query_api.json"),
        ("okta/system_log_export.jsonl", "okta/eventbridge_log_stream.jsonl"),
        ("ocsf/events.ocsf.jsonl", "ocsf/security_lake_api_activity.gz.parquet"),
    ],
)
def test_the_same_records_from_another_export_are_the_same_events(
    source, source_file, other_export
):
    # One run after the other: files run together share their chunks, and there a
    # Kubernetes record can be kept from either file (the greater raw SHA-256 wins a tie).
    ((_, first),) = services.ingest_paths(source, [SAMPLES / source_file])
    events = Event.objects.count()
    ((_, again),) = services.ingest_paths(source, [SAMPLES / other_export])
    assert first.stored > 0 and first.quarantined == 0
    assert again.received > 0
    assert (again.stored, again.quarantined) == (0, 0)
    assert again.duplicates == again.received
    assert Event.objects.count() == events
    assert again.detected_format == first.detected_format


def test_characters_no_column_can_hold_are_replaced_and_counted(source):
    # JSON escapes them (json.dumps writes \u0000 and \udc00); PostgreSQL refuses NUL in
    # text and jsonb, and an unpaired surrogate cannot be encoded at all.
    records = [
        ct_record(1, userAgent="Mozilla/5.0 \udc00x"),  # a truncated UTF-16 string
        ct_record(2, errorCode="AccessDenied", errorMessage="denied for a\x00b"),
        ct_record(3, requestParameters={"bucketName": "hr\x00payroll", "key\x00": "k"}),
        ct_record(4),
    ]
    batch = services.run_batch(accept(source, records).pk)
    assert (batch.received, batch.stored, batch.duplicates, batch.quarantined) == (4, 4, 0, 0)
    by_n = {int(e.source_event_id[-1]): e for e in Event.objects.all()}
    assert by_n[1].user_agent == "Mozilla/5.0 \ufffdx"
    assert "\\udc00" in by_n[1].raw  # the record's own text keeps its escape
    assert "a\ufffdb" in str(by_n[2].attrs)
    assert by_n[3].resource == "s3://hr\ufffdpayroll"
    assert [by_n[n].attrs.get("replaced_characters") for n in (1, 2, 3, 4)] == ["1", "1", "1", None]


def test_a_quarantined_record_holding_a_nul_is_kept_as_shown(source):
    content = jsonl([ct_record(1)]) + b'{"eventID": "x\x00y"\n' + jsonl([ct_record(3)])
    batch = services.accept(source, io.BytesIO(content), filename="t.jsonl", via="api")
    batch = services.run_batch(batch.pk)
    assert (batch.received, batch.stored, batch.quarantined) == (3, 2, 1)
    (bad,) = QuarantinedRecord.objects.all()
    assert bad.raw == '{"eventID": "x\ufffdy"' and bad.position.startswith("line 2")


def test_a_cloudtrail_record_with_a_bad_byte_is_quarantined_and_the_rest_stored(source):
    # Every record on one line in a Records wrapper, as CloudTrail writes its files: the bad
    # byte costs its own record only, and the counts add up.
    records = [json.dumps(ct_record(n)).encode() for n in range(1, 5)]
    records[1] = records[1].replace(b'"userAgent": "', b'"userAgent": "\xc3(', 1)
    content = b'{"Records": [' + b", ".join(records) + b"]}"
    batch = services.accept(source, io.BytesIO(content), filename="t.json", via="api")
    batch = services.run_batch(batch.pk)
    assert (batch.received, batch.stored, batch.quarantined) == (4, 3, 1)
    (bad,) = QuarantinedRecord.objects.all()
    assert bad.position == "record 2" and bad.error.startswith("invalid UTF-8 at byte ")
    assert "\ufffd(" in bad.raw  # as shown; the raw store keeps the file's bytes
    assert sorted(int(e.source_event_id[-1]) for e in Event.objects.all()) == [1, 3, 4]


def test_a_value_the_database_refuses_fails_its_own_file_and_no_other(source, monkeypatch):
    from django.db import DataError

    from forensics.core import bulk

    insert = bulk.insert

    def refusing(cursor, model, columns, rows):
        rows = list(rows)
        if any("refuse-me" in str(row) for row in rows):
            raise DataError("invalid byte sequence for encoding")
        return insert(cursor, model, columns, rows)

    monkeypatch.setattr(bulk, "insert", refusing)
    files = [
        accept(source, [ct_record(1)], "a.json"),
        accept(source, [ct_record(2, userAgent="refuse-me")], "b.json"),
        accept(source, [ct_record(3)], "c.json"),
    ]
    a, b, c = services.run_batches([f.pk for f in files])
    assert [(x.status, x.stored) for x in (a, c)] == [(IngestBatch.DONE, 1)] * 2
    assert b.status == IngestBatch.FAILED
    assert "refused a record of this file: invalid byte sequence" in b.error
    assert Event.objects.count() == 2


def test_a_batch_or_source_with_stored_events_cannot_be_deleted(source):
    # The event table's references carry no database constraint (it would be checked for
    # every stored event); Django's PROTECT keeps the provenance of every event instead.
    from django.db.models import ProtectedError

    batch = accept(source, [ct_record(1)])
    services.run_batch(batch.pk)
    with pytest.raises(ProtectedError):
        IngestBatch.objects.get(pk=batch.pk).delete()
    with pytest.raises(ProtectedError):
        source.delete()
    assert Event.objects.filter(batch_id=batch.pk, source_id=source.pk).count() == 1


@pytest.mark.parametrize("shape", ["records", "array", "lines", "pretty lines"])
def test_a_first_record_longer_than_the_format_check_reads_is_still_recognized(source, shape):
    # Only the first SNIFF_BYTES are read before the first record is looked at.
    big = ct_record(1, requestParameters={"pad": "x" * (4 * services.SNIFF_BYTES)})
    records = [big, ct_record(2)]
    body = {
        "records": records_file(records),
        "array": json.dumps(records).encode(),
        "lines": jsonl(records),
        "pretty lines": b"\n".join(json.dumps(r, indent=2).encode() for r in records),
    }[shape]
    batch = services.accept(source, io.BytesIO(body), filename="big.json", via="api")
    assert batch.detected_format == "cloudtrail"
    done = services.run_batch(batch.pk)
    assert (done.received, done.stored, done.quarantined) == (2, 2, 0)


def test_a_zip_archive_of_log_files_is_one_batch_whose_counts_add_up(source):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("trail/a.json", records_file([ct_record(1), ct_record(2)]))
        zf.writestr("trail/b.jsonl", jsonl([ct_record(2), ct_record(3)]) + b"not json\n")
        zf.writestr("__MACOSX/trail/._a.json", b"\x00\x05\x16\x07")
    batch = services.accept(source, io.BytesIO(out.getvalue()), filename="t.zip", via="api")
    assert batch.detected_format == "cloudtrail"
    batch = services.run_batch(batch.pk)
    counts = (batch.received, batch.stored, batch.duplicates, batch.quarantined)
    assert counts == (5, 3, 1, 1)
    positions = dict(Event.objects.values_list("source_event_id", "position"))
    assert positions[ct_record(3)["eventID"]] == "trail/b.jsonl: line 2"
    assert QuarantinedRecord.objects.get().position == "trail/b.jsonl: line 3"


def test_a_zip_of_every_sample_stores_the_events_the_files_store_one_by_one(source, tmp_path):
    # One archive of every producer's files: each record is read by its own format's parser.
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md")
    archive = tmp_path / "samples.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, path.relative_to(SAMPLES))
    ((_, zipped),) = services.ingest_paths(source, [archive])
    assert zipped.quarantined == 0 and not zipped.error
    stored = sorted(Event.objects.values_list("dedupe_key", "source_kind"))
    Event.objects.all().delete()

    batches = [b for _, b in services.ingest_paths(source, files)]
    assert sorted(Event.objects.values_list("dedupe_key", "source_kind")) == stored
    assert zipped.received == sum(b.received for b in batches)
    assert zipped.stored == len(stored)


def test_a_page_or_an_error_saved_in_place_of_the_logs_is_refused_by_what_it_is(source):
    page = gzip.compress(b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    with pytest.raises(UnknownFormat, match=r'^an HTML page titled "Sign in", not log records'):
        services.accept(source, io.BytesIO(page), filename="trail.json.gz", via="api")
    error = b'{"errorCode": "E0000011", "errorSummary": "Invalid token provided"}'
    with pytest.raises(UnknownFormat, match=r"^an Okta API error response \(E0000011: "):
        services.accept(source, io.BytesIO(error), filename="okta.json", via="api")
    assert not IngestBatch.objects.exists()
