"""Ingestion: one code path for the CLI, the upload page and the API.

Accepting a file means: raw bytes durable on disk, the batch row committed, then the work
enqueued. ``run_batch`` reads the stored raw file, normalizes every record, quarantines
what it cannot read and stores the rest, so that received = stored + duplicates + quarantined.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from forensics.core import bulk
from forensics.engine.model import NormalizedEvent, RecordError
from forensics.engine.parsers import Parser, UnknownFormat, detect, get_parser
from forensics.engine.reader import RawRecord, iter_records
from forensics.ingest import rawstore
from forensics.ingest.models import Event, IngestBatch, QuarantinedRecord, Source
from forensics.ingest.personal_data import Matcher, load_matcher

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
SNIFF_RECORDS = 20


@dataclass(frozen=True)
class Counts:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0


def accept(
    source: Source,
    stream: IO[bytes],
    *,
    filename: str,
    via: str,
    user: AbstractBaseUser | None = None,
    token_hint: str = "",
    requested_format: str = Source.AUTO,
    max_bytes: int | None = None,
) -> IngestBatch:
    """Keep the raw bytes and commit a queued batch; raises UnknownFormat before committing.

    The caller enqueues ``run_batch`` after this returns (the sweeper re-sends batches whose
    message was lost, so an accepted file is never dropped).
    """
    stored = rawstore.store(stream, max_bytes=max_bytes)
    fmt = requested_format if requested_format != Source.AUTO else source.kind
    detected = sniff_format(stored.path, fmt)
    return IngestBatch.objects.create(
        source=source,
        via=via,
        submitted_by=user if user is not None and user.is_authenticated else None,
        submitted_token_hint=token_hint,
        filename=Path(filename).name[:500] or "upload",
        sha256=stored.sha256,
        size=stored.size,
        requested_format=fmt,
        detected_format=detected,
    )


def sniff_format(path: Path, requested: str = Source.AUTO) -> str:
    """The parser kind for a stored file: the requested one, or detected from its records."""
    if requested and requested != Source.AUTO:
        return get_parser(requested).kind
    with open(path, "rb") as fh:
        good = (r.data for r in itertools.islice(iter_records(fh), SNIFF_RECORDS) if r.data)
        return detect(good).kind


def run_batch(batch_id: int, progress: Progress | None = None) -> IngestBatch:
    """Ingest a queued batch. Safe to run again: a re-run stores nothing twice."""
    with transaction.atomic():
        _rederivable_commit()
        batch = IngestBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == IngestBatch.DONE:
            return batch
        batch.status = IngestBatch.RUNNING
        batch.started_at = batch.touched_at = timezone.now()
        batch.attempts += 1
        batch.save(update_fields=["status", "started_at", "touched_at", "attempts"])
        # A previous attempt may have died half-way: its quarantine rows are rebuilt, and
        # its stored events are recognized as this batch's own (stored, not duplicates).
        QuarantinedRecord.objects.filter(batch=batch).delete()
    try:
        counts = _ingest_file(batch, progress)
    except UnknownFormat as exc:
        _finish(batch, Counts(), IngestBatch.FAILED, str(exc))
        return batch
    except OSError as exc:
        _finish(batch, Counts(), IngestBatch.FAILED, f"cannot read the stored raw file: {exc}")
        return batch
    _finish(batch, counts, IngestBatch.DONE, "")
    if counts.stored and settings.CORRELATE_AFTER_INGEST:
        from forensics.identities.tasks import correlate_batch

        transaction.on_commit(lambda: correlate_batch.delay(batch.pk))
    return batch


def _rederivable_commit() -> None:
    """Let this transaction's commit skip the WAL flush (PostgreSQL).

    What a batch stores is re-derived from its raw file, which is durable before the batch is
    accepted: if a crash loses the last commits, the batch is still unfinished, the sweeper
    runs it again and the re-run recognizes its own rows. Accepting a file stays synchronous.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _finish(batch: IngestBatch, counts: Counts, status: str, error: str) -> None:
    batch.received = counts.received
    batch.stored = counts.stored
    batch.duplicates = counts.duplicates
    batch.quarantined = counts.quarantined
    batch.status = status
    batch.error = error
    batch.finished_at = timezone.now()
    batch.bytes_done = batch.size
    with transaction.atomic():
        _rederivable_commit()
        batch.save()


