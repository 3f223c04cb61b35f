"""The trace of one event: its stored attribution in the CLI/JSON contract shape."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from forensics.identities.models import Identity
from forensics.ingest.models import Event


def find_event(ref: str) -> Event | None:
    """Our id, or the producer's event id (CloudTrail eventID, K8s auditID, ...)."""
    ref = ref.strip()
    q = Q(source_event_id=ref)
    if ref.isdigit():
        q |= Q(pk=int(ref))
    return Event.objects.select_related("attribution__origin").filter(q).order_by("pk").first()


def trace_json(event: Event) -> dict[str, Any]:
    """{"event", "status", "reason", "origin", "hops"}, hops from the origin to the event."""
    origin: dict[str, Any] | None = None
    if event.origin_id is not None:
        ident: Identity = event.origin  # type: ignore[assignment]
        origin = {
            "kind": ident.kind,
            "name": ident.name,
            "aliases": [f"{a.namespace}:{a.value}" for a in ident.aliases.all()],
        }
    return {
        "event": event.source_event_id or str(event.pk),
        "status": event.status,
        "reason": event.reason or None,
        "origin": origin,
        "hops": [
            {
                "principal": h.get("principal", ""),
                "credential": h.get("credential", ""),
                "method": h.get("method", ""),
                "evidence": h.get("evidence", ""),
                "via_event": _via(h.get("via_event")),
            }
            for h in event.hops
        ],
    }


def _via(key: str | None) -> str | None:
    """Hops name their backing event by our key; the contract shows the producer's id."""
    if not key:
        return None
    if key.isdigit():
        sid = Event.objects.filter(pk=int(key)).values_list("source_event_id", flat=True).first()
        return sid or key
    return key
