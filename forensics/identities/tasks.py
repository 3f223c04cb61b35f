"""Correlation tasks: thin wrappers around forensics.identities.services."""

from __future__ import annotations

from celery import shared_task

from forensics.identities import services


@shared_task(acks_late=True)
def correlate_batch(batch_id: int) -> str:
    """Correlate a finished ingest batch (idempotent: results are recomputed, not appended)."""
    return services.correlate_batch(batch_id).line()


@shared_task(acks_late=True)
def expire_pending() -> str:
    return services.expire_pending().line()


@shared_task(acks_late=True)
def identities_changed(identity_ids: list[int]) -> str:
    return services.identities_changed(identity_ids).line()
