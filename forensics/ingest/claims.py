"""Which ingest worker runs which batch.

A worker that picks up one small file also takes the other queued files waiting behind it,
so their records share database writes (see ``services.run_batches``). Those files still
have their own task messages, which other workers will receive: a claim makes sure a batch
never runs in two workers at once.

On PostgreSQL a claim is a session-level advisory lock per batch, tried without waiting.
It is released when the run ends, and by the server when the worker's connection dies, so a
batch whose worker crashed is free for the redelivered message at once. SQLite has a single
writer and no such locks; there every claim succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from forensics.ingest.models import IngestBatch

# Advisory lock keys for batches: this tag plus the batch id, apart from other lock users.
_TAG = 0x696E67 << 40


def companions(batch_id: int) -> list[int]:
    """Queued batches to run alongside ``batch_id``, oldest first, within the group limits."""
    rows = (
        IngestBatch.objects.filter(status=IngestBatch.QUEUED, size__lt=settings.INGEST_GROUP_BYTES)
        .exclude(pk=batch_id)
        .order_by("pk")
        .values_list("pk", "size")[: max(settings.INGEST_GROUP_FILES - 1, 0)]
    )
    out: list[int] = []
    total = 0
    for pk, size in rows:
        total += size
        if total > settings.INGEST_GROUP_BYTES:
            break
        out.append(pk)
    return out


@contextmanager
def claimed(batch_ids: Sequence[int]) -> Iterator[list[int]]:
    """Claim what nobody else holds; yields those ids (in the order given) and releases them."""
    if connection.vendor != "postgresql":
        yield list(dict.fromkeys(batch_ids))
        return
    got: list[int] = []
    try:
        with connection.cursor() as cursor:
            for pk in dict.fromkeys(batch_ids):
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_TAG + pk])
                if cursor.fetchone()[0]:
                    got.append(pk)
        yield got
    finally:
        if got and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(k) FROM unnest(%s::bigint[]) AS k",
                    [[_TAG + pk for pk in got]],
                )
