"""Correlation service: rows → engine objects in bulk, attribution → rows in bulk.

The engine (forensics.engine.correlation) decides; this module only fetches what it asks
for, keeps the identity directory in step with the origins it finds, and stores each
event's attribution. Workers correlate in parallel under the keyed locks of ``locks``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from forensics.core import bulk
from forensics.core.lookups import integer_array
from forensics.engine.collection import spaced_collections
from forensics.engine.correlation import Attribution as EngineAttribution
from forensics.engine.correlation import (
    EngineEvent,
    Lookups,
    MemoryIndex,
    arrival_keys,
    attribute_all,
    close_over,
    hops_json,
)
from forensics.engine.model import NormalizedEvent
from forensics.identities import locks
from forensics.identities.origins import Join, OriginIdentities, join_identities, load_directory
from forensics.ingest.models import (
    STATUS_AMBIGUOUS,
    STATUS_PENDING,
    STATUS_UNATTRIBUTED,
    UNCORRELATED,
    Attribution,
    Event,
    EventWait,
    IngestBatch,
    mark_correlated,
    uncorrelated_batch_ids,
)

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
CHUNK = 5000
SWEEP_SLICE = 50_000  # events the grace-period sweep correlates together
LOST_LOOKBACK = timedelta(days=1)  # how far back the sweep looks for lost correlations

ENGINE_FIELDS = [f.name for f in dataclasses.fields(NormalizedEvent)]
EVIDENCE_ORDER = {"exact": 0, "asserted": 1, "inferred": 2}


@dataclass
class Summary:
    events: int = 0
    attributed: int = 0
    ambiguous: int = 0
    unattributed: int = 0
    pending: int = 0
    identities_created: int = 0
    # Origins whose aliases several identities hold: (the aliases, those identities).
    joins: list[Join] = dataclasses.field(default_factory=list)

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def extend(self, other: Summary) -> None:
        """Count ``other``'s figures in too."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        return (
            f"correlated {self.events}: attributed {self.attributed}, ambiguous {self.ambiguous}, "
            f"unattributed {self.unattributed}, pending {self.pending}; "
            f"new identities {self.identities_created}"
        )


# --- rows -> engine objects -------------------------------------------------------------


def engine_events(rows: Iterable[dict[str, Any]]) -> list[EngineEvent]:
    """EngineEvents from ``Event.objects.values(*ENGINE_FIELDS, 'id')`` rows."""
    out = []
    for row in rows:
        fields = {name: row[name] for name in ENGINE_FIELDS}
        fields["attrs"] = row["attrs"] or {}
        out.append(EngineEvent(key=str(row["id"]), event=NormalizedEvent(**fields)))
    return out


def _values(qs: Any) -> list[EngineEvent]:
    """The engine's view of a queryset of events.

    On PostgreSQL the rows are read with the queryset's own SQL through a plain cursor:
    Django's per-row conversion of ``values()`` cost about three times the query itself,
    more than the engine spends on the event. The columns need no conversion there
    (psycopg returns aware datetimes; attrs arrives as JSON text, decoded with orjson).
    """
    if connection.vendor != "postgresql":
        return engine_events(qs.values("id", *ENGINE_FIELDS))
    out = []
    for row in bulk.plain_rows(qs.values_list("id", *ENGINE_FIELDS)):
        values = list(row[1:])
        attrs = values[_ATTRS_AT]
        values[_ATTRS_AT] = (orjson.loads(attrs) if isinstance(attrs, str) else attrs) or {}
        out.append(EngineEvent(key=str(row[0]), event=NormalizedEvent(*values)))
    return out


_ATTRS_AT = ENGINE_FIELDS.index("attrs")


def fetch_lookups(lookups: Lookups) -> list[EngineEvent]:
    """Every stored event that can answer one of the engine's lookups (one query)."""
    q = _answering(lookups)
    if not q:
        return []
    return _values(Event.objects.filter(q))


