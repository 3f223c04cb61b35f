"""Keyed correlation locks: workers on different chains run side by side, a late issuer is
never lost between a correlator and an arrival, and shares of the store add up to the whole."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction

from forensics.identities import locks, services
from forensics.ingest.models import Attribution, Event, EventWait
from tests.conftest import SAMPLES
from tests.identities.test_correlation_service import SAML, split_records

pytestmark = pytest.mark.django_db(transaction=True)
GET_OBJECT = "5b0d2a6c-9f1e-4c3b-8a7d-1e2f3a4b5c03"
FEDERATION = SAMPLES / "cloudtrail" / "federation_token.json"
TIMEOUT = 60  # seconds; only ever reached when a worker is stuck, i.e. the test fails

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="advisory locks exist on PostgreSQL only; SQLite lets one writer in at a time",
)


class Worker(threading.Thread):
    """Runs ``work`` on its own database connection and keeps its result or error."""

    def __init__(self, name: str, work: Callable[[], Any]) -> None:
        super().__init__(name=name, daemon=True)
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.pid: int | None = None

    def run(self) -> None:
        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid if _postgres() else None
            self.result = self.work()
        except BaseException as exc:
            self.error = exc
        finally:
            connections.close_all()

    def finish(self) -> Any:
        self.join(TIMEOUT)
        assert not self.is_alive(), f"worker {self.name} did not finish"
        if self.error is not None:
            raise self.error
        return self.result


class Pause:
    """Stops the named worker the first time it passes a hook, until ``go`` is set."""

    made: list[Pause] = []

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.reached = threading.Event()
        self.go = threading.Event()
        self.made.append(self)

    def __call__(self) -> None:
        if threading.current_thread().name == self.worker and not self.reached.is_set():
            self.reached.set()
            assert self.go.wait(TIMEOUT), "never released"

    def wait(self) -> None:
        assert self.reached.wait(TIMEOUT), f"worker {self.worker} never reached the pause"


@pytest.fixture(autouse=True)
def _release_paused_workers():
    """A failing test still lets its paused workers finish, so the database can be reset."""
    yield
    while Pause.made:
        Pause.made.pop().go.set()


def pause_after(monkeypatch: pytest.MonkeyPatch, name: str, pause: Pause, when=None) -> None:
    """Make ``services.<name>`` pause ``pause.worker`` once it returns (and ``when(result)``)."""
    original = getattr(services, name)

    def paused(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when is None or when(result):
            pause()
        return result

    monkeypatch.setattr(services, name, paused)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _event(source_event_id: str) -> Event:
    return Event.objects.get(source_event_id=source_event_id)


def _bucket(event: Event) -> int:
    return locks.chain_bucket(event.credential_used, event.actor_principal)


def _awaited(pid: int) -> tuple[list[int], set[tuple[int, int]]]:
    """Who holds what this backend waits for, and which of our advisory locks it waits for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
        blockers = list(cursor.fetchone()[0])
        cursor.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 2 AND NOT granted AND pid = %s",
            [pid],
        )
        return blockers, set(cursor.fetchall())


