"""The benchmark: one generated estate, every speed figure the project claims.

Runs in a scratch database (a temporary SQLite file, or a `forensics_bench` database on the
PostgreSQL server named by --db / DATABASE_URL) so it never touches real data.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client

from forensics.estate.generator import log_files

Say = Callable[[str], None]
ESTATE_SOURCE = "bench"  # the source the generated estate is ingested as
KEYS = [
    "events",
    "ingest_eps",
    "bulk_create_eps",
    "copy_eps",
    "correlate_eps",
    "trace_p95_ms",
    "explorer_p95_ms",
    "timeline_p95_ms",
    "queue_p95_ms",
    "resource_p95_ms",
    "search_p95_ms",
    "pack_10k_s",
    "peak_rss_mb_1gb",
]


def measure_ingest(root: Path) -> tuple[int, float]:
    from forensics.ingest import services
    from forensics.ingest.models import Source

    source, _ = Source.objects.get_or_create(name=ESTATE_SOURCE)
    start = time.perf_counter()
    stored = sum(
        batch.stored
        for _path, batch in services.ingest_paths(source, log_files(root))
        if not isinstance(batch, str)
    )
    return stored, time.perf_counter() - start


def ingest_share(list_file: Path) -> int:
    """A worker process's part of a parallel ingest: the files named in ``list_file``."""
    from forensics.ingest import services
    from forensics.ingest.models import Source

    paths = [Path(line) for line in list_file.read_text().splitlines() if line]
    source = Source.objects.get(name=ESTATE_SOURCE)
    return sum(
        batch.stored
        for _path, batch in services.ingest_paths(source, paths)
        if not isinstance(batch, str)
    )


def measure_parallel_ingest(root: Path, workers: int, workdir: Path) -> tuple[int, float]:
    """Ingest the estate with ``workers`` processes, each taking every n-th file."""
    from forensics.ingest.models import Source

    Source.objects.get_or_create(name=ESTATE_SOURCE)
    files = list(log_files(root))
    lists = []
    for i in range(workers):
        part = workdir / f"ingest-share-{i}.txt"
        part.write_text("\n".join(str(p) for p in files[i::workers]))
        lists.append(part)
    return run_workers([["--ingest-share", str(part)] for part in lists], "ingest")


READY, GO = "ready", "go"