def _answering(lookups: Lookups) -> Q:
    """The filter for stored events that answer these lookups (empty: none can)."""
    q = Q()
    # The OCSF parser writes actor.session.uid as the correlation id too.
    for column, values in (
        ("credential_issued", lookups.issued_credentials | lookups.token_ids),
        ("issued_principal", lookups.issued_principals),
        ("correlation_id", lookups.correlation_ids),
        ("assumed_role_id", lookups.assumed_role_ids),
        ("shared_event_id", lookups.shared_event_ids),
    ):
        wanted = sorted(v for v in values if v)
        if wanted:
            # Each of these columns is indexed only where it is not empty. PostgreSQL proves
            # that a list of values excludes "" only for lists of up to 100 values: a longer
            # list, without the condition said outright, reads the whole event table.
            q |= Q(**{f"{column}__any": wanted}) & ~Q(**{column: ""})
    return q


def build_index(targets: Sequence[EngineEvent], asked: Lookups | None = None) -> MemoryIndex:
    """An index holding the targets and everything their chains reach, fetched in rounds
    (every lookup asked is added to ``asked``)."""
    index = MemoryIndex(targets)
    close_over(index, fetch_lookups, targets, asked)
    return index


def chain_label(attribution: EngineAttribution) -> str:
    """e.g. 'alice@corp → saml-federation → AdminRole → assume-role → DataReader'."""
    parts: list[str] = []
    if attribution.origin is not None:
        parts.append(attribution.origin.name)
    for hop in attribution.hops:
        parts.append(hop.method)
        parts.append(_short(hop.principal))
    return " → ".join(p for p in parts if p)[:500]


def _short(principal: str) -> str:
    # ARNs read best by their last part: role/session names.
    if principal.startswith("arn:") and "/" in principal:
        return "/".join(principal.split("/")[1:])
    return principal


RESULT_COLUMNS = [
    "event_id",
    "event_time",
    "status",
    "reason",
    "origin_id",
    "hops",
    "evidence",
    "chain_label",
    "explanation",
    "correlated_at",
]


def write_back(
    results: Sequence[EngineAttribution], summary: Summary, times: dict[str, datetime]
) -> None:
    """Store attributions in one set-based upsert, and their waits.

    ``times`` holds each event's event_time (by event key), stored with its attribution so
    that the event's join to it reads the event's month only.
    """
    now = timezone.now()
    origins = OriginIdentities()
    # Events of one session share their verdict's objects (``resolve.finish``): what their
    # rows hold alike is worked out once per origin and hops, and their wait keys once per
    # pair of key tuples. ``results`` keeps those objects alive, so their ids stay theirs.
    shared: dict[tuple[int, int], tuple[int | None, str, str, str]] = {}
    wait_keys: dict[tuple[int, int], list[str]] = {}
    shared_joins: set[int] = set()
    rows: list[tuple[Any, ...]] = []
    waits: list[tuple[int, str]] = []
    for att in results:
        pk = int(att.event_key)
        if att.status == STATUS_AMBIGUOUS and id(att.candidates) not in shared_joins:
            shared_joins.add(id(att.candidates))
            origins.ambiguous(att)
        part = shared.get((id(att.origin), id(att.hops)))
        if part is None:
            part = shared[id(att.origin), id(att.hops)] = (
                origins.identity(att),
                orjson.dumps(hops_json(att.hops)).decode(),
                max((h.evidence for h in att.hops), key=EVIDENCE_ORDER.__getitem__, default=""),
                chain_label(att),
            )
        origin_id, hops, evidence, label = part
        rows.append(
            (
                pk,
                times[att.event_key],
                att.status,
                att.reason or "",
                origin_id,
                hops,
                evidence,
                label,
                att.explanation or "",
                now,
            )
        )
        # Everything the result was read from: an event that later issues or shares one of
        # these values may change it (a late issuer, a second issuer, a session start).
        keys = wait_keys.get((id(att.waiting_on), id(att.depends_on)))
        if keys is None:
            keys = wait_keys[id(att.waiting_on), id(att.depends_on)] = sorted(
                {k[:500] for k in (*att.waiting_on, *att.depends_on)}
            )
        waits.extend((pk, k) for k in keys)
        summary.events += 1
        summary.add(att.status)
    origins.store()
    summary.identities_created += origins.created
    summary.joins += origins.joins
    _store_results(rows, waits)