def _wait_until_blocked(worker: Worker, by: Worker, namespace: int) -> set[tuple[int, int]]:
    """Until ``worker`` waits for one of ``namespace``'s locks that ``by`` holds (each round
    asks PostgreSQL; no sleep); returns the locks it waits for."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert worker.is_alive(), f"worker {worker.name} finished without waiting"
        if worker.pid is None:
            continue
        blockers, waiting = _awaited(worker.pid)
        if by.pid in blockers and {ns for ns, _ in waiting} == {namespace}:
            return waiting
    pytest.fail(f"worker {worker.name} never waited for a lock of {by.name}")


def _advisory_locks(pid: int | None) -> set[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND pid = %s",
            [pid],
        )
        return set(cursor.fetchall())


@postgres_only
def test_workers_on_two_chains_correlate_side_by_side(ingest_sample, monkeypatch):
    ingest_sample("cloudtrail/saml_role_chain.json", "cloudtrail/federation_token.json")
    read = _event(GET_OBJECT)
    others = list(Event.objects.filter(batch__filename=FEDERATION.name))
    assert others and _bucket(read) not in {_bucket(e) for e in others}
    pause = Pause("a")
    pause_after(monkeypatch, "write_back", pause)
    a = Worker("a", lambda: services.correlate_ids([read.pk]))
    a.start()
    pause.wait()
    # Inside its transaction A holds the lock of its own chain, and only that.
    assert _advisory_locks(a.pid) == {(locks.EVENT_LOCKS, _bucket(read))}
    b = Worker("b", lambda: services.correlate_ids([e.pk for e in others]))
    b.start()
    assert b.finish().events == len(others)
    assert a.is_alive()
    pause.go.set()
    assert a.finish().events == 1
    assert _event(GET_OBJECT).status == "attributed"


@postgres_only
def test_a_second_worker_on_the_same_chain_waits_for_the_first_before_reading(
    ingest_sample, monkeypatch
):
    ingest_sample("cloudtrail/saml_role_chain.json")
    read = _event(GET_OBJECT)
    pause = Pause("a")
    pause_after(monkeypatch, "write_back", pause)
    a = Worker("a", lambda: services.correlate_ids([read.pk]))
    a.start()
    pause.wait()
    b = Worker("b", lambda: services.correlate_ids([read.pk]))
    b.start()
    # B waits for A's chain lock before reading anything, not for A's rows.
    assert _wait_until_blocked(b, by=a, namespace=locks.EVENT_LOCKS) == {
        (locks.EVENT_LOCKS, _bucket(read))
    }
    pause.go.set()
    a.finish()
    b.finish()
    assert _event(GET_OBJECT).status == "attributed"


@postgres_only
def test_a_directory_change_waits_for_correlations_in_flight_before_choosing_events(
    ingest_sample, monkeypatch
):
    ingest_sample("cloudtrail/saml_role_chain.json")
    read = _event(GET_OBJECT)
    assert read.status == "attributed"
    # A computes with the directory as it was before the change: its (stale) result
    # leaves the read unattributed, and it is still writing when the change is handled.
    original = services.attribute_all

    def stale(*args: Any, **kwargs: Any) -> Any:
        results = original(*args, **kwargs)
        if threading.current_thread().name != "a":
            return results
        return [
            dataclasses.replace(r, status="unattributed", reason="unknown_principal", origin=None)
            for r in results
        ]

    monkeypatch.setattr(services, "attribute_all", stale)
    pause = Pause("a")
    pause_after(monkeypatch, "write_back", pause)
    a = Worker("a", lambda: services.correlate_ids([read.pk]))
    a.start()
    pause.wait()
    changed = Worker("changed", lambda: services.identities_changed([]))
    changed.start()
    _wait_until_blocked(changed, by=a, namespace=locks.EVENT_LOCKS)
    pause.go.set()
    a.finish()
    changed.finish()
    # The re-attribution chose its events after A had stored its result, so it found the
    # read unattributed and attributed it again with the current directory.
    assert _event(GET_OBJECT).status == "attributed"


def _late_issuer(paths: list[Path], tmp: Path) -> tuple[list[Path], Path]:
    """Stored: the SAML sign-in; late: the call that issued the read's key."""
    saml, assume, _get = paths
    return [saml], assume


def _second_issuer(paths: list[Path], tmp: Path) -> tuple[list[Path], Path]:
    """Stored: the whole chain; late: another call handing out the same key (a
    contradiction to report, not a chain to pick)."""
    saml, assume, _get = paths
    record = json.loads(assume.read_text())["Records"][0]
    record["eventID"] = "5b0d2a6c-9f1e-4c3b-8a7d-1e2f3a4b5c99"
    record["requestID"] = "second-issuer"
    second = tmp / "second_issuer.json"
    second.write_text(json.dumps({"Records": [record]}))
    return [saml, assume], second


