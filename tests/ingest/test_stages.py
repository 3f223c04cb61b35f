"""One Kubernetes request logged at several stages: the store converges on its furthest stage."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forensics.engine.parsers import k8s_audit
from forensics.ingest import services
from forensics.ingest.models import Event, EventKey, EventWait, IngestBatch, Source
from forensics.ingest.rows import dedupe_key
from tests.conftest import SAMPLES
from tests.ingest.helpers import ct_record, jsonl, records_file
from tests.investigate import factories

pytestmark = pytest.mark.django_db
STAGES = SAMPLES / "k8s_audit" / "stages.log"
LINES = STAGES.read_text().splitlines(keepends=True)
TOKEN_RR, TOKEN_RC, SECRET_RR, SECRET_RC, EXEC_RR, EXEC_RS, EXEC_RC = range(7)
TOKEN_REQUEST = "0d6b3a8e-5c21-4f97-a1e4-7b9c2f0d8e35"
SECRET_READ = "b2e47c19-8f30-4d6a-9e51-0c3a7d2f6b84"
EXEC = "9a3f7c2e-0b5d-4e18-8c6a-f1d2e3b4a596"


@pytest.fixture(autouse=True)
def _ingest(ingest_files):
    global ingest
    ingest = ingest_files


def write(folder: Path, name: str, *lines: int) -> Path:
    """A log file holding these lines of the sample, byte for byte, in this order."""
    path = folder / name
    path.write_text("".join(LINES[n] for n in lines))
    return path


def stored(audit_id: str) -> dict[str, Any]:
    return Event.objects.filter(source_event_id=audit_id).values(
        "attrs__audit_stage", "outcome", "raw", "raw_sha256", "event_time"
    )[0]


def totals(batches: list[IngestBatch]) -> tuple[int, int, int, int]:
    for b in batches:
        assert b.received == b.stored + b.duplicates + b.quarantined
        assert b.replaced <= b.duplicates
    return tuple(  # type: ignore[return-value]
        sum(getattr(b, f) for b in batches)
        for f in ("received", "stored", "duplicates", "quarantined")
    )


def fresh_source(n: int) -> Source:
    Event.objects.all().delete()  # releases the keys too
    return Source.objects.create(name=f"order-{n}")


def test_every_arrival_order_stores_the_furthest_stage_with_the_same_counts(tmp_path):
    results = set()
    for n, order in enumerate(itertools.permutations([EXEC_RR, EXEC_RS, EXEC_RC])):
        source = fresh_source(n)
        folder = tmp_path / str(n)
        folder.mkdir()
        files = [write(folder, f"{i}.log", line) for i, line in enumerate(order)]
        batches = ingest(source, *files)
        event = stored(EXEC)
        results.add((tuple(event.items()), totals(batches)))
    assert len(results) == 1
    ((event, counts),) = results
    assert dict(event)["attrs__audit_stage"] == "ResponseComplete"
    assert dict(event)["raw"] == LINES[EXEC_RC].rstrip("\n")
    assert counts == (3, 1, 2, 0)


@pytest.mark.parametrize("rows_per_chunk", [1, 2, 5000])
def test_files_run_together_or_one_file_in_any_order_agree(tmp_path, settings, rows_per_chunk):
    # Files given together share their chunks: records of one request meet in a chunk, or
    # in the store, depending on the chunk size.
    settings.INGEST_BATCH_ROWS = rows_per_chunk
    seen = set()
    lines = [TOKEN_RR, TOKEN_RC, EXEC_RR, EXEC_RS, EXEC_RC]
    for n, order in enumerate(
        [lines, lines[::-1], [EXEC_RS, TOKEN_RC, EXEC_RC, TOKEN_RR, EXEC_RR]]
    ):
        source = fresh_source(n)
        folder = tmp_path / str(n)
        folder.mkdir()
        one_file = write(folder, "all.log", *order)
        split = [write(folder, "a.log", *order[:2]), write(folder, "b.log", *order[2:])]
        for paths in ([one_file], split):
            Event.objects.all().delete()
            batches = [b for _, b in services.ingest_paths(source, paths)]
            assert totals(batches) == (5, 2, 3, 0)
            seen.add((tuple(stored(EXEC).items()), tuple(stored(TOKEN_REQUEST).items())))
    assert len(seen) == 1
    assert stored(TOKEN_REQUEST)["outcome"] == "success"
    assert stored(EXEC)["attrs__audit_stage"] == "ResponseComplete"


def test_a_replaced_event_keeps_its_id_and_is_correlated_again(
    source, tmp_path, django_capture_on_commit_callbacks
):
    (early,) = ingest(source, write(tmp_path, "early.log", TOKEN_RR))
    token = Event.objects.get()
    assert (token.outcome, token.credential_issued, token.batch_id) == ("unknown", "", early.pk)
    assert token.status != "pending" and token.correlated_at is not None
    # A value its old result waited on: it leaves with the result.
    EventWait.objects.create(event_id=token.pk, key="a-value-the-early-stage-carried")

    with django_capture_on_commit_callbacks() as correlation:
        late = services.ingest_path(source, write(tmp_path, "late.log", TOKEN_RC))
    assert (late.received, late.stored, late.duplicates, late.replaced) == (1, 0, 1, 1)
    replaced = Event.objects.get()
    assert replaced.pk == token.pk
    assert replaced.raw == LINES[TOKEN_RC].rstrip("\n")
    assert (replaced.outcome, replaced.attrs["audit_stage"]) == ("success", "ResponseComplete")
    assert replaced.credential_issued == "JTI=7f3e2b9c-41d6-4a8e-b05f-9c2d1e6a8b47"
    assert replaced.batch_id == late.pk
    # Its old result is gone until correlation, which the ingest sent for the new batch.
    assert (replaced.status, replaced.hops, replaced.correlated_at) == ("pending", [], None)
    assert replaced.origin_id is None
    assert not EventWait.objects.filter(event_id=token.pk).exists()
    assert len(correlation) == 1
    correlation[0]()
    replaced.refresh_from_db()
    assert (replaced.status, replaced.reason, replaced.origin_id) == (
        token.status,
        token.reason,
        token.origin_id,
    )
    assert replaced.correlated_at > token.correlated_at


def test_a_replaced_event_gives_the_same_attribution_as_the_final_stage_alone(source, tmp_path):
    ingest(source, write(tmp_path, "a.log", TOKEN_RR, SECRET_RC))
    ingest(source, write(tmp_path, "b.log", TOKEN_RC))
    replayed = {e.source_event_id: e for e in Event.objects.all()}
    Event.objects.all().delete()
    ingest(source, write(tmp_path, "c.log", TOKEN_RC, SECRET_RC))
    direct = {e.source_event_id: e for e in Event.objects.all()}
    for audit_id in (TOKEN_REQUEST, SECRET_READ):
        a, b = replayed[audit_id], direct[audit_id]
        assert (a.status, a.reason, a.origin_id, a.evidence) == (
            b.status,
            b.reason,
            b.origin_id,
            b.evidence,
        )
        assert [h["method"] for h in a.hops] == [h["method"] for h in b.hops]


def test_re_ingesting_the_same_files_stores_nothing_and_replaces_nothing(source, tmp_path):
    forwards = write(tmp_path, "f.log", *range(7))
    backwards = write(tmp_path, "b.log", *reversed(range(7)))
    first = ingest(source, forwards, backwards)
    before = list(Event.objects.order_by("pk").values())
    keys = dict(EventKey.objects.values_list("dedupe_key", "precedence"))
    again = ingest(source, backwards, forwards)
    assert [(b.stored, b.duplicates, b.replaced) for b in again] == [(0, 7, 0), (0, 7, 0)]
    assert totals(first) == (14, 3, 11, 0)
    assert list(Event.objects.order_by("pk").values()) == before
    assert dict(EventKey.objects.values_list("dedupe_key", "precedence")) == keys


def test_of_two_different_records_of_one_stage_the_greater_hash_is_kept(source, tmp_path):
    complete = json.loads(LINES[EXEC_RC])
    other = dict(complete, annotations={"authorization.k8s.io/decision": "allow"})
    texts = [json.dumps(complete), json.dumps(other)]
    kept = max(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    for n, order in enumerate([texts, texts[::-1]]):
        src = fresh_source(n)
        for i, text in enumerate(order):
            (tmp_path / f"{n}-{i}.log").write_text(text + "\n")
            ingest(src, tmp_path / f"{n}-{i}.log")
        assert stored(EXEC)["raw"] == kept


def test_a_rerun_of_a_replacing_batch_changes_nothing(source, tmp_path):
    ingest(source, write(tmp_path, "a.log", EXEC_RR))
    (late,) = ingest(source, write(tmp_path, "b.log", EXEC_RC))
    before = Event.objects.values().get()
    IngestBatch.objects.filter(pk=late.pk).update(status=IngestBatch.RUNNING)
    again = services.run_batch(late.pk)
    assert again.received == again.stored + again.duplicates + again.quarantined == 1
    assert Event.objects.values().get() == before


def test_other_sources_keep_the_first_record_and_skip_the_comparison(source):
    first = ct_record(1)
    # Delivered again, written a little differently (what one event's deliveries may differ
    # in; a different caller, call or address would make it another event).
    later = ct_record(1, eventTime="2026-10-05T09:00:00Z", userAgent="aws-cli/2.15.11")
    batch = services.accept(source, _bytes(records_file([first])), filename="a.json", via="api")
    services.run_batch(batch.pk)
    batch = services.accept(source, _bytes(records_file([later])), filename="b.json", via="api")
    with CaptureQueriesContext(connection) as queries:
        done = services.run_batch(batch.pk)
    assert (done.stored, done.duplicates, done.replaced) == (0, 1, 0)
    assert Event.objects.get().user_agent == "aws-cli/2.15.10"
    assert EventKey.objects.get().precedence is None
    assert not [q for q in queries.captured_queries if "precedence" in q["sql"]]


def test_a_kubernetes_record_without_a_stage_ranks_as_terminal(source, tmp_path):
    started = json.loads(LINES[EXEC_RS])
    stageless = {k: v for k, v in json.loads(LINES[EXEC_RC]).items() if k != "stage"}
    for name, record in (("s.log", started), ("n.log", stageless)):
        batch = services.accept(source, _bytes(jsonl([record])), filename=name, via="api")
        services.run_batch(batch.pk)
    event = Event.objects.get()
    assert "audit_stage" not in event.attrs
    assert event.outcome == "success"


def test_an_event_made_through_the_orm_can_be_replaced_like_an_ingested_one(source, tmp_path):
    started = json.loads(LINES[EXEC_RS])
    made = factories.event(
        source_kind="k8s_audit",
        dedupe_key=dedupe_key(k8s_audit.PARSER.parse(started), ""),
        source_event_id=EXEC,
        attrs={"audit_stage": "ResponseStarted"},
        record=started,
    )
    assert EventKey.objects.get().precedence == f"1:{made.raw_sha256}"
    (batch,) = ingest(source, write(tmp_path, "c.log", EXEC_RC))
    assert (batch.stored, batch.replaced) == (0, 1)
    assert Event.objects.get().pk == made.pk


def _bytes(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_values_only_the_replaced_record_carried_are_sent_to_correlation(
    source, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    # Two different records of one stage naming two token ids: the events whose results
    # read the one that goes away must be correlated again, as for a late arrival.
    from forensics.identities.tasks import correlate_batches

    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(correlate_batches, "delay", lambda *args: sent.append(args))
    complete = json.loads(LINES[TOKEN_RC])
    ids = ["JTI=00000000-0000-4000-8000-00000000000a", "JTI=00000000-0000-4000-8000-00000000000b"]
    texts = []
    for jti in ids:
        record = dict(complete, annotations={**complete["annotations"]})
        record["annotations"]["authentication.kubernetes.io/issued-credential-id"] = jti
        texts.append(json.dumps(record))
    by_hash = sorted(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    for n, text in enumerate(by_hash):
        (tmp_path / f"{n}.log").write_text(text + "\n")
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.ingest_path(source, tmp_path / f"{n}.log")
    gone = json.loads(by_hash[0])["annotations"][
        "authentication.kubernetes.io/issued-credential-id"
    ]
    assert batch.replaced == 1
    assert sent[-1] == ([batch.pk], [gone])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_workers_storing_stages_of_the_same_requests_at_once_converge(tmp_path, settings, round_):
    """Three workers each ingest one stage of the same 300 requests at the same moment: every
    request ends at its furthest stage, stored once, and every batch's counts add up."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite has a single writer")
    import random
    import threading

    from django.db import connections

    settings.CORRELATE_AFTER_INGEST = False
    settings.INGEST_BATCH_ROWS = 50  # many chunks, so the workers' writes interleave
    source = Source.objects.create(name=f"race-{round_}")
    requests = [f"{n:08d}-0b5d-4e18-8c6a-f1d2e3b4a596" for n in range(300)]
    rng = random.Random(round_)
    paths = []
    for stage in (EXEC_RR, EXEC_RS, EXEC_RC):
        lines = [LINES[stage].replace(EXEC, audit_id) for audit_id in requests]
        rng.shuffle(lines)
        paths.append(tmp_path / f"stage-{stage}.log")
        paths[-1].write_text("".join(lines))
    start = threading.Barrier(len(paths))
    batches: list[IngestBatch] = []
    failures: list[BaseException] = []

    def worker(path: Path) -> None:
        try:
            start.wait(30)
            batches.append(services.ingest_path(source, path))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert totals(batches) == (900, 300, 600, 0)
    stages = Event.objects.filter(source=source).values_list("attrs__audit_stage", flat=True)
    assert sorted(set(stages)) == ["ResponseComplete"] and len(stages) == 300
    assert EventKey.objects.filter(dedupe_key__contains="0b5d-4e18").count() == 300
