"""Monthly partitions of the event table (PostgreSQL; SQLite keeps one plain table).

``ingest_event`` is partitioned by range of ``event_time``: one partition per calendar month
(UTC) from FIRST_MONTH up to END_MONTH, and a DEFAULT partition for times outside that range,
so that a record dated 1900 or 2999 is stored without creating a partition for it. A CHECK
constraint keeps every in-range row out of the DEFAULT partition: a month's partition can
always be attached later (PostgreSQL refuses while the DEFAULT partition holds rows of that
month), and the constraint lets PostgreSQL skip scanning the DEFAULT partition when it does.

Month partitions are made on demand, in the inserting transaction, just before the rows;
the locks attaching one takes (see ``_create``) are held until that transaction commits,
which is one ingest chunk, once for each new month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "ingest_event"
ATTRIBUTIONS = "ingest_attribution"  # not partitioned: a detached month takes its rows out
DEFAULT_PARTITION = "ingest_event_default"
DEFAULT_CHECK = "ingest_event_default_outside_months"
FIRST_MONTH = date(1970, 1, 1)
END_MONTH = date(2100, 1, 1)  # exclusive
# Any fixed number: names the advisory lock that serializes creating partitions.
PARTITION_LOCK = 0x6576656E7470

# Months known to have a partition, per database alias. Filled only after the creating or
# checking transaction commits, so a rolled-back partition is never taken as present.
_known: dict[str, set[date]] = {}
# Months whose partition this process found with statistics, or gathered them for.
_analyzed: dict[str, set[date]] = {}


class PartitionError(RuntimeError):
    pass


def is_partitioned(connection: BaseDatabaseWrapper) -> bool:
    """Whether this database partitions the event table (PostgreSQL after the migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def month_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def bound(month: date) -> str:
    """A partition bound as a timestamptz literal that does not depend on the session zone."""
    return f"'{month.isoformat()} 00:00:00+00'"


def month_of(when: datetime) -> date | None:
    """The UTC month a time falls in, or None when it belongs to the DEFAULT partition."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    month = date(when.year, when.month, 1)
    return month if FIRST_MONTH <= month < END_MONTH else None


def ensure_for_times(times: Iterable[datetime], using: str = DEFAULT_DB_ALIAS) -> set[date]:
    """Make the month partitions events with these times need; returns those months."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return set()
    months = {m for m in map(month_of, times) if m is not None}
    if months - _known.get(using, set()):
        with connection.cursor() as cursor:
            _ensure(cursor, months)
    return months


def analyze_when_new(months: set[date], using: str = DEFAULT_DB_ALIAS) -> None:
    """Once the current transaction commits, gather statistics on those of these months'
    partitions that have none yet.

    A partition made during a bulk load has no statistics until autovacuum comes round (a
    minute or more later). Meanwhile the planner takes it for nearly empty, and a join on it,
    such as correlation writing its results back, can read the whole partition for every
    chunk of events: quadratic in the load. Sampled statistics, once, are enough: as the
    partition grows the planner scales them by its size on disk.
    """
    fresh = months - _analyzed.get(using, set())
    if fresh:
        transaction.on_commit(lambda: _analyze(fresh, using), using=using)


def _analyze(months: set[date], using: str) -> None:
    done = _analyzed.setdefault(using, set())
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples < 0",
            [[month_name(m) for m in months]],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ANALYZE {cursor.db.ops.quote_name(name)}")
    done.update(months)


def forget(using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop what this process believes exists (a month was detached behind its back)."""
    _known.pop(using, None)
    _analyzed.pop(using, None)


def is_missing_month(exc: BaseException) -> bool:
    """Whether an insert failed because a row's month has no partition (it hit DEFAULT's CHECK)."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == DEFAULT_CHECK


def _ensure(cursor: Any, months: set[date]) -> None:
    """Attach a partition for each of ``months`` lacking one."""
    alias = cursor.db.alias
    known = _known.setdefault(alias, set())
    missing = months - known
    if not missing:
        return
    # Atomic so that the advisory lock below, held to the end of the transaction, covers
    # the creation; inside the caller's transaction this adds no savepoint.
    with transaction.atomic(using=alias, savepoint=False):
        missing -= _attached(cursor, missing)
        if missing:
            # Two workers meeting the same new month: the second waits here for the first
            # to commit, then sees its partition (READ COMMITTED takes a fresh snapshot per
            # statement) and creates nothing.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK])
            missing -= _attached(cursor, missing)
            for month in sorted(missing):
                _create(cursor, month)
        transaction.on_commit(lambda: known.update(months), using=alias)


def _attached(cursor: Any, months: set[date]) -> set[date]:
    by_name = {month_name(m): m for m in months}
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass AND c.relname = ANY(%s)",
        [TABLE, list(by_name)],
    )
    return {by_name[name] for (name,) in cursor.fetchall()}


