"""Ingestion: one code path for the CLI, the upload page and the API.

Accepting a file means: raw bytes durable on disk, the batch row committed, then the work
enqueued. ``run_batch`` reads the stored raw file, normalizes every record, quarantines
what it cannot read and stores the rest, so that received = stored + duplicates + quarantined.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from forensics.engine.collection import spaced_collections
from forensics.engine.model import RecordError
from forensics.engine.not_logs import azure_diagnostic, not_json
from forensics.engine.parsers import (
    NoRecords,
    Parser,
    UnknownFormat,
    all_parsers,
    detect,
    get_parser,
)
from forensics.engine.reader import RawRecord, iter_records
from forensics.engine.streams import ByteSource
from forensics.ingest import rawstore
from forensics.ingest.models import (
    Event,
    IngestBatch,
    QuarantinedRecord,
    Source,
)
from forensics.ingest.personal_data import Matcher, load_matcher
from forensics.ingest.rows import (
    SAME_EVENT_FIELDS,
    differences,
    event_row,
    outranks,
    storable,
)
from forensics.ingest.store import insert_events

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
SNIFF_RECORDS = 20
# Bytes read before the first record is looked at: most records fit, and most files are
# small enough that reading a whole chunk ahead would read them twice.
SNIFF_BYTES = 1 << 14


@dataclass(frozen=True)
class Counts:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    replaced: int = 0  # of the duplicates: those that replaced their event's stored record


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
    save: bool = True,
) -> IngestBatch:
    """Keep the raw bytes and commit a queued batch; raises UnknownFormat before committing.

    The caller enqueues ``run_batch`` after this returns (the sweeper re-sends batches whose
    message was lost, so an accepted file is never dropped). ``save=False`` leaves the batch
    row unsaved and the raw file's directories unsynced: the CLI syncs them for a group of
    files (``rawstore.sync_directories``), then saves the group's batches in one commit.
    """
    stored = rawstore.store(stream, max_bytes=max_bytes, sync_dirs=save)
    fmt = requested_format if requested_format != Source.AUTO else source.kind
    detected = sniff_format(stored.path, fmt)
    batch = IngestBatch(
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
    if save:
        batch.save()
    return batch


def sniff_format(path: Path, requested: str = Source.AUTO) -> str:
    """The parser kind for a stored file: the requested one, or detected from its records;
    "" for a file that holds no records at all (an empty page or export: nothing to read)."""
    if requested and requested != Source.AUTO:
        return get_parser(requested).kind
    errors: list[str] = []

    def readable(head: Iterable[RawRecord]) -> Iterator[dict[str, Any]]:
        for record in head:
            if record.data is None:
                errors.append(record.error)
            else:
                yield record.data

    # Read lazily: detection stops at the first record a parser recognizes, and most files
    # are small enough that reading 20 records ahead would read a good part of them twice.
    with open(path, "rb") as fh:
        try:
            head = iter_records(fh, first_read=SNIFF_BYTES)
            return detect(readable(itertools.islice(head, SNIFF_RECORDS))).kind
        except NoRecords:
            if errors:  # records, and none of them readable
                reason = _not_json(path) or f"no record could be read: {errors[0]}"
                raise UnknownFormat(reason) from None
            return ""


def _not_json(path: Path) -> str:
    """What a file with no readable record holds instead (a web page, an XML error)."""
    with open(path, "rb") as fh:
        return not_json(ByteSource(fh).read_bytes(_HEAD_BYTES))


_HEAD_BYTES = 4096


def run_batch(batch_id: int, progress: Progress | None = None) -> IngestBatch:
    """Ingest a queued batch. Safe to run again: a re-run stores nothing twice."""
    return run_batches([batch_id], progress)[0]


def run_batches(batch_ids: Sequence[int], progress: Progress | None = None) -> list[IngestBatch]:
    """Ingest queued batches in order, sharing the database writes between them.

    Producers write many small files (CloudTrail one per account, region and five minutes):
    alone, each would cost a dozen round trips for a few dozen records. Here their rows go
    to the store in chunks of INGEST_BATCH_ROWS whichever file they came from, and every
    batch still gets its own exact counts. Safe to run again, like ``run_batch``.

    A value the database refuses (DataError) fails the file that holds it with the
    database's reason, not the other files of the group: those are then run one by one.
    Without this the batches stayed running, and the sweeper would retry them for ever.
    """
    try:
        with spaced_collections():
            return _run_batches(batch_ids, progress)
    except DataError as exc:
        ids = list(dict.fromkeys(batch_ids))
        if len(ids) > 1:
            return [run_batches([pk], progress)[0] for pk in ids]
        return [_refused(ids[0], exc)]


def _refused(batch_id: int, exc: DataError) -> IngestBatch:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    now = timezone.now()
    IngestBatch.objects.filter(pk=batch_id).update(
        status=IngestBatch.FAILED,
        error=storable(
            f"the database refused a record of this file: {reason}. Records stored before "
            "it are kept; once the cause is fixed, running the file again counts them as "
            "its own."
        ),
        finished_at=now,
        touched_at=now,
    )
    log.error("batch %s failed: the database refused a record: %s", batch_id, reason)
    return IngestBatch.objects.get(pk=batch_id)


def _run_batches(batch_ids: Sequence[int], progress: Progress | None) -> list[IngestBatch]:
    batches = _start(batch_ids)
    sink = _Sink(settings.INGEST_BATCH_ROWS)
    sink.hold([b for b in batches if b.status != IngestBatch.DONE])
    errors: dict[int, str] = {}
    for batch in batches:
        if batch.status == IngestBatch.DONE:
            continue
        try:
            _read_file(batch, sink, progress)
        except UnknownFormat as exc:
            errors[batch.pk] = str(exc)
        except OSError as exc:
            errors[batch.pk] = f"cannot read the stored raw file: {exc}"
    sink.flush()
    running = [b for b in batches if b.status != IngestBatch.DONE]
    _finish(running, sink, errors)
    # A replaced event now belongs to the batch that replaced it, so correlating that batch
    # attributes it again; the values only its old record carried go along, so that the
    # events whose results read them are correlated again too.
    stored = [b.pk for b in running if (b.stored or b.replaced) and b.status == IngestBatch.DONE]
    if stored and settings.CORRELATE_AFTER_INGEST:
        from forensics.identities.tasks import correlate_batches

        dropped = sorted(sink.dropped_keys)
        send = functools.partial(correlate_batches.delay, stored)
        transaction.on_commit(functools.partial(send, dropped) if dropped else send)
    return batches


def _start(batch_ids: Sequence[int]) -> list[IngestBatch]:
    """Lock and mark the batches running, in the order given; finished ones are left alone."""
    with transaction.atomic():
        _rederivable_commit()
        found = IngestBatch.objects.select_for_update().in_bulk(list(batch_ids))
        batches = [found[pk] for pk in dict.fromkeys(batch_ids)]
        now = timezone.now()
        running = [b for b in batches if b.status != IngestBatch.DONE]
        for batch in running:
            batch.status = IngestBatch.RUNNING
            batch.started_at = batch.touched_at = now
            batch.attempts += 1
        _update_batches(running, ["status", "started_at", "touched_at", "attempts"])
        # A previous attempt may have died half-way: its quarantine rows are rebuilt, and
        # its stored events are recognized as this batch's own (stored, not duplicates).
        retried = [b.pk for b in running if b.attempts > 1]
        if retried:
            QuarantinedRecord.objects.filter(batch_id__in=retried).delete()
    return batches


def _update_batches(batches: list[IngestBatch], fields: list[str]) -> None:
    """One UPDATE per batch, sent together (the ORM's bulk_update builds a CASE expression
    per field and batch, which costs more than the rest of a small file's ingest)."""
    if not batches:
        return
    meta = IngestBatch._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(f) for f in fields]
    assignments = ", ".join(f"{qn(c.column)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
            [
                [*(c.get_db_prep_save(getattr(b, c.attname), connection) for c in columns), b.pk]
                for b in batches
            ],
        )