@postgres_only
@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        (_late_issuer, ("attributed", "")),
        (_second_issuer, ("unattributed", "conflicting_evidence")),
    ],
    ids=["late-issuer", "second-issuer"],
)
def test_an_issuer_stored_while_its_dependant_is_being_correlated_is_not_lost(
    source, ingest_files, tmp_path, settings, monkeypatch, arrange, expected
):
    parts = split_records(SAML, tmp_path, strip_source_identity=True)
    first, late = arrange(parts, tmp_path)
    # The issuers are correlated as they come (so the origin's identity exists); the read
    # is stored but not correlated yet: it has no waits.
    ingest_files(source, *first)
    settings.CORRELATE_AFTER_INGEST = False
    ingest_files(source, parts[2])
    read = _event(GET_OBJECT)
    pause = Pause("correlator")
    pause_after(monkeypatch, "write_back", pause)
    correlator = Worker("correlator", lambda: services.correlate_ids([read.pk]))
    correlator.start()
    pause.wait()
    (batch,) = ingest_files(source, late)
    issuer = Event.objects.get(batch=batch)
    assert _bucket(issuer) != _bucket(read)
    arrival = Worker("arrival", lambda: services.correlate_batch(batch.pk))
    arrival.start()
    arrival.finish()
    # The correlator's waits were not committed yet: the arrival could not find the read.
    assert _event(GET_OBJECT).correlated_at is None
    pause.go.set()
    correlator.finish()
    read.refresh_from_db()
    assert (read.status, read.reason) == expected
    # The same as correlating it now from scratch.
    services.correlate_ids([read.pk])
    again = _event(GET_OBJECT)
    assert (again.status, again.reason, again.hops) == (read.status, read.reason, read.hops)


@postgres_only
def test_an_arrival_waits_for_a_correlator_past_its_recheck_and_then_finds_its_waits(
    source, ingest_files, tmp_path, settings, monkeypatch
):
    settings.CORRELATE_AFTER_INGEST = False
    saml, assume, get = split_records(SAML, tmp_path, strip_source_identity=True)
    ingest_files(source, saml, get)
    read = _event(GET_OBJECT)
    pause = Pause("correlator")
    pause_after(monkeypatch, "_stored_since", pause, when=lambda fresh: not fresh)
    correlator = Worker("correlator", lambda: services.correlate_ids([read.pk]))
    correlator.start()
    pause.wait()
    (batch,) = ingest_files(source, assume)  # stored after the correlator's re-check
    arrival = Worker("arrival", lambda: services.correlate_batch(batch.pk))
    arrival.start()
    _wait_until_blocked(arrival, by=correlator, namespace=locks.KEY_LOCKS)
    pause.go.set()
    correlator.finish()
    # Its own event and the read, found through the waits the correlator committed.
    assert arrival.finish().events == 2
    read.refresh_from_db()
    assert read.status == "attributed"
    assert [h["method"] for h in read.hops] == ["saml-federation", "assume-role"]


def _attributions() -> tuple[dict[str, tuple[Any, ...]], set[tuple[str, str]]]:
    results = {
        e.dedupe_key: (e.status, e.reason, e.origin_id, e.hops, e.evidence, e.chain_label)
        for e in Event.objects.all()
    }
    waits = set(EventWait.objects.values_list("event__dedupe_key", "key"))
    return results, waits