def run_workers(arguments: list[list[str]], what: str) -> tuple[int, float]:
    """Run one ``manage.py bench`` process per argument list, side by side; returns the sum
    of the numbers they print last and the wall time from a common start to the last one.

    The start is given once every process has loaded and connected (``wait_for_start``),
    as a long-running worker has before its first task: half a second or more of imports
    per process is no part of the throughput of sustained work.
    """
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench"]
    procs = [
        subprocess.Popen([*manage, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for args in arguments
    ]
    try:
        for proc in procs:
            if cast(IO[str], proc.stdout).readline().strip() != READY:
                raise RuntimeError(f"a parallel {what} worker failed to start (see above)")
        start = time.perf_counter()
        for proc in procs:
            stdin = cast(IO[str], proc.stdin)
            stdin.write(GO + "\n")
            stdin.flush()
        outputs = [proc.communicate()[0] for proc in procs]
        seconds = time.perf_counter() - start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if any(proc.returncode for proc in procs):
        raise RuntimeError(f"a parallel {what} worker failed (see above)")
    return sum(int(out.split()[-1]) for out in outputs), seconds


def wait_for_start() -> None:
    """A parallel worker's side of the common start: load what its work needs and connect,
    say so, and wait for the word."""
    from forensics.identities import services as _correlation  # noqa: F401
    from forensics.ingest import services as _ingest  # noqa: F401

    connection.ensure_connection()
    sys.stdout.write(READY + "\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != GO:
        raise RuntimeError("the benchmark did not give the start")


# Emptied between the 1-process and the n-process ingest, children before parents.
_INGESTED_TABLES = ["EventWait", "QuarantinedRecord", "Event", "EventKey", "IngestBatch"]


def empty_store() -> None:
    """Remove every ingested event and batch (the scratch database's sources stay)."""
    _empty(_INGESTED_TABLES)


def _empty(names: list[str]) -> None:
    """Empty these ingest tables, children before parents. On PostgreSQL they are truncated:
    deleted rows would stay in their indexes until a vacuum, and the next run's probes and
    inserts would step over them, which the run before never had to."""
    from django.apps import apps

    ingest = apps.get_app_config("ingest")
    tables = [ingest.get_model(name)._meta.db_table for name in names]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(qn(t) for t in tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {qn(table)}")  # noqa: S608


def _sample_rows(root: Path, limit: int) -> list[dict[str, Any]]:
    """The same rows ingest stores (parsed again, not timed), with fresh dedupe keys."""
    from forensics.engine.parsers import detect
    from forensics.engine.reader import iter_records
    from forensics.ingest.models import IngestBatch
    from forensics.ingest.personal_data import load_matcher
    from forensics.ingest.rows import event_row

    batch = IngestBatch.objects.first()
    matcher = load_matcher()
    rows: list[dict[str, Any]] = []
    for path in log_files(root):
        with open(path, "rb") as fh:
            records = [r for r in iter_records(fh) if r.data is not None]
        if not records:
            continue
        parser = detect(r.data for r in records[:20] if r.data)
        for record in records:
            row = event_row(batch, parser.parse(record.data), record, matcher)
            row.pop("precedence")  # how ingest ranks a record against its key's; no column
            row["dedupe_key"] = f"bench:{len(rows)}"
            rows.append(row)
            if len(rows) >= limit:
                return rows
    return rows


def measure_bulk_create(rows: list[dict[str, Any]]) -> float:
    from django.db import transaction

    from forensics.ingest.models import Event

    objs = [Event(**row) for row in rows]
    start = time.perf_counter()
    with transaction.atomic():
        Event.objects.bulk_create(objs, batch_size=1000)
    elapsed = time.perf_counter() - start
    Event.objects.filter(dedupe_key__startswith="bench:").delete()
    return len(rows) / elapsed


def measure_copy(rows: list[dict[str, Any]]) -> float | None:
    """A bare COPY of the same rows into a staging table: no dedupe, no indexes (the ceiling).

    The staging table stores its columns as the event table does: it compresses each with
    the event table's method (LZ4 where the server has it), since compressing the raw
    record is much of a row's cost. The best of three loads is the ceiling."""
    if connection.vendor != "postgresql":
        return None
    from django.db import transaction

    from forensics.core import bulk
    from forensics.ingest.models import Event
    from forensics.ingest.rows import insert_columns, staged_rows

    tuples = list(staged_rows(rows))
    staging = bulk.Staging("bench_copy", Event, insert_columns())
    with connection.cursor() as cursor:
        staging.load(cursor, [])
        _compress_as(cursor, staging.name, Event._meta.db_table)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            staging.load(cursor, tuples)
        best = max(best, len(rows) / (time.perf_counter() - start))
    return best


def _compress_as(cursor: Any, table: str, model_table: str) -> None:
    """Give ``table``'s columns the compression method of the same columns of ``model_table``
    (PostgreSQL; a table made by CREATE TABLE AS has the server's default method)."""
    cursor.execute(
        "SELECT attname, attcompression FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "AND attcompression <> ''",
        [connection.ops.quote_name(model_table)],
    )
    methods = {"l": "lz4", "p": "pglz"}
    qn = connection.ops.quote_name
    for name, method in cursor.fetchall():
        cursor.execute(
            f"ALTER TABLE {qn(table)} ALTER COLUMN {qn(name)} SET COMPRESSION {methods[method]}"
        )


def correlate_share(share: str) -> int:
    """A worker process's part of a parallel correlation: share "i/n" of the chains."""
    from forensics.identities import services

    i, n = (int(x) for x in share.split("/"))
    return services.correlate_all(share=(i, n)).events


def measure_parallel_correlation(workers: int) -> tuple[int, float]:
    """Correlate the whole store again with ``workers`` processes, one share of chains each."""
    shares = [["--correlate-share", f"{i}/{workers}"] for i in range(workers)]
    return run_workers(shares, "correlation")


def forget_attributions() -> None:
    """Every event back to never correlated (the benchmark's scratch store only), its
    results' tables as empty as the first correlation found them (see ``_empty``: about 6%
    of a two-process correlation of the estate on PostgreSQL)."""
    from forensics.ingest.models import IngestBatch

    _empty(["EventWait", "Attribution"])
    IngestBatch.objects.update(correlated_at=None)


def measure_correlation() -> tuple[int, float]:
    from forensics.identities import services

    start = time.perf_counter()
    summary = services.correlate_all()
    return summary.events, time.perf_counter() - start


def page_times(client: Client, urls: list[str], ok: tuple[int, ...] = (200,)) -> dict[str, float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code not in ok:
            raise RuntimeError(f"{url} answered {response.status_code}")
    times.sort()
    return {"p50": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)]}


def measure_pages(samples: int, rng: random.Random) -> dict[str, dict[str, float]]:
    from django.contrib.auth.models import User
    from django.db.models import Count

    from forensics.ingest.models import STATUS_ATTRIBUTED, Attribution

    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    user.is_superuser = True
    user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    ids = list(
        Attribution.objects.filter(status=STATUS_ATTRIBUTED).values_list("event_id", flat=True)[
            :5000
        ]
    )
    top = list(
        Attribution.objects.exclude(origin=None)
        .values("origin")
        .annotate(n=Count("event_id"))
        .order_by("-n")
        .values_list("origin", flat=True)[:20]
    )
    origins = [o for o in top if o is not None] or [0]
    traces = [f"/events/{rng.choice(ids)}/trace/" for _ in range(samples)] if ids else []
    explorer = [
        rng.choice(
            [
                "/events/",
                "/events/?pd=on",
                "/events/?status=unattributed",
                "/events/?category=data_access",
                # Sorted by attribution status: each status read as its own query.
                "/events/?sort=status",
                "/events/?sort=-status&pd=on",
            ]
        )
        for _ in range(samples)
    ]
    timelines = [f"/identities/{rng.choice(origins)}/" for _ in range(samples)]
    queue = ["/queue/"] * samples
    out = {
        # It serves its last count of the events; the count is timed apart (run()).
        "home": page_times(client, ["/"] * samples),
        # The personal-data lens's list: its first page, most recently accessed first.
        "resources": page_times(client, ["/resources/"] * samples),
        "explorer": page_times(client, explorer),
        "timeline": page_times(client, timelines),
        "queue": page_times(client, queue),
    }
    # The personal-data lens's drill-down, and the search box given an address (which
    # redirects to the explorer when nothing else matches: the search is what is timed).
    resources = _most_accessed("resource", personal_data=True)
    addresses = _most_accessed("source_address")
    if resources:
        out["resource"] = page_times(
            client,
            [f"/resources/detail/?{urlencode({'resource': rng.choice(resources)})}"] * samples,
        )
    if addresses:
        out["search"] = page_times(
            client,
            [f"/search/?{urlencode({'q': rng.choice(addresses)})}" for _ in range(samples)],
            ok=(200, 302),
        )
    if traces:
        out["trace"] = page_times(client, traces)
    return out


def _most_accessed(column: str, **filters: Any) -> list[str]:
    """The 20 values of an event column that most events carry (the busiest pages)."""
    from django.db.models import Count

    from forensics.ingest.models import Event

    return list(
        Event.objects.filter(**filters)
        .exclude(**{column: ""})
        .values(column)
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list(column, flat=True)[:20]
    )


def measure_pack(events: int, workdir: Path) -> dict[str, float]:
    """Build (and verify) an evidence pack of the ``events`` earliest events, as a query pack
    over a time window, the way an auditor's export of an explorer query is built."""
    from django.conf import settings
    from django.contrib.auth.models import User

    from forensics.evidence import keys, services
    from forensics.evidence.verify import verify_pack
    from forensics.ingest.models import Event

    settings.EVIDENCE_DIR = workdir / "evidence"
    settings.EVIDENCE_SIGNING_KEY = workdir / "evidence-key.pem"
    # The estate's events, not the big file's: those have no hops and compress to nothing.
    estate = Event.objects.filter(source__name=ESTATE_SOURCE)
    times = estate.order_by("event_time").values_list("event_time", flat=True)
    first = times.first()
    end = times[events] if estate.count() > events else None
    if first is None:
        return {}
    window = {"source": [str(estate.values_list("source_id", flat=True).first())]}
    window["since"] = [first.isoformat()]
    if end is not None:
        window["until"] = [end.isoformat()]
    user = User.objects.get(username="bench")
    start = time.perf_counter()
    pack = services.request_pack(user, "query", {"filters": window}, queue=False)
    services.claim(pack.pk)
    pack = services.build(pack.pk)
    built = time.perf_counter() - start
    if pack.status != "ready":
        raise RuntimeError(f"evidence pack failed: {pack.error}")
    start = time.perf_counter()
    report = verify_pack(str(services.pack_path(pack)), [keys.fingerprint()])
    verified = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"evidence pack does not verify: {report.problems}")
    return {
        "pack_s": built,
        "pack_subjects": services.subjects(pack.kind, pack.scope).count(),
        "pack_events": pack.events,
        "pack_mb": pack.size / 1e6,
        "verify_s": verified,
    }


def _bench_time(n: int) -> str:
    """A thousand events a second from 2026-10-05T08:00:00Z."""
    seconds = n // 1000
    return f"2026-10-05T{8 + seconds // 3600 % 12:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def write_big_cloudtrail(path: Path, megabytes: int) -> int:
    """A CloudTrail Records file of about ``megabytes`` MB, written streaming."""
    target = megabytes * 1024 * 1024
    written = 0
    n = 0
    with open(path, "wb") as out:
        out.write(b'{"Records":[')
        while written < target:
            record = {
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": f"AROAEXAMPLE{n % 50:05d}:worker-{n % 50}",
                    "arn": f"arn:aws:sts::111122223333:assumed-role/Batch/worker-{n % 50}",
                    "accountId": "111122223333",
                    "accessKeyId": f"ASIABENCH{n % 500:011d}",
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": "AROAEXAMPLE",
                            "arn": "arn:aws:iam::111122223333:role/Batch",
                            "accountId": "111122223333",
                            "userName": "Batch",
                        },
                        "attributes": {
                            "creationDate": "2026-10-05T08:00:00Z",
                            "mfaAuthenticated": "false",
                        },
                    },
                },
                "eventTime": _bench_time(n),
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "198.51.100.7",
                "userAgent": "aws-sdk-go-v2/1.30.3",
                "requestParameters": {
                    "bucketName": "customer-pii",
                    "key": f"exports/part-{n:09d}.parquet",
                },
                "responseElements": None,
                "requestID": f"BENCH{n:012d}",
                "eventID": f"b0000000-0000-4000-8000-{n:012d}",
                "readOnly": True,
                "eventType": "AwsApiCall",
                "managementEvent": False,
                "recipientAccountId": "111122223333",
                "eventCategory": "Data",
            }
            data = (b"," if n else b"") + json.dumps(record).encode()
            out.write(data)
            written += len(data)
            n += 1
        out.write(b"]}")
    return n