def _rederivable_commit() -> None:
    """Let this transaction's commit skip the WAL flush (PostgreSQL).

    What a batch stores is re-derived from its raw file, which is durable before the batch is
    accepted: if a crash loses the last commits, the batch is still unfinished, the sweeper
    runs it again and the re-run recognizes its own rows. Accepting a file stays synchronous.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _finish(batches: list[IngestBatch], sink: _Sink, errors: dict[int, str]) -> None:
    now = timezone.now()
    for batch in batches:
        counts = sink.counts(batch.pk)
        batch.received = counts.received
        batch.stored = counts.stored
        batch.duplicates = counts.duplicates
        batch.quarantined = counts.quarantined
        batch.replaced = counts.replaced
        batch.error = errors.get(batch.pk, "")
        batch.status = IngestBatch.FAILED if batch.error else IngestBatch.DONE
        batch.finished_at = batch.touched_at = now
        batch.bytes_done = batch.size
        # A finished file that added or took over no event (all duplicates) has none to
        # correlate: marked at once, it is no place the pending filter needs to look.
        if batch.status == IngestBatch.DONE and not batch.stored and not batch.replaced:
            batch.correlated_at = now
    with transaction.atomic():
        _rederivable_commit()
        _update_batches(batches, FINISH_FIELDS)


FINISH_FIELDS = [
    "received",
    "stored",
    "duplicates",
    "quarantined",
    "replaced",
    "error",
    "status",
    "finished_at",
    "touched_at",
    "bytes_done",
    "correlated_at",
]


def _read_file(batch: IngestBatch, sink: _Sink, progress: Progress | None) -> None:
    """Normalize every record of a batch's raw file into the sink (which stores as it fills)."""
    path = rawstore.raw_path(batch.sha256)
    sink.begin(batch)
    kind = batch.detected_format or sniff_format(path, batch.requested_format)
    if not kind:
        return  # no records: received 0
    parser = get_parser(kind)
    choose = _per_record(parser) if batch.requested_format in ("", Source.AUTO) else None
    matcher = sink.matcher()
    with open(path, "rb") as fh:
        counter = rawstore.CountingReader(fh)
        last_report = 0
        for record in iter_records(counter):  # type: ignore[arg-type]
            chosen = choose(record.data) if choose is not None and record.data else parser
            row, error = _normalize(batch, chosen, record, matcher)
            if row is None and choose is not None:
                error = _unrecognized(chosen, record, error)
            if row is None:
                sink.quarantine(
                    QuarantinedRecord(
                        batch=batch,
                        index=record.index,
                        position=record.position[:80],  # as an event's (rows.event_row)
                        # As shown; the raw store keeps the bytes as they came.
                        raw=storable(record.text),
                        error=storable(error),
                    )
                )
            else:
                row["record_index"] = record.index  # for a quarantine of it (_Sink.clash)
                sink.add(row)
            if sink.full():
                sink.flush()
                if counter.count - last_report > (1 << 20) or progress:
                    last_report = counter.count
                    _report(batch, sink.counts(batch.pk), counter.count)
                    if progress:
                        progress(counter.count, batch.size, batch.filename)
    if progress:
        progress(batch.size, batch.size, batch.filename)