def _create(cursor: Any, month: date) -> None:
    """Attach a new, empty partition for ``month``.

    CREATE TABLE ... PARTITION OF would hold an ACCESS EXCLUSIVE lock on the whole event
    table until the inserting transaction commits, stopping every reader. A table made on
    its own and then attached needs only SHARE UPDATE EXCLUSIVE on the parent, which reads
    and writes of the other months do not wait for. It still takes ACCESS EXCLUSIVE on the
    DEFAULT partition (without scanning it, thanks to its CHECK constraint), so queries that
    cannot rule out the DEFAULT partition wait for the commit, and SHARE ROW EXCLUSIVE on the
    tables the foreign keys point at, to add their triggers. The empty table validates in
    no time; its indexes and foreign keys are made from the parent's.
    """
    name = month_name(month)
    cursor.execute("SELECT to_regclass(%s)", [name])
    if cursor.fetchone()[0] is not None:
        raise PartitionError(
            f"table {name} exists but is not a partition of {TABLE} (a detached month?); "
            "rename or drop it so that the month can be stored again"
        )
    qn = cursor.db.ops.quote_name
    cursor.execute(
        f"CREATE TABLE {qn(name)} "
        f"(LIKE {qn(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
        "INCLUDING COMPRESSION)"
    )
    cursor.execute(
        f"ALTER TABLE {qn(TABLE)} ATTACH PARTITION {qn(name)} "
        f"FOR VALUES FROM ({bound(month)}) TO ({bound(next_month(month))})"
    )


def partition_list(cursor: Any) -> list[tuple[str, str, int]]:
    """(name, bounds, estimated rows) of every partition: months in order, DEFAULT last."""
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
        "greatest(c.reltuples, 0)::bigint FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass "
        "ORDER BY c.relname = %s, c.relname",
        [TABLE, DEFAULT_PARTITION],
    )
    return [(name, spec, rows) for name, spec, rows in cursor.fetchall()]


def detach(cursor: Any, month: date) -> str:
    """Detach a month's partition and rename it ``<name>_detached``; returns the new name.

    The renamed table keeps the rows for archiving (pg_dump it, then drop it), and the
    month's attributions move out to ``<name>_detached_attribution`` beside it. The month's
    dedupe keys stay claimed, so a re-sent record of it counts as a duplicate; a new record
    of that month gets a fresh partition.
    """
    name = month_name(month)
    archived = f"{name}_detached"
    results = f"{archived}_attribution"
    qn = cursor.db.ops.quote_name
    with transaction.atomic(using=cursor.db.alias):
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK])
        if not _attached(cursor, {month}):
            raise PartitionError(f"{TABLE} has no partition for {month:%Y-%m}")
        for table in (archived, results):
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is not None:
                raise PartitionError(f"{table} already exists: archive and drop it first")
        cursor.execute(f"ALTER TABLE {qn(TABLE)} DETACH PARTITION {qn(name)}")
        cursor.execute(f"ALTER TABLE {qn(name)} RENAME TO {qn(archived)}")
        span = f"event_time >= {bound(month)} AND event_time < {bound(next_month(month))}"
        cursor.execute(
            f"CREATE TABLE {qn(results)} AS SELECT * FROM {qn(ATTRIBUTIONS)} WHERE {span}"  # noqa: S608
        )
        cursor.execute(f"DELETE FROM {qn(ATTRIBUTIONS)} WHERE {span}")  # noqa: S608
    forget(cursor.db.alias)
    return archived
