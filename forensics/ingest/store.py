"""Storing ingested rows: each key claimed once across the event table's partitions, the new
rows written in bulk, and a record that outranks its key's stored one (a later stage of the
same Kubernetes request) written over it."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction

from forensics.core import bulk
from forensics.engine.correlation import arrival_keys
from forensics.engine.model import NormalizedEvent
from forensics.ingest import partitions
from forensics.ingest.models import Attribution, Event, EventKey, EventWait
from forensics.ingest.rows import insert_columns, staged_rows


@dataclass(frozen=True)
class Written:
    """What ``insert_events`` did with each key."""

    stored: set[str] = field(default_factory=set)  # new events
    # Keys whose stored event now holds the arriving record instead (same event id).
    replaced: set[str] = field(default_factory=set)
    # Values by which a stored event can change others' results (the engine's arrival keys)
    # that a replaced record carried and its replacement does not.
    dropped_keys: set[str] = field(default_factory=set)


def insert_events(rows: list[dict[str, Any]]) -> Written:
    """Store rows (unique by dedupe_key), skipping keys already stored unless a row outranks
    the stored record of its key (see engine.precedence): that event is then replaced.

    The keys are claimed in EventKey first, in the same transaction, and only the rows whose
    key this call claimed are written, straight into the event table (COPY on PostgreSQL):
    each row is written once, the key stays unique across the event table's monthly
    partitions, and the stored/duplicate counts are exact. Only rows with a precedence pay
    for comparing it; the others are claimed exactly as before.
    """
    if not rows:
        return Written()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        ranked = [row for row in rows if row["precedence"] is not None]
        plain = [row for row in rows if row["precedence"] is None] if ranked else rows
        # Plain keys, then ranked ones: each statement claims in key order, and a key is
        # always of one kind, so concurrent ingests still take their waits in one order.
        claimed = _claim(cursor, [row["dedupe_key"] for row in plain]) if plain else set()
        raised: set[str] = set()
        if ranked:
            claimed_ranked, raised = _claim_ranked(cursor, ranked)
            claimed |= claimed_ranked
        stored = [row for row in rows if row["dedupe_key"] in claimed]
        superseding = [row for row in ranked if row["dedupe_key"] in raised]
        if not stored and not superseding:
            return Written(claimed)
        times = [row["event_time"] for row in itertools.chain(stored, superseding)]
        months = partitions.ensure_for_times(times)
        try:
            with transaction.atomic():
                written = _write(cursor, stored, superseding)
        except IntegrityError as exc:
            if not partitions.is_missing_month(exc):
                raise
            # A month this process knew was detached since: look again, then store.
            partitions.forget()
            months = partitions.ensure_for_times(times)
            written = _write(cursor, stored, superseding)
    partitions.analyze_when_new(months)
    return Written(claimed, *written)


def _write(
    cursor: Any, stored: list[dict[str, Any]], superseding: list[dict[str, Any]]
) -> tuple[set[str], set[str]]:
    if stored:
        bulk.insert(cursor, Event, insert_columns(), staged_rows(stored))
    return _replace(cursor, superseding) if superseding else (set(), set())


_ENGINE_FIELDS = [f.name for f in dataclasses.fields(NormalizedEvent)]


def _replace(cursor: Any, rows: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Overwrite the stored events of these rows' keys with the rows, each keeping its id;
    returns the keys replaced and the arrival keys only the old records carried.

    The caller holds the keys' EventKey rows locked, so no other ingest replaces these
    events before this transaction ends. A replaced event is attributed afresh: its
    attribution and its waits are dropped here (it is pending again) and it moves to the
    replacing row's batch, which is correlated once it is stored. The superseded record
    stays byte-exact in the raw store, in the file of the batch it came from. A key whose
    event is gone (its month detached) is left alone.
    """
    by_key = {row["dedupe_key"]: row for row in rows}
    old = list(
        Event.objects.filter(dedupe_key__in=list(by_key)).values(
            "id", "dedupe_key", *_ENGINE_FIELDS
        )
    )
    if not old:
        return set(), set()
    dropped: set[str] = set()
    for before in old:
        after = by_key[before["dedupe_key"]]
        dropped |= arrival_keys(_normalized(before)) - arrival_keys(_normalized(after))
    columns = insert_columns()
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
    (time_of,) = bulk.converters([Event._meta.get_field("event_time")])
    values = dict(zip(by_key, staged_rows(by_key.values()), strict=True))
    # Matching event_time as well looks the row up in its own month's partition; a new time
    # in another month moves the row there (PostgreSQL moves it on UPDATE, keeping its id).
    cursor.executemany(
        f"UPDATE {qn(Event._meta.db_table)} SET {assignments} "  # noqa: S608
        "WHERE id = %s AND event_time = %s",
        [
            [*values[before["dedupe_key"]], before["id"], time_of(before["event_time"])]
            for before in old
        ],
    )
    replaced = [before["id"] for before in old]
    Attribution.objects.filter(event_id__any=replaced).delete()
    EventWait.objects.filter(event_id__in=replaced).delete()
    return {before["dedupe_key"] for before in old}, dropped