def _unrecognized(parser: Parser, record: RawRecord, error: str) -> str:
    """A record's error, saying so when no parser recognized the record: what the file's
    parser misses in it says little on its own, as the record may be another log's."""
    if record.data and not parser.sniff(record.data):
        what = azure_diagnostic(record.data)
        if what:
            return f"{what}: no format recognizes it"
        return f"no format recognizes this record; read as the file's ({parser.label}): {error}"
    return error


def _per_record(parser: Parser) -> Callable[[dict[str, Any]], Parser]:
    """The parser for each record of an auto-detected file: the file's, unless the record is
    unmistakably another format's. One Event Hub or SIEM export can hold several categories
    of one producer (sign-ins, directory audits, Graph requests); each record is read by its
    own parser instead of being quarantined by the first one's. A record no parser claims
    stays with the file's parser, which reads it or says why not."""
    others = [p for p in all_parsers() if p is not parser]

    def choose(record: dict[str, Any]) -> Parser:
        if parser.sniff(record):
            return parser
        return next((p for p in others if p.sniff(record)), parser)

    return choose


def _report(batch: IngestBatch, counts: Counts, bytes_done: int) -> None:
    """Progress for the batches page, and a sign of life for the sweeper."""
    IngestBatch.objects.filter(pk=batch.pk).update(
        bytes_done=bytes_done,
        touched_at=timezone.now(),
        received=counts.received,
        stored=counts.stored,
        duplicates=counts.duplicates,
        quarantined=counts.quarantined,
        replaced=counts.replaced,
    )


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