@pytest.mark.parametrize("side_by_side", [False, True], ids=["one-after-other", "side-by-side"])
def test_two_shares_correlate_the_store_like_one_whole_run(ingest_sample, side_by_side):
    if side_by_side and not _postgres():
        pytest.skip("side by side needs PostgreSQL; SQLite lets one writer in at a time")
    ingest_sample(
        "cloudtrail/saml_role_chain.json",
        "cloudtrail/federation_token.json",
        "cloudtrail/shared_iam_user.json",
        "cloudtrail/cross_account_assume_role.json",
        "cloudtrail/eks_irsa.jsonl",
        "okta/system_log_export.jsonl",
        "entra/graph_signins.json",
        "azure_activity/activity_log_api.json",
    )
    whole = services.correlate_all()
    expected = _attributions()
    Attribution.objects.all().delete()  # never correlated
    EventWait.objects.all().delete()
    if side_by_side:
        workers = [
            Worker(f"share{i}", lambda i=i: services.correlate_all(share=(i, 2))) for i in (0, 1)
        ]
        for w in workers:
            w.start()
        parts = [w.finish() for w in workers]
    else:
        parts = [services.correlate_all(share=(i, 2)) for i in (0, 1)]
    assert all(part.events for part in parts)
    assert sum(part.events for part in parts) == whole.events == Event.objects.count()
    assert _attributions() == expected


def test_shares_split_the_buckets_into_contiguous_ranges_without_gaps(settings):
    settings.CORRELATION_LOCK_BUCKETS = 256
    for n in (1, 2, 3, 7):
        ranges = [locks.share_range((i, n)) for i in range(n)]
        assert [b for r in ranges for b in r] == list(range(256))
    with pytest.raises(ValueError, match="share 2 of 2"):
        locks.share_range((2, 2))


def test_correlation_runs_in_chunks_of_neighbouring_chains(ingest_sample, monkeypatch):
    ingest_sample("cloudtrail/saml_role_chain.json", "cloudtrail/federation_token.json")
    monkeypatch.setattr(services, "CHUNK", 2)
    seen: list[list[int]] = []
    original = services._correlate_chunk

    def record(ids, buckets, grace, span):
        seen.append(buckets)
        return original(ids, buckets, grace, span)

    monkeypatch.setattr(services, "_correlate_chunk", record)
    summary = services.correlate_ids(Event.objects.values_list("pk", flat=True))
    assert summary.events == Event.objects.count() == 5
    order = [b for buckets in seen for b in buckets]
    assert order == sorted(order)
    assert all(len(chunk) <= 2 for chunk in seen)


@postgres_only
def test_a_transaction_aborted_to_end_a_deadlock_runs_again():
    held = {name: threading.Event() for name in ("a", "b")}
    attempts: list[str] = []

    def take(first: int, then: int, mine: str, other: str) -> None:
        attempts.append(mine)
        with transaction.atomic():
            locks.lock(locks.KEY_LOCKS, [first])
            if attempts.count(mine) == 1:
                held[mine].set()
                assert held[other].wait(TIMEOUT)
            locks.lock(locks.KEY_LOCKS, [then])  # the other holds it and wants ours

    workers = [
        Worker("a", lambda: locks.retrying(lambda: take(1, 2, "a", "b"))),
        Worker("b", lambda: locks.retrying(lambda: take(2, 1, "b", "a"))),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.finish()
    # PostgreSQL aborted one of the two; it ran again once the other had committed.
    assert sorted(attempts) in (["a", "a", "b"], ["a", "b", "b"])


@postgres_only
def test_one_grace_period_sweep_runs_at_a_time(ingest_sample, settings):
    settings.CORRELATE_AFTER_INGEST = False
    ingest_sample("cloudtrail/saml_role_chain.json")
    from datetime import timedelta

    from django.utils import timezone

    from forensics.ingest.models import IngestBatch

    IngestBatch.objects.update(finished_at=timezone.now() - timedelta(days=1))
    holder = Worker("sweeper", lambda: None)
    held, release = threading.Event(), threading.Event()

    def sweep_and_wait():
        with locks.sole_sweeper() as mine:
            held.set()
            assert release.wait(TIMEOUT)
            return mine

    holder.work = sweep_and_wait
    holder.start()
    assert held.wait(TIMEOUT)
    try:
        assert services.expire_pending().events == 0  # another sweeper is at work
    finally:
        release.set()
    assert holder.finish() is True
    assert services.expire_pending().events == 3