# The columns whose change is worth a write (not the time it was computed). The event's
# time is one: the event is joined to its attribution by it, and a replaced record can move
# the event in time while a result computed before is being stored.
COMPARED_COLUMNS = [c for c in RESULT_COLUMNS if c not in {"event_id", "correlated_at"}]


def _store_results(rows: list[tuple[Any, ...]], waits: list[tuple[int, str]]) -> None:
    fields = [
        Attribution._meta.get_field("origin" if c == "origin_id" else c) for c in RESULT_COLUMNS
    ]
    # The hops come as JSON text already (``write_back`` encodes them once per chain).
    convert = [
        bulk.unchanged if c == "hops" else conv
        for c, conv in zip(RESULT_COLUMNS, bulk.converters(fields), strict=True)
    ]
    results = bulk.Staging("attribution_staging", Attribution, RESULT_COLUMNS)
    wait_rows = bulk.Staging("event_wait_staging", EventWait, ["event_id", "key"])
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in RESULT_COLUMNS)
    table = results.q_table
    # Null-safe inequality: SQLite's "IS NOT" predates its "IS DISTINCT FROM".
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    # Only results that differ from what is stored are written: re-correlation (a directory
    # change, the grace-period sweep, correlate --all) mostly confirms what is there, and
    # rewriting an unchanged one costs a new row version and an entry in each of its
    # indexes. ``correlated_at`` says when the result last changed.
    changed = " OR ".join(f"{table}.{qn(c)} {differs} excluded.{qn(c)}" for c in COMPARED_COLUMNS)
    assignments = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in RESULT_COLUMNS[1:])

    def converted() -> Iterable[tuple[Any, ...]]:
        if all(f is bulk.unchanged for f in convert):
            return rows  # PostgreSQL takes every value as it is
        return (tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows)

    with transaction.atomic(), connection.cursor() as cursor:
        if _first_results(cursor, [row[0] for row in rows]):
            try:
                # Events never correlated (the usual case, right after their ingest): their
                # results and waits go straight in. A row stored meanwhile by anything that
                # does not hold these chains' locks is caught by the unique keys, and the
                # chunk is then stored as below. (A wait left behind without its result
                # would at worst have the event correlated again once more.)
                with transaction.atomic():
                    bulk.insert(cursor, Attribution, RESULT_COLUMNS, converted())
                    bulk.insert(cursor, EventWait, ["event_id", "key"], sorted(set(waits)))
                return
            except IntegrityError:
                pass
        results.load(cursor, converted())
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {results.q_name} "  # noqa: S608
            f"WHERE true ON CONFLICT (event_id) DO UPDATE SET {assignments} WHERE {changed}"
        )
        cursor.execute(
            f"DELETE FROM {wait_rows.q_table} WHERE event_id IN "  # noqa: S608
            f"(SELECT event_id FROM {results.q_name})"
        )
        wait_rows.load(cursor, waits)
        cursor.execute(
            f"INSERT INTO {wait_rows.q_table} (event_id, {qn('key')}) "  # noqa: S608
            f"SELECT event_id, {qn('key')} FROM {wait_rows.q_name} WHERE true "
            "ON CONFLICT DO NOTHING"
        )


def _first_results(cursor: Any, event_ids: list[int]) -> bool:
    """Whether none of these events has a stored result. An event without one has no waits
    either: they are stored with the result and dropped with it (``ingest.services``).

    Only the attribution's primary key is probed, one lookup per id. Probing the waits too
    made PostgreSQL read their whole table whenever none matched: their statistics describe
    events that have waits, so it expected a match within the first few rows.
    """
    table = connection.ops.quote_name(Attribution._meta.db_table)
    if connection.vendor == "postgresql":
        match, param = "event_id = ANY(%s::bigint[])", integer_array(event_ids)
    else:
        match, param = (
            "event_id IN (SELECT value FROM json_each(%s))",
            orjson.dumps(event_ids).decode(),
        )
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {match})", [param])  # noqa: S608
    return not cursor.fetchone()[0]


# --- entry points ---------------------------------------------------------------------


