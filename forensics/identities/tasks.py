"""Correlation tasks: thin wrappers around forensics.identities.services."""

from __future__ import annotations

from celery import Task, shared_task

from forensics.identities import services


@shared_task(acks_late=True, bind=True)
def correlate_batch(self: Task, batch_id: int) -> str:
    """Correlate a finished ingest batch (idempotent: results are recomputed, not appended)."""
    return correlate_batches.run([batch_id])


@shared_task(acks_late=True, bind=True)
def correlate_batches(
    self: Task, batch_ids: list[int], dropped_keys: list[str] | None = None
) -> str:
    """Correlate the batches an ingest run finished together (idempotent, as above);
    ``dropped_keys``: values replaced records carried, whose dependants are correlated too."""
    line = services.correlate_batches(batch_ids, dropped_keys=dropped_keys or ()).line()
    if self.app.conf.task_always_eager:
        # Embedded mode has no beat: events past their grace period are settled here.
        services.expire_pending()
    return line


@shared_task(acks_late=True)
def expire_pending() -> str:
    return services.expire_pending().line()


@shared_task(acks_late=True)
def identities_changed(identity_ids: list[int]) -> str:
    return services.identities_changed(identity_ids).line()