class _Sink:
    """Rows and quarantined records of one or more batches, stored a chunk at a time.

    On a batch's first attempt a key that is already stored is a duplicate. On a re-run
    (attempts > 1) rows an interrupted earlier attempt stored count as the batch's own
    (stored), while a record repeated within the file still counts as a duplicate: ``seen``
    collects the keys the re-run met. A record that replaces its event's stored record (a
    later stage of the same request) is a duplicate too, also counted as replaced.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: list[dict[str, Any]] = []
        self.bad: list[QuarantinedRecord] = []
        self._counts: dict[int, list[int]] = {}
        self._seen: dict[int, set[str]] = {}
        self._held: dict[int, set[int]] = {}
        self._matcher: Matcher | None = None
        # Values that only the replaced records carried (see ``Written.dropped_keys``).
        self.dropped_keys: set[str] = set()

    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = load_matcher()
        return self._matcher

    def begin(self, batch: IngestBatch) -> None:
        self._counts[batch.pk] = [0, 0, 0, 0, 0]
        if batch.attempts > 1:
            self._seen[batch.pk] = set()

    def hold(self, batches: list[IngestBatch]) -> None:
        """Learn which records of these batches' files are held in quarantine already, from
        an earlier ingest of the same file (the same bytes): one query for them all."""
        if not batches:
            return
        by_file: dict[str, set[int]] = {}
        held = (
            QuarantinedRecord.objects.filter(batch__sha256__in={b.sha256 for b in batches})
            .exclude(batch_id__in=[b.pk for b in batches])
            .values_list("batch__sha256", "index")
        )
        for sha, index in held:
            by_file.setdefault(sha, set()).add(index)
        for batch in batches:
            self._held[batch.pk] = by_file.get(batch.sha256, set())

    def held(self, batch_id: int, index: int) -> bool:
        """Whether the record at ``index`` of this batch's file was quarantined when the same
        file (the same bytes) was ingested before: a duplicate then, not quarantined again."""
        if index in self._held.get(batch_id, ()):
            self._counts[batch_id][2] += 1
            return True
        return False

    def add(self, row: dict[str, Any]) -> None:
        self._counts[row["batch_id"]][0] += 1
        self.rows.append(row)

    def quarantine(self, record: QuarantinedRecord) -> None:
        counts = self._counts[record.batch_id]
        counts[0] += 1
        if self.held(record.batch_id, record.index):
            return
        counts[3] += 1
        self.bad.append(record)

    def full(self) -> bool:
        return len(self.rows) >= self.limit or len(self.bad) >= self.limit

    def counts(self, batch_id: int) -> Counts:
        return Counts(*self._counts.get(batch_id, (0, 0, 0, 0, 0)))

    def flush(self) -> None:
        """Store the pending rows and quarantined records in one transaction."""
        rows, bad = self.rows, self.bad
        self.rows, self.bad = [], []
        if not rows and not bad:
            return
        with transaction.atomic():
            _rederivable_commit()
            if bad:
                QuarantinedRecord.objects.bulk_create(bad)
            if rows:
                self._store(rows)

    def _store(self, rows: list[dict[str, Any]]) -> None:
        unique: dict[str, dict[str, Any]] = {}
        clashes: list[QuarantinedRecord] = []
        for row in rows:
            kept = unique.get(row["dedupe_key"])
            if kept is None:
                unique[row["dedupe_key"]] = row
                continue
            if outranks(row, kept):
                unique[row["dedupe_key"]], row = row, kept
            # ``row`` is the record not kept; ranked records are one request's stages.
            other = unique[row["dedupe_key"]]
            differ = differences(row, other) if row["precedence"] is None else []
            if not differ:
                self._counts[row["batch_id"]][2] += 1
            elif not self.held(row["batch_id"], row["record_index"]):
                clashes.append(self.clash(row, differ, "another record of this chunk"))
        written = insert_events(list(unique.values()))
        inserted = written.stored
        self.dropped_keys |= written.dropped_keys
        for key in inserted:
            self._counts[unique[key]["batch_id"]][1] += 1
        for key in written.replaced:
            counts = self._counts[unique[key]["batch_id"]]
            counts[2] += 1
            counts[4] += 1
        conflicts = [
            (k, r["batch_id"])
            for k, r in unique.items()
            if k not in inserted and k not in written.replaced
        ]
        retried = [(k, b) for k, b in conflicts if b in self._seen and k not in self._seen[b]]
        own_earlier: set[tuple[str, int]] = set()
        if retried:
            own_earlier = set(
                Event.objects.filter(
                    dedupe_key__in=[k for k, _ in retried],
                    batch_id__in={b for _, b in retried},
                ).values_list("dedupe_key", "batch_id")
            )
        stored = self._stored_like(
            [
                k
                for k, b in conflicts
                if (k, b) not in own_earlier and unique[k]["precedence"] is None
            ]
        )
        for key, batch_id in conflicts:
            if (key, batch_id) in own_earlier:
                self._counts[batch_id][1] += 1
                continue
            found = stored.get(key)
            differ = differences(unique[key], found) if found is not None else []
            if not differ:
                self._counts[batch_id][2] += 1
            elif not self.held(batch_id, unique[key]["record_index"]):
                clashes.append(self.clash(unique[key], differ, f"stored event {found['id']}"))
        if clashes:
            QuarantinedRecord.objects.bulk_create(clashes)
        for key, row in unique.items():
            seen = self._seen.get(row["batch_id"])
            if seen is not None:
                seen.add(key)

    def clash(self, row: dict[str, Any], differ: list[str], other: str) -> QuarantinedRecord:
        """A record whose event id another record holds for a different event: it cannot be
        stored under that id, and is no duplicate. It is kept, with why."""
        self._counts[row["batch_id"]][3] += 1
        return QuarantinedRecord(
            batch_id=row["batch_id"],
            index=row["record_index"],
            position=row["position"],
            raw=row["raw"],
            error=storable(
                f"event id {row['source_event_id'] or row['dedupe_key']} is also that of "
                f"{other}, a different event (its {', '.join(differ)} differ): "
                "not stored under it, and not counted as its duplicate"
            ),
        )

    @staticmethod
    def _stored_like(keys: list[str]) -> dict[str, dict[str, Any]]:
        """The stored events of these keys, with what ``differences`` compares."""
        if not keys:
            return {}
        found = Event.objects.filter(dedupe_key__in=keys).values(
            "id", "dedupe_key", "raw_sha256", *SAME_EVENT_FIELDS
        )
        return {row["dedupe_key"]: row for row in found}


def ingest_path(
    source: Source,
    path: Path,
    *,
    requested_format: str = Source.AUTO,
    progress: Progress | None = None,
) -> IngestBatch:
    """The CLI's synchronous path: accept then run, in this process."""
    return run_batch(_accept_path(source, path, requested_format).pk, progress=progress)