# Peak RSS is read from /proc in the ingesting process itself: getrusage's figure for a
# child counts the memory of the (large) benchmark process it was forked from.
_INGEST_AND_REPORT_PEAK = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forensics.settings")
django.setup()
from django.core.management import call_command
call_command("ingest", sys.argv[1], "--source", "bench-big")
with open("/proc/self/status") as status:
    print(next(line for line in status if line.startswith("VmHWM:")).split()[1])
"""


def measure_big_file_rss(megabytes: int, workdir: Path, say: Say) -> float:
    """Peak RSS (MB) of ingesting a generated CloudTrail file of that size."""
    path = workdir / f"big-{megabytes}mb.json"
    say(f"writing a {megabytes} MB CloudTrail file")
    records = write_big_cloudtrail(path, megabytes)
    say(f"ingesting it ({records} records) in a fresh process")
    env = {**os.environ, "CORRELATE_AFTER_INGEST": "false"}
    proc = subprocess.run(
        [sys.executable, "-c", _INGEST_AND_REPORT_PEAK, str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    path.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"big-file ingest failed: {proc.stderr.strip()[-2000:]}")
    summary, peak_kib = proc.stdout.strip().splitlines()[-2:]
    say(summary)
    return int(peak_kib) / 1024


def run(
    events: int, seed: int, rss_mb: int, samples: int, say: Say, max_workers: int = 2
) -> dict[str, Any]:
    """Every figure, in the scratch database this process is configured for."""
    from forensics.core.demo import ensure_rules
    from forensics.core.scoring import score_estate
    from forensics.estate.generator import generate
    from forensics.identities import directory

    rng = random.Random(seed)
    result: dict[str, Any] = dict.fromkeys(KEYS)
    result.update({"database": connection.vendor, "machine": machine()})
    with tempfile.TemporaryDirectory(prefix="forensics-bench-") as tmp:
        root = Path(tmp) / "estate"
        say(f"generating an estate of {events} events")
        generate(root, events=events, seed=seed)
        # As a deployment would have: ingest flags personal data as it stores events.
        ensure_rules()
        say("ingesting (parse, normalize, dedupe, store with indexes, raw kept), 1 process")
        stored, seconds = measure_ingest(root)
        result["events"] = stored
        result["ingest_eps_by_workers"] = {1: stored / seconds}
        say(f"ingest: {stored} events in {seconds:.1f} s = {stored / seconds:,.0f}/s")
        for workers in range(2, max_workers + 1):
            empty_store()
            say(f"ingesting the same estate again with {workers} worker processes")
            stored_n, seconds = measure_parallel_ingest(root, workers, Path(tmp))
            if stored_n != stored:
                raise RuntimeError(f"{workers} workers stored {stored_n} events, 1 stored {stored}")
            result["ingest_eps_by_workers"][workers] = stored / seconds
            say(f"ingest: {stored} events in {seconds:.1f} s = {stored / seconds:,.0f}/s")
        # The headline figure is the machine's best: as many worker processes as it has cores.
        result["ingest_eps"] = max(result["ingest_eps_by_workers"].values())
        rows = _sample_rows(root, min(stored, 200_000))
        say(f"baselines on {len(rows)} rows: Django bulk_create and bare COPY")
        result["bulk_create_eps"] = measure_bulk_create(rows)
        result["copy_eps"] = measure_copy(rows)
        del rows
        directory.import_rows(directory.read_rows(root / "directory.csv"))
        say("correlating the whole estate")
        correlated, seconds = measure_correlation()
        say(f"correlation: {correlated} events in {seconds:.1f} s = {correlated / seconds:,.0f}/s")
        result["correlate_eps_by_workers"] = {1: correlated / seconds}
        for workers in range(2, max_workers + 1):
            # Unchanged results are not written again: start from scratch, so the run does
            # the same work as the first.
            forget_attributions()
            say(f"correlating the whole store again with {workers} worker processes")
            again, seconds = measure_parallel_correlation(workers)
            if again != correlated:
                raise RuntimeError(
                    f"{workers} workers correlated {again} events, 1 did {correlated}"
                )
            result["correlate_eps_by_workers"][workers] = again / seconds
            say(f"correlation: {again} events in {seconds:.1f} s = {again / seconds:,.0f}/s")
        result["correlate_eps"] = max(result["correlate_eps_by_workers"].values())
        score = score_estate(root / "expected.jsonl")
        result["score"] = {
            "matched": score.matched,
            "attributable": score.attributable,
            "false_attributions": score.false_attributions,
            "match_rate": score.match_rate,
        }
        say(score.line())
        if rss_mb:
            # The big file stays in the store, so the pages below are timed on a store of
            # the estate plus about a million more events.
            result["peak_rss_mb_1gb" if rss_mb >= 1024 else f"peak_rss_mb_{rss_mb}mb"] = (
                measure_big_file_rss(rss_mb, Path(tmp), say)
            )
        from forensics.ingest.models import Event

        result["events_in_store"] = Event.objects.count()
        # The store as autovacuum leaves it after a bulk load: statistics gathered and, on
        # PostgreSQL, the pages vacuumed (their visibility map set, so an index-only scan
        # need not visit the table).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        say(f"timing pages on a store of {result['events_in_store']} events")
        # The home page shows its last count of every event and recounts in the background
        # when stale: what one recount costs is its own figure.
        from forensics.core import overview

        result["home_count_s"] = overview.count().seconds
        try:
            pages = measure_pages(samples, rng)
        except Exception as exc:  # a broken page must not lose the figures measured so far
            say(f"page timing failed: {exc}")
            result["pages_error"] = str(exc)
            pages = {}
        if pages:
            say("building and verifying an evidence pack of 10,000 events")
            pack = measure_pack(10_000, Path(tmp))
            result["pack"] = pack
            result["pack_10k_s"] = pack.get("pack_s")
        for name, key in (
            ("trace", "trace_p95_ms"),
            ("explorer", "explorer_p95_ms"),
            ("timeline", "timeline_p95_ms"),
            ("queue", "queue_p95_ms"),
            ("resource", "resource_p95_ms"),
            ("search", "search_p95_ms"),
            ("resources", "resources_p95_ms"),
            ("home", "home_p95_ms"),
        ):
            if name in pages:
                result[key] = pages[name]["p95"]
        result["pages"] = pages
    return result


def _by_workers(figures: dict[Any, float], fmt: Callable[[Any], str]) -> Iterator[str]:
    for workers, eps in sorted(figures.items()):
        label = f"  {workers} worker process{'es' if int(workers) > 1 else ''}"
        yield f"{label:<34}{fmt(eps)}"


def machine() -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    return f"{platform.machine()}, {cores} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def table(result: dict[str, Any]) -> Iterator[str]:
    def fmt(v: Any, unit: str = "") -> str:
        if v is None:
            return "n/a"
        return (
            f"{v:,.0f}{unit}"
            if isinstance(v, float) and v >= 100
            else f"{v:,.1f}{unit}"
            if isinstance(v, float)
            else f"{v}{unit}"
        )

    yield f"database: {result['database']}   machine: {result['machine']}"
    yield f"{'events':<34}{fmt(result['events'])}"
    yield f"{'events in store for page timing':<34}{fmt(result.get('events_in_store'))}"
    yield f"{'ingest (events/s)':<34}{fmt(result['ingest_eps'])}"
    yield from _by_workers(result.get("ingest_eps_by_workers", {}), fmt)
    yield f"{'  baseline bulk_create (events/s)':<34}{fmt(result['bulk_create_eps'])}"
    yield f"{'  ceiling bare COPY (events/s)':<34}{fmt(result['copy_eps'])}"
    yield f"{'correlation (events/s)':<34}{fmt(result['correlate_eps'])}"
    yield from _by_workers(result.get("correlate_eps_by_workers", {}), fmt)
    pages = result.get("pages", {})
    for name in (
        "explorer",
        "timeline",
        "trace",
        "queue",
        "resource",
        "search",
        "resources",
        "home",
    ):
        p = pages.get(name)
        if p:
            yield f"{name + ' p50 / p95 (ms)':<34}{p['p50']:.1f} / {p['p95']:.1f}"
    if result.get("home_count_s") is not None:
        yield f"{'  home counts, one recount (s)':<34}{fmt(result['home_count_s'])}"
    yield f"{'evidence pack 10k events (s)':<34}{fmt(result['pack_10k_s'])}"
    pack = result.get("pack") or {}
    if pack:
        yield (
            f"{'  pack built / verified':<34}{pack['pack_subjects']:,} events in scope + "
            f"{pack['pack_events'] - pack['pack_subjects']:,} behind hops, "
            f"{pack['pack_mb']:.1f} MB, verified in {pack['verify_s']:.1f} s"
        )
    rss = next((v for k, v in result.items() if k.startswith("peak_rss_mb") and v), None)
    yield f"{'peak RSS, big-file ingest (MB)':<34}{fmt(rss)}"
    if "score" in result:
        s = result["score"]
        yield (
            f"{'attribution score':<34}{s['matched']}/{s['attributable']} "
            f"({s['match_rate']:.2%}), false attributions {s['false_attributions']}"
        )