CHAIN_COLUMNS = ("credential_used", "actor_principal")
# Event ids (with their times) by chain bucket.
Plan = list[tuple[int, list[tuple[int, datetime]]]]
Span = tuple[datetime, datetime]


def correlate_ids(
    ids: Iterable[int], progress: Progress | None = None, summary: Summary | None = None
) -> Summary:
    """Correlate the given events in chunks of neighbouring chains, storing their attribution."""
    id_list = sorted(set(ids))
    rows = (
        row
        for start in range(0, len(id_list), CHUNK)
        for row in Event.objects.filter(pk__any=id_list[start : start + CHUNK]).values_list(
            "pk", *CHAIN_COLUMNS, "event_time"
        )
    )
    with spaced_collections():
        return _correlate_plan(_plan(rows), progress, summary)


def _plan(
    rows: Iterable[tuple[int, str, str, datetime]], share: tuple[int, int] | None = None
) -> Plan:
    """Event ids by the bucket of their chain, both ascending, so that a chunk covers few
    event locks; only the buckets of ``share`` when given."""
    wanted = locks.share_range(share)
    grouped: dict[int, list[tuple[int, datetime]]] = {}
    for pk, credential_used, actor_principal, event_time in rows:
        bucket = locks.chain_bucket(credential_used, actor_principal)
        if bucket in wanted:
            grouped.setdefault(bucket, []).append((pk, event_time))
    return [(bucket, sorted(grouped[bucket])) for bucket in sorted(grouped)]


def _chunks(plan: Plan) -> Iterator[tuple[list[int], list[int], Span]]:
    """The plan in chunks of CHUNK events: (ids, their event buckets, their time span)."""
    flat = ((bucket, pk, at) for bucket, events in plan for pk, at in events)
    while chunk := list(itertools.islice(flat, CHUNK)):
        times = [at for _, _, at in chunk]
        yield (
            [pk for _, pk, _ in chunk],
            sorted({bucket for bucket, _, _ in chunk}),
            (min(times), max(times)),
        )


def _correlate_plan(
    plan: Plan, progress: Progress | None, summary: Summary | None = None
) -> Summary:
    """Correlate a plan chunk by chunk. Callers space the cycle collector's runs: each chunk
    reads thousands of events (and the events their chains reach) and keeps them until its
    results are stored, and with the default threshold the collector rescanned them over and
    over, about an eighth of a correlation's time."""
    summary = summary or Summary()
    total = sum(len(pks) for _, pks in plan)
    done = 0
    grace = timedelta(minutes=settings.CORRELATION_GRACE_MINUTES)
    for ids, buckets, span in _chunks(plan):
        summary.extend(
            locks.retrying(functools.partial(_correlate_chunk, ids, buckets, grace, span))
        )
        done += len(ids)
        if progress:
            progress(done, total, "correlating")
    if summary.joins:
        joins, summary.joins = summary.joins, []
        joined = join_identities(joins)
        if joined:
            # The events of the identities joined, and every ambiguous one, are resolved
            # again against the directory as it now is.
            summary.identities_created += identities_changed(joined).identities_created
    return summary