def _ingest_file(batch: IngestBatch, progress: Progress | None) -> Counts:
    path = rawstore.raw_path(batch.sha256)
    parser = get_parser(batch.detected_format or sniff_format(path, batch.requested_format))
    matcher = load_matcher()
    received = stored = duplicates = quarantined = 0
    chunk_rows = settings.INGEST_BATCH_ROWS
    seen: set[str] | None = set() if batch.attempts > 1 else None
    with open(path, "rb") as fh:
        counter = rawstore.CountingReader(fh)
        records = iter_records(counter)  # type: ignore[arg-type]
        pending: list[dict[str, Any]] = []
        bad: list[QuarantinedRecord] = []
        last_report = 0
        for record in records:
            received += 1
            row, error = _normalize(batch, parser, record, matcher)
            if row is None:
                bad.append(
                    QuarantinedRecord(
                        batch=batch,
                        index=record.index,
                        position=record.position,
                        raw=record.text,
                        error=error,
                    )
                )
            else:
                pending.append(row)
            if len(pending) >= chunk_rows or len(bad) >= chunk_rows:
                s, d = _flush(batch, pending, bad, seen)
                stored, duplicates, quarantined = stored + s, duplicates + d, quarantined + len(bad)
                pending, bad = [], []
                if counter.count - last_report > (1 << 20) or progress:
                    last_report = counter.count
                    IngestBatch.objects.filter(pk=batch.pk).update(
                        bytes_done=counter.count,
                        touched_at=timezone.now(),
                        received=received,
                        stored=stored,
                        duplicates=duplicates,
                        quarantined=quarantined,
                    )
                    if progress:
                        progress(counter.count, batch.size, batch.filename)
        s, d = _flush(batch, pending, bad, seen)
        stored, duplicates, quarantined = stored + s, duplicates + d, quarantined + len(bad)
        if progress:
            progress(batch.size, batch.size, batch.filename)
    return Counts(received, stored, duplicates, quarantined)


