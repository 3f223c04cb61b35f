from __future__ import annotations

from celery import shared_task

from forensics.core import overview


@shared_task(acks_late=True)
def recount_overview() -> str:
    """Count the home page's figures again (queued by the page when its count is stale)."""
    counted = overview.count()
    return f"counted {counted.total} events in {counted.seconds:.1f} s"