def _correlate_chunk(
    ids: list[int], buckets: list[int], grace: timedelta, span: Span | None = None
) -> Summary:
    """Attribute these events (their chains in ``buckets``) and store the results, in one
    transaction that ends only once no event stored meanwhile can change them. ``span``,
    the events' times when planned, lets PostgreSQL read only those months' partitions."""
    with transaction.atomic():
        # Before anything is read: a correlator that read these events' chains earlier
        # has committed, so its results cannot overwrite the ones computed here.
        locks.lock(locks.EVENT_LOCKS, buckets)
        directory = load_directory()
        targets = _read_ids(ids, span)
        times = {t.key: t.event.event_time for t in targets}
        asked = Lookups()
        index = build_index(targets, asked)
        held: set[int] = set()
        created = 0
        while True:
            summary = Summary()
            results = attribute_all(targets, index, directory, now=timezone.now(), grace=grace)
            write_back(results, summary, times)
            created += summary.identities_created
            if not locks.keyed():
                break
            # From here to the commit, an arrival carrying a value these results read waits
            # for the commit and then finds their waits. One stored before the locks were
            # held is found by the re-check below and attributed through now.
            read = _lookup_values(asked).union(
                *(att.waiting_on for att in results), *(att.depends_on for att in results)
            )
            more = {locks.bucket_of(value) for value in read} - held
            # The first time, these come in ascending order after the event locks, as in
            # every transaction. Once a re-check has found something, the locks of the
            # values it brought in come out of order and may close a cycle with another
            # worker's: PostgreSQL then aborts one of the two and ``locks.retrying`` runs
            # that chunk again. Issuers stored while their dependants are being correlated
            # are rare, so this is cheaper than rolling back every chunk whose re-check
            # finds something.
            locks.lock(locks.KEY_LOCKS, more)
            held |= more
            fresh = _stored_since(asked, index)
            if not fresh:
                break
            index.add(fresh)
            close_over(index, fetch_lookups, fresh, asked)
        # An identity created by an earlier pass is found, not created, by the later ones.
        summary.identities_created = created
    return summary


def _read_ids(ids: list[int], span: Span | None) -> list[EngineEvent]:
    """The events of ``ids``: within ``span`` first (a read by id alone probes every month's
    partition), then without it for any whose time changed since (a replaced record)."""
    if span is None:
        return _values(Event.objects.filter(pk__any=ids))
    found = _values(Event.objects.filter(pk__any=ids, event_time__range=span))
    if len(found) < len(ids):
        have = {int(t.key) for t in found}
        found += _values(Event.objects.filter(pk__any=[pk for pk in ids if pk not in have]))
    return found


def _lookup_values(lookups: Lookups) -> set[str]:
    return set().union(*(getattr(lookups, f.name) for f in dataclasses.fields(lookups)))


def _stored_since(asked: Lookups, index: MemoryIndex) -> list[EngineEvent]:
    """Events answering lookups already asked that the index does not hold: stored after
    they were asked. Ids first, so only such events are read in full."""
    q = _answering(asked)
    if not q:
        return []
    found = Event.objects.filter(q).values_list("pk", flat=True)
    new = sorted(pk for pk in found if str(pk) not in index)
    out: list[EngineEvent] = []
    for start in range(0, len(new), CHUNK):
        out.extend(_values(Event.objects.filter(pk__any=new[start : start + CHUNK])))
    return out


def affected_by(event_ids: Sequence[int], dropped_keys: Iterable[str] = ()) -> set[int]:
    """Stored events whose attribution read a value these newly stored events carry, or one
    of ``dropped_keys`` (values that replaced records carried and their events no longer do)."""
    keys: set[str] = set(dropped_keys)
    for chunk_start in range(0, len(event_ids), CHUNK):
        chunk = event_ids[chunk_start : chunk_start + CHUNK]
        for item in _values(Event.objects.filter(pk__any=chunk)):
            keys |= arrival_keys(item.event)
    found = locks.retrying(functools.partial(_waiting_for, sorted(keys)))
    return found - set(event_ids)


def _waiting_for(keys: list[str]) -> set[int]:
    """Events with a wait on one of ``keys``, read under the keys' locks: a correlator whose
    results read one of them has committed its waits, or will see the new events itself."""
    found: set[int] = set()
    with transaction.atomic() if locks.keyed() else nullcontext():
        locks.lock(locks.KEY_LOCKS, {locks.bucket_of(key) for key in keys})
        for start in range(0, len(keys), CHUNK):
            found |= set(
                EventWait.objects.filter(key__any=keys[start : start + CHUNK]).values_list(
                    "event_id", flat=True
                )
            )
    return found


def correlate_batch(batch_id: int, progress: Progress | None = None) -> Summary:
    """Correlate a finished batch's events and everything their arrival can change."""
    return correlate_batches([batch_id], progress)


