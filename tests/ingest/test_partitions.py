"""Monthly partitions of the event table (PostgreSQL) and dedupe that ignores them (both)."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from forensics.cases.models import Case, CaseEvent
from forensics.engine.parsers import get_parser
from forensics.engine.reader import RawRecord
from forensics.identities.services import correlate_all
from forensics.ingest import partitions, rows, services, store
from forensics.ingest.models import (
    Attribution,
    Event,
    EventKey,
    IngestBatch,
    QuarantinedRecord,
    Source,
)
from forensics.ingest.personal_data import load_matcher
from tests.conftest import SAMPLES
from tests.ingest.helpers import counts, ct_record, jsonl, records_file
from tests.investigate import factories

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="partitioning is a PostgreSQL feature; SQLite keeps events in one table",
)


def ingest(source: Source, content: bytes, name: str = "t.json") -> IngestBatch:
    batch = services.accept(source, io.BytesIO(content), filename=name, via="api")
    return services.run_batch(batch.pk)


def placement() -> dict[str, str]:
    """Each stored event's dedupe key and the table (partition) that holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT dedupe_key, tableoid::regclass::text FROM ingest_event")
        return dict(cursor.fetchall())


def attached() -> set[str]:
    with connection.cursor() as cursor:
        return {name for name, _, _ in partitions.partition_list(cursor)}


def k8s_stage(stage: str, stage_time: str) -> dict[str, Any]:
    """The first record of the Kubernetes sample at one stage: same auditID, its own time."""
    with open(SAMPLES / "k8s_audit" / "audit.log", encoding="utf-8") as fh:
        record = json.loads(fh.readline())
    record.update(stage=stage, stageTimestamp=stage_time)
    return record


def row(batch: IngestBatch, record: dict[str, Any]) -> dict[str, Any]:
    """The row ingest would store for a CloudTrail record."""
    raw = RawRecord(index=1, position="record 1", text=json.dumps(record), data=record)
    event = get_parser("cloudtrail").parse(record)
    return rows.event_row(batch, event, raw, load_matcher())


def waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        found = cursor.fetchone()
    return found is not None and found[0] == "Lock"


@postgres_only
def test_the_event_table_is_partitioned_by_range_of_event_time():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'ingest_event'::regclass"
        )
        assert cursor.fetchall() == [("r", "event_time")]
    assert partitions.DEFAULT_PARTITION in attached()


@postgres_only
def test_events_of_two_months_land_in_two_partitions(source):
    october = ct_record(1, eventTime="2026-10-31T23:59:59Z")
    november = ct_record(2, eventTime="2026-11-01T00:00:00Z")
    batch = ingest(source, records_file([october, november]))
    assert counts(batch) == (2, 2, 0, 0)
    assert placement() == {
        f"cloudtrail:{october['eventID']}": "ingest_event_y2026m10",
        f"cloudtrail:{november['eventID']}": "ingest_event_y2026m11",
    }


def lz4_supported() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = %s",
            ["default_toast_compression"],
        )
        return bool(cursor.fetchone()[0])


@postgres_only
def test_records_are_compressed_with_lz4_in_new_and_existing_months(source):
    if not lz4_supported():
        pytest.skip("this PostgreSQL server was built without LZ4")
    # Long enough (over 2 kB) that the row is compressed on the way in.
    record = ct_record(1, eventTime="2031-02-03T00:00:00Z", requestParameters={"note": "x" * 4000})
    ingest(source, records_file([record]))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(raw), tableoid::regclass::text FROM ingest_event"
        )
        assert cursor.fetchall() == [("lz4", "ingest_event_y2031m02")]
        cursor.execute(
            "SELECT DISTINCT attcompression FROM pg_attribute a "
            "JOIN pg_inherits i ON i.inhrelid = a.attrelid "
            "WHERE i.inhparent = 'ingest_event'::regclass AND a.attname IN ('raw', 'attrs')"
        )
        assert cursor.fetchall() == [("l",)]


def reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@postgres_only
def test_a_month_partition_gets_statistics_once_its_first_rows_commit(
    source, django_capture_on_commit_callbacks
):
    # Without them the planner takes a freshly loaded partition for empty, and correlation's
    # write-back joined to it reads the whole partition for every chunk.
    partitions.forget()
    records = [ct_record(n, eventTime="2034-06-01T00:00:00Z") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest(source, records_file(records))
    assert reltuples("ingest_event_y2034m06") < 0  # none before the commit
    for callback in callbacks:
        callback()
    assert reltuples("ingest_event_y2034m06") == 3


def test_a_later_stage_in_another_month_replaces_the_event_and_moves_it(source):
    # The stages of one request share its auditID; the parser takes stageTimestamp, and
    # here the two stages fall in two months (two partitions on PostgreSQL).
    started = k8s_stage("ResponseStarted", "2026-10-31T23:59:59.900000Z")
    complete = k8s_stage("ResponseComplete", "2026-11-01T00:00:00.200000Z")
    first = ingest(source, jsonl([started]), "a.log")
    stored = Event.objects.get()
    again = ingest(source, jsonl([complete]), "b.log")
    assert counts(first) == (1, 1, 0, 0)
    assert counts(again) == (1, 0, 1, 0)
    assert again.replaced == 1
    event = Event.objects.get()
    assert event.pk == stored.pk
    assert event.dedupe_key.startswith(f"k8s_audit:{started['auditID']}@")
    assert (event.event_time.month, event.attrs["audit_stage"]) == (11, "ResponseComplete")
    assert event.batch_id == again.pk
    if connection.vendor == "postgresql":
        assert placement() == {event.dedupe_key: partitions.month_name(date(2026, 11, 1))}
    # The earlier stage sent again stays a plain duplicate and moves nothing back.
    late = ingest(source, jsonl([started]), "c.log")
    assert (counts(late), late.replaced) == ((1, 0, 1, 0), 0)
    assert Event.objects.get().attrs["audit_stage"] == "ResponseComplete"


def test_a_cloudtrail_record_re_delivered_with_another_time_is_stored_once(source):
    first = ingest(source, records_file([ct_record(7)]), "a.json")
    later = ct_record(7, eventTime="2027-02-01T10:00:00Z")
    again = ingest(source, records_file([later, ct_record(8)]), "b.json")
    assert counts(first) == (1, 1, 0, 0)
    assert counts(again) == (2, 1, 1, 0)
    assert Event.objects.filter(source_event_id=later["eventID"]).count() == 1
    assert EventKey.objects.count() == Event.objects.count() == 2


def test_counts_add_up_across_a_re_ingest_and_a_re_run(source):
    records = [
        ct_record(1, eventTime="2026-09-30T23:00:00Z"),
        ct_record(2, eventTime="2026-10-01T01:00:00Z"),
        ct_record(2, eventTime="2026-12-01T01:00:00Z"),  # repeated in the file, later time
        {"eventVersion": "1.09", "eventName": "NoTime"},  # quarantined
        ct_record(3, eventTime="1900-01-01T00:00:00Z"),
    ]
    first = ingest(source, records_file(records), "a.json")
    again = ingest(source, records_file(records), "b.json")
    assert counts(first) == (5, 3, 1, 1)
    # The same file again: its bad record is held already, a duplicate like the rest.
    assert counts(again) == (5, 0, 5, 0)
    assert QuarantinedRecord.objects.count() == 1
    # An interrupted batch run again counts its own rows as stored, not as duplicates.
    IngestBatch.objects.filter(pk=first.pk).update(status=IngestBatch.RUNNING)
    rerun = services.run_batch(first.pk)
    assert counts(rerun) == (5, 3, 1, 1)
    assert QuarantinedRecord.objects.count() == 1
    for batch in (first, again, rerun):
        assert batch.received == batch.stored + batch.duplicates + batch.quarantined
    assert Event.objects.count() == EventKey.objects.count() == 3


@pytest.mark.parametrize("when", ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59Z"])
def test_an_absurd_time_is_stored_without_a_partition_of_its_own(source, when):
    before = attached() if connection.vendor == "postgresql" else set()
    batch = ingest(source, records_file([ct_record(1, eventTime=when)]))
    assert counts(batch) == (1, 1, 0, 0)
    assert Event.objects.get().event_time.year == int(when[:4])
    if connection.vendor == "postgresql":
        assert set(placement().values()) == {partitions.DEFAULT_PARTITION}
        assert attached() == before


@postgres_only
def test_the_default_partition_refuses_rows_a_month_partition_should_hold(source):
    # So no month can be blocked from attaching by rows already in the DEFAULT partition.
    ingest(source, records_file([ct_record(1, eventTime="2026-10-05T00:00:00Z")]))
    with (
        pytest.raises(IntegrityError, match=partitions.DEFAULT_CHECK),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO ingest_event_default SELECT * FROM ingest_event")


@postgres_only
def test_ensuring_a_month_again_with_the_cache_cleared_creates_nothing():
    when = datetime(2031, 5, 9, 12, tzinfo=UTC)
    partitions.ensure_for_times([when])
    partitions.forget()
    partitions.ensure_for_times([when])  # finds the partition attached; creating it would fail
    assert sorted(n for n in attached() if n.startswith("ingest_event_y2031")) == [
        "ingest_event_y2031m05"
    ]


@postgres_only
def test_a_month_the_process_believes_present_but_was_detached_is_made_again(source):
    march = ct_record(1, eventTime="2032-03-03T00:00:00Z")
    ingest(source, records_file([march]), "a.json")
    with connection.cursor() as cursor:
        partitions.detach(cursor, date(2032, 3, 1))
    # What a worker that stored March before the detach still believes:
    partitions._known.setdefault(connection.alias, set()).add(date(2032, 3, 1))
    try:
        late = ct_record(2, eventTime="2032-03-04T00:00:00Z")
        again = ingest(source, records_file([march, late]), "b.json")
    finally:
        partitions.forget()
    assert counts(again) == (2, 1, 1, 0)
    assert placement() == {f"cloudtrail:{late['eventID']}": "ingest_event_y2032m03"}


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("b_records", "month"),
    # Each case its own month: partitions outlive the test that made them.
    [((3, 4), 2), ((4, 5), 4)],
    ids=["one-record-in-common", "disjoint"],
)
def test_two_workers_meeting_a_new_month_both_store_their_rows(b_records, month):
    source = Source.objects.create(name="race")
    batch = IngestBatch.objects.create(
        source=source, via=IngestBatch.API, filename="r.json", sha256="0" * 64, size=1
    )
    warm_up = [row(batch, ct_record(1, eventTime="2033-01-01T00:00:00Z"))]
    rows_a = [row(batch, ct_record(n, eventTime=f"2033-{month:02d}-01T00:00:00Z")) for n in (2, 3)]
    # With a record in common, exactly one of them may store it (B waits for A's claim on
    # it); without, B waits for A's partition of the month.
    rows_b = [
        row(batch, ct_record(n, eventTime=f"2033-{month:02d}-02T00:00:00Z")) for n in b_records
    ]
    a_holds, a_may_commit, b_ready, b_go = (threading.Event() for _ in range(4))
    stored: dict[str, set[str]] = {}
    errors: list[BaseException] = []
    b_pid: list[int] = []

    def worker_a() -> None:
        try:
            with transaction.atomic():
                stored["a"] = store.insert_events(rows_a).stored  # makes the month, holds it
                a_holds.set()
                assert a_may_commit.wait(30)
        except BaseException as exc:
            errors.append(exc)
            a_holds.set()
        finally:
            connection.close()

    def worker_b() -> None:
        try:
            # A session that has ingested before, as a worker has.
            with transaction.atomic():
                store.insert_events(warm_up)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                b_pid.append(cursor.fetchone()[0])
            b_ready.set()
            assert b_go.wait(30)
            with transaction.atomic():
                stored["b"] = store.insert_events(rows_b).stored
        except BaseException as exc:
            errors.append(exc)
            b_ready.set()
        finally:
            connection.close()

    b = threading.Thread(target=worker_b)
    b.start()
    assert b_ready.wait(30)
    a = threading.Thread(target=worker_a)
    a.start()
    assert a_holds.wait(30)
    b_go.set()
    # B gets as far as waiting for A before A commits.
    deadline = time.monotonic() + 30
    while not waiting_on_a_lock(b_pid[0]):
        assert time.monotonic() < deadline and not errors, errors
        threading.Event().wait(0.01)
    a_may_commit.set()
    a.join(30)
    b.join(30)
    assert not errors, errors
    keys = {n: f"cloudtrail:{ct_record(n)['eventID']}" for n in (2, 3, 4, 5)}
    assert stored == {
        "a": {keys[2], keys[3]},
        "b": {keys[n] for n in b_records if n != 3},
    }
    where = placement()
    assert {where[keys[n]] for n in {2, 3, *b_records}} == {f"ingest_event_y2033m{month:02d}"}
    assert Event.objects.filter(dedupe_key=keys[3]).count() == 1


def test_an_event_made_through_the_orm_claims_its_key(source):
    record = ct_record(1)
    key = f"cloudtrail:{record['eventID']}"
    factories.event(dedupe_key=key, event_time=datetime(2034, 6, 1, tzinfo=UTC))
    assert EventKey.objects.filter(dedupe_key=key).exists()
    batch = ingest(source, records_file([record]))
    # Not stored again: the factory's event (another actor) holds the key, so the record
    # is a different event under its id, kept in quarantine rather than called a duplicate.
    assert counts(batch) == (1, 0, 0, 1)
    assert Event.objects.filter(dedupe_key=key).count() == 1
    if connection.vendor == "postgresql":
        assert placement() == {key: "ingest_event_y2034m06"}


def test_deleting_events_releases_their_keys(source):
    records = records_file([ct_record(1), ct_record(2)])
    ingest(source, records, "a.json")
    Event.objects.order_by("id").first().delete()
    assert EventKey.objects.count() == 1
    Event.objects.all().delete()
    assert EventKey.objects.count() == 0
    again = ingest(source, records, "b.json")
    assert counts(again) == (2, 2, 0, 0)


@postgres_only
def test_the_partitions_command_lists_months_and_detaches_one(source):
    october = ct_record(1, eventTime="2026-10-05T00:00:00Z")
    ingest(source, records_file([october, ct_record(2, eventTime="2026-11-05T00:00:00Z")]))
    out = io.StringIO()
    call_command("partitions", stdout=out)
    listing = out.getvalue().splitlines()
    names = [line.split()[0] for line in listing[1:]]
    assert {"ingest_event_y2026m10", "ingest_event_y2026m11"} <= set(names)
    assert names[-1] == partitions.DEFAULT_PARTITION
    out = io.StringIO()
    correlate_all()
    assert Attribution.objects.count() == 2
    call_command("partitions", "--detach", "2026-10", stdout=out)
    assert "ingest_event_y2026m10_detached" in out.getvalue()
    assert "ingest_event_y2026m10" not in attached()
    assert Event.objects.count() == 1
    # The month's attributions leave with it, into a table beside the archived events.
    assert list(Attribution.objects.values_list("event_id", flat=True)) == [Event.objects.get().pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ingest_event_y2026m10_detached_attribution")
        assert cursor.fetchone()[0] == 1
    # The archived month's records stay known: a re-sent one is a duplicate.
    again = ingest(source, records_file([october]), "b.json")
    assert counts(again) == (1, 0, 1, 0)
    assert "ingest_event_y2026m10" not in attached()  # a duplicate needs no partition
    with pytest.raises(CommandError, match="no partition for 2026-10"):
        call_command("partitions", "--detach", "2026-10")


@postgres_only
def test_the_partitions_command_keeps_a_month_a_case_holds_events_of(source, make_user):
    ingest(source, records_file([ct_record(1, eventTime="2026-10-05T00:00:00Z")]))
    case = Case.objects.create(title="payroll", created_by=make_user("ivy", "investigator"))
    CaseEvent.objects.create(case=case, event=Event.objects.get())
    with pytest.raises(CommandError, match="payroll"):
        call_command("partitions", "--detach", "2026-10")
    assert "ingest_event_y2026m10" in attached()


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL lists partitions (tested above)"
)
def test_the_partitions_command_says_partitioning_is_for_postgresql():
    out = io.StringIO()
    call_command("partitions", stdout=out)
    assert "PostgreSQL feature" in out.getvalue()