def ingest_paths(
    source: Source,
    paths: Iterable[Path],
    *,
    requested_format: str = Source.AUTO,
    progress: Progress | None = None,
) -> Iterator[tuple[Path, IngestBatch | str]]:
    """Ingest many files in this process; yields (path, batch) or (path, why it was refused)
    in the order given. Files are accepted and run in groups that share their writes."""
    group: list[tuple[Path, IngestBatch | str]] = []
    group_bytes = 0
    for path in paths:
        try:
            batch: IngestBatch | str = _accept_path(source, path, requested_format, save=False)
        except UnknownFormat as exc:
            batch = str(exc)
        except OSError as exc:
            batch = f"cannot read: {exc.strerror or exc}"
        size = batch.size if isinstance(batch, IngestBatch) else 0
        if size >= settings.INGEST_GROUP_BYTES:
            # A big file runs alone: the batches of a group are finished together, and
            # small ones waiting that long would look stalled to the sweeper.
            yield from _run_group(group, progress)
            yield from _run_group([(path, batch)], progress)
            group, group_bytes = [], 0
            continue
        group.append((path, batch))
        group_bytes += size
        if len(group) >= settings.INGEST_GROUP_FILES or group_bytes >= settings.INGEST_GROUP_BYTES:
            yield from _run_group(group, progress)
            group, group_bytes = [], 0
    yield from _run_group(group, progress)


def _accept_path(
    source: Source, path: Path, requested_format: str, *, save: bool = True
) -> IngestBatch:
    with open(path, "rb") as fh:
        return accept(
            source,
            fh,
            filename=str(path),
            via=IngestBatch.CLI,
            requested_format=requested_format,
            max_bytes=1 << 62,
            save=save,
        )


def _run_group(
    group: list[tuple[Path, IngestBatch | str]], progress: Progress | None
) -> Iterator[tuple[Path, IngestBatch | str]]:
    accepted = [b for _, b in group if isinstance(b, IngestBatch)]
    if accepted:
        # Every raw file durable, names included, before the batches that name them commit.
        rawstore.sync_directories(rawstore.raw_path(b.sha256) for b in accepted)
        IngestBatch.objects.bulk_create(accepted)
    ids = [b.pk for b in accepted]
    done = {b.pk: b for b in run_batches(ids, progress)} if ids else {}
    for path, batch in group:
        yield path, done[batch.pk] if isinstance(batch, IngestBatch) else batch


def stale_batches() -> Iterator[IngestBatch]:
    """Batches accepted but never finished: their task message was lost or the worker died."""
    cutoff = timezone.now() - timedelta(minutes=settings.INGEST_STALE_MINUTES)
    return IngestBatch.objects.filter(
        Q(status=IngestBatch.QUEUED, created_at__lt=cutoff)
        | Q(status=IngestBatch.RUNNING, touched_at__lt=cutoff)
    ).iterator()