def _normalize(
    batch: IngestBatch, parser: Parser, record: RawRecord, matcher: Matcher
) -> tuple[dict[str, Any] | None, str]:
    if record.error or record.data is None:
        return None, record.error or "record is not a JSON object"
    try:
        event = parser.parse(record.data)
    except RecordError as exc:
        return None, str(exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A parser bug must not lose the record: it is quarantined with the reason.
        return None, f"{parser.kind} parser could not read the record: {exc!r}"
    return event_row(batch, event, record, matcher), ""


def dedupe_key(event: NormalizedEvent, raw_sha: str) -> str:
    """The producer's event id when it has one, else the raw content's hash."""
    if event.source_event_id:
        return f"{event.source_kind}:{event.source_event_id}"[:300]
    return f"{event.source_kind}:sha256:{raw_sha}"


def event_row(
    batch: IngestBatch, event: NormalizedEvent, record: RawRecord, matcher: Matcher
) -> dict[str, Any]:
    raw_sha = hashlib.sha256(record.text.encode("utf-8")).hexdigest()
    return {
        "source_id": batch.source_id,
        "batch_id": batch.pk,
        "dedupe_key": dedupe_key(event, raw_sha),
        "source_kind": event.source_kind,
        "source_event_id": event.source_event_id[:200],
        "event_time": event.event_time,
        "category": event.category,
        "action": event.action[:300],
        "outcome": event.outcome,
        "actor_principal": event.actor_principal[:500],
        "actor_kind": event.actor_kind,
        "actor_account": event.actor_account[:200],
        "credential_used": event.credential_used[:300],
        "credential_issued": event.credential_issued[:300],
        "issued_principal": event.issued_principal[:500],
        "issue_method": event.issue_method,
        "session_name": event.session_name[:300],
        "source_identity": event.source_identity[:300],
        "request_id": event.request_id[:200],
        "correlation_id": event.correlation_id[:200],
        "source_address": event.source_address[:200],
        "user_agent": event.user_agent,
        "resource": event.resource,
        "resource_type": event.resource_type[:100],
        "personal_data": matcher(event.source_kind, event.resource),
        "mfa": event.mfa,
        "attrs": event.attrs,
        "assumed_role_id": str(event.attrs.get("assumed_role_id") or "")[:200],
        "shared_event_id": str(event.attrs.get("shared_event_id") or "")[:100],
        "raw": record.text,
        "raw_sha256": raw_sha,
        "position": record.position[:80],
        "status": "pending",
        "reason": "",
        "hops": [],
        "evidence": "",
        "chain_label": "",
        "explanation": "",
    }


def _flush(
    batch: IngestBatch,
    rows: list[dict[str, Any]],
    bad: list[QuarantinedRecord],
    seen: set[str] | None,
) -> tuple[int, int]:
    """Store rows and quarantine records in one transaction; returns (stored, duplicates).

    ``seen`` is None on a batch's first attempt. On a re-run it collects the keys this run
    met, so that rows an interrupted earlier attempt stored count as this batch's own
    (stored) while a record repeated within the file still counts as a duplicate.
    """
    stored = duplicates = 0
    with transaction.atomic():
        _rederivable_commit()
        if bad:
            QuarantinedRecord.objects.bulk_create(bad)
        if rows:
            unique: dict[str, dict[str, Any]] = {}
            for row in rows:
                if row["dedupe_key"] in unique:
                    duplicates += 1
                else:
                    unique[row["dedupe_key"]] = row
            inserted = insert_events(list(unique.values()))
            stored += len(inserted)
            conflicts = [k for k in unique if k not in inserted]
            if seen is not None:
                own_earlier = set(
                    Event.objects.filter(
                        dedupe_key__in=[k for k in conflicts if k not in seen], batch_id=batch.pk
                    ).values_list("dedupe_key", flat=True)
                )
                stored += len(own_earlier)
                duplicates += len(conflicts) - len(own_earlier)
                seen.update(unique)
            else:
                duplicates += len(conflicts)
    return stored, duplicates


_NOT_INSERTED = {"id", "origin_id", "correlated_at"}


@functools.cache
def _insert_fields() -> list[Any]:
    return [f for f in Event._meta.concrete_fields if f.attname not in _NOT_INSERTED]


def insert_columns() -> list[str]:
    """The Event columns an ingested row fills, in staging order."""
    return [f.attname for f in _insert_fields()]


def staged_rows(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples in ``insert_columns()`` order, with values the staging load accepts."""
    fields = _insert_fields()
    convert = list(zip(insert_columns(), bulk.converters(fields), strict=True))
    for row in rows:
        yield tuple(conv(row[c]) for c, conv in convert)


def insert_events(rows: list[dict[str, Any]]) -> set[str]:
    """Store rows, skipping dedupe keys already stored; returns the keys actually stored.

    Rows are loaded into a staging table in bulk (COPY on PostgreSQL) and moved with
    INSERT ... SELECT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING, one statement that
    serves PostgreSQL and SQLite alike, so the stored/duplicate counts are exact on both.
    """
    if not rows:
        return set()
    staging = bulk.Staging("ingest_event_staging", Event, insert_columns())
    with connection.cursor() as cursor:
        staging.load(cursor, staged_rows(rows))
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT.
        cursor.execute(
            f"INSERT INTO {staging.q_table} ({staging.q_columns}) "  # noqa: S608
            f"SELECT {staging.q_columns} FROM {staging.q_name} WHERE true "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
        )
        return {r[0] for r in cursor.fetchall()}


def ingest_path(
    source: Source,
    path: Path,
    *,
    requested_format: str = Source.AUTO,
    progress: Progress | None = None,
) -> IngestBatch:
    """The CLI's synchronous path: accept then run, in this process."""
    with open(path, "rb") as fh:
        batch = accept(
            source,
            fh,
            filename=str(path),
            via=IngestBatch.CLI,
            requested_format=requested_format,
            max_bytes=1 << 62,
        )
    return run_batch(batch.pk, progress=progress)


def stale_batches() -> Iterator[IngestBatch]:
    """Batches accepted but never finished: their task message was lost or the worker died."""
    cutoff = timezone.now() - timedelta(minutes=settings.INGEST_STALE_MINUTES)
    return IngestBatch.objects.filter(
        Q(status=IngestBatch.QUEUED, created_at__lt=cutoff)
        | Q(status=IngestBatch.RUNNING, touched_at__lt=cutoff)
    ).iterator()
