"""Keyed correlation locks, so workers on different chains never wait for one another.

PostgreSQL: two namespaces of transaction-scoped advisory locks, each hashed into
``CORRELATION_LOCK_BUCKETS`` buckets (advisory locks live in PostgreSQL's shared lock table,
so their number is bounded: a transaction holds at most twice that many).

- Event locks, on the chain key of every event a chunk correlates: two transactions never
  correlate one event at once, and the later one reads what the earlier one stored.
- Key locks, on the values correlation looks events up by and its waits name: a correlator
  holds them from the re-check that follows its write-back until it commits; an arrival takes
  them for the values its new events carry before it reads the waits. Either the arrival
  reads after the correlator committed (and finds its waits), or the correlator's re-check
  reads after the new events were stored (and attributes through them).

Every transaction takes its event locks, sorted, before its key locks, sorted, and an arrival
takes key locks only, so locks are waited for in one global order; the exceptions (a re-check
that finds new events and needs more key locks; two workers creating the same new identities)
end in PostgreSQL's deadlock error, and the transaction is run again (``retrying``).

SQLite: transactions begin IMMEDIATE (settings), so one writer at a time, and storing an
event is a write too: nothing is locked here and nothing needs re-checking.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")

# The first half of each two-number advisory lock; distinctive so that other users of the
# database who take (small number, n) locks do not collide with these.
EVENT_LOCKS = 0x666F0001
KEY_LOCKS = 0x666F0002
SWEEP_LOCK = (0x666F0003, 0)
DEADLOCK_RETRIES = 5
DEADLOCK = "40P01"


def keyed() -> bool:
    """True when the database needs the advisory locks (PostgreSQL)."""
    return connection.vendor == "postgresql"


def bucket_of(value: str) -> int:
    """The lock bucket of a chain key or lookup value, the same in every process and run."""
    return zlib.crc32(value.encode()) % settings.CORRELATION_LOCK_BUCKETS


def chain_bucket(credential_used: str, actor_principal: str) -> int:
    """The event-lock bucket of an event: its credential, or its actor when it used none.

    Both columns never change once stored, and every event of one chain that uses one key
    shares the bucket, so workers on different chains take different locks.
    """
    return bucket_of(credential_used or actor_principal)


def share_range(share: tuple[int, int] | None) -> range:
    """The event buckets of share ``(i, n)``: the i-th of n contiguous ranges (all: None)."""
    buckets = settings.CORRELATION_LOCK_BUCKETS
    if share is None:
        return range(buckets)
    i, n = share
    if not 0 <= i < n:
        raise ValueError(f"share {i} of {n}: need 0 <= i < n")
    return range(i * buckets // n, (i + 1) * buckets // n)


def lock(namespace: int, buckets: Iterable[int]) -> None:
    """Hold these locks until the transaction ends; taken in ascending order, one statement."""
    ordered = sorted(set(buckets))
    if not ordered or not keyed():
        return
    with connection.cursor() as cursor:
        # The aggregate consumes the sorted subquery row by row, so the locks are taken in
        # ascending order; two transactions wanting overlapping sets cannot each hold a lock
        # the other waits for.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, b)) "
            "FROM (SELECT b FROM unnest(%s::integer[]) AS b ORDER BY b) AS sorted",
            [namespace, ordered],
        )


def retrying(work: Callable[[], T]) -> T:
    """Run ``work`` (one whole transaction) again when PostgreSQL aborts it to end a deadlock.

    Inside a caller's transaction there is nothing to retry: the caller's locks stay held.
    """
    attempt = 1
    while True:
        try:
            return work()
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", None) == DEADLOCK
            if not deadlock or attempt >= DEADLOCK_RETRIES or connection.in_atomic_block:
                raise
            log.warning("correlation: deadlock resolved, running again (%d)", attempt)
            attempt += 1


@contextmanager
def sole_sweeper() -> Iterator[bool]:
    """Whether this worker may run the grace-period sweep: one at a time, never waited for
    (beat queues one every few minutes, and a large backlog takes longer). The lock is the
    connection's, so a worker that dies releases it with its connection."""
    if not keyed():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(SWEEP_LOCK))
        mine = bool(cursor.fetchone()[0])
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(SWEEP_LOCK))