def _normalized(row: dict[str, Any]) -> NormalizedEvent:
    return NormalizedEvent(**{name: row[name] for name in _ENGINE_FIELDS})


def _claim(cursor: Any, keys: list[str]) -> set[str]:
    """Claim these keys; returns those this call claimed (not claimed before)."""
    key_table = connection.ops.quote_name(EventKey._meta.db_table)
    if connection.vendor == "postgresql":
        # A key claimed by a concurrent, uncommitted insert makes ON CONFLICT wait for it
        # and then skip the key if it committed. Claiming in key order makes concurrent
        # ingests take those waits in one order, so they cannot deadlock.
        # The keys go as one JSON text: psycopg dumps a list parameter value by value in
        # Python, five times slower than orjson.
        cursor.execute(
            f"INSERT INTO {key_table} (dedupe_key) "  # noqa: S608
            "SELECT k FROM json_array_elements_text(%s::json) AS k ORDER BY k "
            "ON CONFLICT DO NOTHING RETURNING dedupe_key",
            [orjson.dumps(keys).decode()],
        )
    else:
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT.
        cursor.execute(
            f"INSERT INTO {key_table} (dedupe_key) "  # noqa: S608
            "SELECT value FROM json_each(%s) WHERE true "
            "ON CONFLICT DO NOTHING RETURNING dedupe_key",
            [orjson.dumps(keys).decode()],
        )
    return {r[0] for r in cursor.fetchall()}


def _claim_ranked(cursor: Any, rows: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Claim the keys of rows that carry a precedence; returns (claimed, raised): the keys
    this call claimed, and those already claimed whose stored record a row outranks. A
    raised key's precedence is updated here, which locks its row to the end of the
    transaction: a concurrent ingest of the same key waits, then compares with this one."""
    key_table = connection.ops.quote_name(EventKey._meta.db_table)
    pairs = sorted((row["dedupe_key"], row["precedence"]) for row in rows)
    if connection.vendor == "postgresql":
        # One statement, in key order as in ``_claim``. A new row has no xmax; an updated
        # one carries this transaction's. C collation compares the texts byte by byte.
        cursor.execute(
            f"INSERT INTO {key_table} AS k (dedupe_key, precedence) "  # noqa: S608
            "SELECT r->>0, r->>1 FROM json_array_elements(%s::json) AS r ORDER BY 1 "
            "ON CONFLICT (dedupe_key) DO UPDATE SET precedence = excluded.precedence "
            'WHERE k.precedence COLLATE "C" < excluded.precedence '
            "RETURNING k.dedupe_key, k.xmax = 0",
            [orjson.dumps(pairs).decode()],
        )
        returned = cursor.fetchall()
        return {k for k, new in returned if new}, {k for k, new in returned if not new}
    # SQLite has one writer at a time: raise the outranked keys, then claim the new ones.
    data = orjson.dumps(pairs).decode()
    cursor.execute(
        f"UPDATE {key_table} SET precedence = json_extract(r.value, '$[1]') "  # noqa: S608
        "FROM json_each(%s) AS r "
        f"WHERE {key_table}.dedupe_key = json_extract(r.value, '$[0]') "
        f"AND {key_table}.precedence < json_extract(r.value, '$[1]') "
        "RETURNING dedupe_key",
        [data],
    )
    raised = {r[0] for r in cursor.fetchall()}
    cursor.execute(
        f"INSERT INTO {key_table} (dedupe_key, precedence) "  # noqa: S608
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
        "FROM json_each(%s) WHERE true ON CONFLICT DO NOTHING RETURNING dedupe_key",
        [data],
    )
    return {r[0] for r in cursor.fetchall()}, raised