def correlate_batches(
    batch_ids: Sequence[int],
    progress: Progress | None = None,
    dropped_keys: Iterable[str] = (),
) -> Summary:
    """``correlate_batch`` for several batches at once: the files an ingest run took
    together are correlated in shared chunks, not a handful of events at a time. An event
    whose record a batch replaced belongs to that batch now, so it is correlated again."""
    done = uncorrelated_batch_ids(batch_ids)  # before their events are read
    ids = list(Event.objects.filter(batch_id__in=list(batch_ids)).values_list("pk", flat=True))
    summary = correlate_ids(set(ids) | affected_by(ids, dropped_keys), progress)
    mark_correlated(done, all_read=True)
    return summary


def correlate_all(
    only_uncorrelated: bool = False,
    progress: Progress | None = None,
    share: tuple[int, int] | None = None,
) -> Summary:
    """Correlate every event (or those never correlated). ``share=(i, n)``: only the i-th of
    n shares of the chains, so n processes correlating the store never wait on one chain."""
    # Done before the events are read: every event they hold is correlated below (or, if
    # only the uncorrelated ones are read, has been before). With a share, only part of
    # them is: ``manage.py correlate`` checks them once its share is done.
    done = [] if share else uncorrelated_batch_ids()
    qs = Event.objects.all()
    if only_uncorrelated:
        qs = qs.filter(UNCORRELATED)
    listed = qs.values_list("pk", *CHAIN_COLUMNS, "event_time")
    rows = (
        bulk.plain_rows(listed, chunk=4 * CHUNK)
        if connection.vendor == "postgresql"
        else listed.iterator(chunk_size=4 * CHUNK)
    )
    with spaced_collections():
        summary = _correlate_plan(_plan(rows, share), progress)
    mark_correlated(done, all_read=True)
    return summary


def expire_pending() -> Summary:
    """Pending events older than the grace period are correlated again (→ missing_issuer).

    So are events never correlated whose batch was stored between one and LOST_LOOKBACK
    past the grace period: the correlation their ingest enqueued was lost (a broker
    restart). Older ones are left to ``manage.py correlate``, so that each sweep reads the
    pending attributions and the recent batches through their indexes, not every event.
    They are taken in slices of SWEEP_SLICE, and by one sweeper at a time.
    """
    summary = Summary()
    with locks.sole_sweeper() as mine:
        if not mine:
            return summary
        cutoff = timezone.now() - timedelta(minutes=settings.CORRELATION_GRACE_MINUTES)
        waiting = Attribution.objects.filter(
            status=STATUS_PENDING, event_time__lt=cutoff
        ).values_list("event_id", flat=True)
        lost = Event.objects.filter(
            UNCORRELATED,
            batch__finished_at__gte=cutoff - LOST_LOOKBACK,
            batch__finished_at__lt=cutoff,
            event_time__lt=cutoff,
        ).values_list("pk", flat=True)
        for due, key in ((waiting, "event_id"), (lost, "pk")):
            last = 0
            while ids := list(due.filter(**{f"{key}__gt": last}).order_by(key)[:SWEEP_SLICE]):
                last = ids[-1]
                correlate_ids(ids, summary=summary)
        # The batches whose correlation was lost are correlated now: say so, so that the
        # pending filter no longer looks among their events.
        mark_correlated(
            IngestBatch.objects.filter(
                correlated_at=None,
                finished_at__gte=cutoff - LOST_LOOKBACK,
                finished_at__lt=cutoff,
            ).values_list("pk", flat=True)
        )
    return summary


def identities_changed(identity_ids: Iterable[int]) -> Summary:
    """Re-attribute events that a directory change can affect."""
    with transaction.atomic() if locks.keyed() else nullcontext():
        # A correlation that read the directory before the change may still be writing:
        # wait for every chain's lock, so that its results are stored before the events
        # to re-attribute are chosen (those started later read the changed directory).
        locks.lock(locks.EVENT_LOCKS, range(settings.CORRELATION_LOCK_BUCKETS))
        ids = set(
            Attribution.objects.filter(origin_id__in=list(identity_ids)).values_list(
                "event_id", flat=True
            )
        )
        ids |= set(
            Attribution.objects.filter(
                status__in=[STATUS_UNATTRIBUTED, STATUS_AMBIGUOUS]
            ).values_list("event_id", flat=True)
        )
    return correlate_ids(ids)
