"""Evidence-pack tasks (exports queue): thin wrappers around forensics.evidence.services."""

from __future__ import annotations

import logging

from celery import shared_task

from forensics.evidence import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def build_pack(pack_id: int) -> str:
    """Build a requested pack; a re-delivered message for a pack built or being built by a
    live worker does nothing."""
    if not services.claim(pack_id):
        return f"pack {pack_id} is built or being built elsewhere"
    pack = services.build(pack_id)
    return f"pack {pack.pk} {pack.status}" + (f": {pack.error}" if pack.error else "")


@shared_task
def sweep_packs() -> int:
    """Re-send packs whose message was lost or whose worker died."""
    stale = services.stale_packs()
    for pack_id in stale:
        log.warning("re-sending stale evidence pack %s", pack_id)
        build_pack.delay(pack_id)
    return len(stale)
