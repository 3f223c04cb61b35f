"""Ingest tasks: thin wrappers around forensics.ingest.services."""

from __future__ import annotations

import logging

from celery import shared_task

from forensics.ingest import claims, services
from forensics.ingest.personal_data import reflag_events

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_ingest(batch_id: int) -> str:
    """Ingest an accepted batch and the queued files behind it (idempotent: a re-delivered
    message stores nothing twice; a batch another worker holds is left to it)."""
    with claims.claimed([batch_id, *claims.companions(batch_id)]) as ids:
        if batch_id not in ids:
            return f"batch {batch_id} is being ingested by another worker"
        batches = services.run_batches(ids)
    return "; ".join(f"batch {b.pk} {b.status}: {b.summary}" for b in batches)


@shared_task
def sweep_batches() -> int:
    """Re-send batches whose message was lost or whose worker died."""
    resent = 0
    for batch in services.stale_batches():
        log.warning("re-sending stale ingest batch %s (%s)", batch.pk, batch.status)
        run_ingest.delay(batch.pk)
        resent += 1
    return resent


@shared_task(acks_late=True)
def reflag_personal_data() -> int:
    """Re-apply the personal-data rules to every stored event."""
    return reflag_events()
