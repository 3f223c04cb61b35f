"""One search box: what a typed string names (identity, event, principal, credential, ...).

Exact lookups use the store's indexes; the unindexed ones (address, resource) only run
when the string looks like one, and identities also match partially (the directory is small).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from forensics.identities.models import Identity
from forensics.ingest.models import Event

LIMIT = 20
KIND_LABELS = {
    "identity": "Identities",
    "event": "Events",
    "principal": "Principals",
    "credential": "Credentials",
    "request": "Requests and sessions",
    "address": "Addresses",
    "resource": "Resources",
}


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    url: str
    detail: str = ""
    exact: bool = True
    ref: str = ""


def explorer_url(**params: str) -> str:
    return f"{reverse('event_list')}?{urlencode(params)}"


def find(q: str) -> list[Hit]:
    """Every target the string names, exact matches marked as such."""
    q = q.strip()
    if not q:
        return []
    hits = [*_identities(q), *_events(q), *_principals(q), *_credentials(q), *_requests(q)]
    if _looks_like_address(q):
        hits += _addresses(q)
    if _looks_like_resource(q):
        hits += _resources(q)
    return hits


def _identities(q: str) -> list[Hit]:
    exact = Q(name__iexact=q) | Q(aliases__value__iexact=q)
    found = list(Identity.objects.filter(exact).distinct()[:LIMIT])
    hits = [_identity_hit(i, exact=True) for i in found]
    if len(q) >= 3:
        partial = Q(name__icontains=q) | Q(aliases__value__icontains=q)
        more = Identity.objects.filter(partial).exclude(pk__in=[i.pk for i in found]).distinct()
        hits += [_identity_hit(i, exact=False) for i in more[:LIMIT]]
    return hits


def _identity_hit(identity: Identity, *, exact: bool) -> Hit:
    detail = identity.kind + (", shared account" if identity.shared else "")
    return Hit(
        "identity",
        identity.name,
        reverse("identity_detail", args=[identity.pk]),
        detail,
        exact=exact,
        ref=f"identity:{identity.pk}",
    )


def _events(q: str) -> list[Hit]:
    match = Q(source_event_id=q)
    if q.isdigit():
        match |= Q(pk=int(q))
    return [
        Hit(
            "event",
            f"{e.action} at {e.event_time:%Y-%m-%d %H:%M:%S}",
            reverse("event_trace", args=[e.pk]),
            f"#{e.pk}, {e.source_kind} id {e.source_event_id or '—'}",
            ref=f"event:{e.pk}",
        )
        for e in Event.objects.filter(match).order_by("pk")[:LIMIT]
    ]


def _principals(q: str) -> list[Hit]:
    hits = []
    if Event.objects.filter(actor_principal=q).exists():
        hits.append(Hit("principal", q, explorer_url(principal=q), "events this principal made"))
    issuers = Event.objects.carrying(q, "issued_principal").order_by("event_time", "pk")[:LIMIT]
    hits += [
        Hit(
            "principal",
            q,
            reverse("event_trace", args=[e.pk]),
            f"credentials issued to it by event #{e.pk} ({e.action})",
            exact=False,
            ref=f"event:{e.pk}",
        )
        for e in issuers
    ]
    return hits


def _credentials(q: str) -> list[Hit]:
    if not Event.objects.carrying(q, "credential_used", "credential_issued").exists():
        return []
    issuer = Event.objects.carrying(q, "credential_issued").order_by("event_time", "pk").first()
    detail = "issued and used" if issuer else "used (its issuing event is not in the store)"
    return [Hit("credential", q, explorer_url(credential=q), detail)]


def _requests(q: str) -> list[Hit]:
    events = list(Event.objects.carrying(q, "request_id", "correlation_id").order_by("pk")[:2])
    if len(events) == 1:
        e = events[0]
        return [
            Hit(
                "request",
                q,
                reverse("event_trace", args=[e.pk]),
                f"event #{e.pk}: {e.action}",
                ref=f"event:{e.pk}",
            )
        ]
    if events:
        return [Hit("request", q, explorer_url(request_id=q), "several events share it")]
    return []


def _looks_like_address(q: str) -> bool:
    try:
        ipaddress.ip_address(q)
    except ValueError:
        return q.endswith(".amazonaws.com") or q == "private"
    return True


def _addresses(q: str) -> list[Hit]:
    if Event.objects.filter(source_address=q).exists():
        return [Hit("address", q, explorer_url(address=q), "events from this address")]
    return []


def _looks_like_resource(q: str) -> bool:
    return "://" in q or q.startswith(("arn:", "/", "projects/", "//"))


def _resources(q: str) -> list[Hit]:
    if Event.objects.touching(q).exists():
        url = f"{reverse('resource_detail')}?{urlencode({'resource': q})}"
        return [Hit("resource", q, url, "accesses to this resource")]
    return []


def grouped(hits: list[Hit]) -> list[tuple[str, list[Hit]]]:
    """Hits grouped by kind, in a fixed order of kinds."""
    return [
        (label, [h for h in hits if h.kind == kind])
        for kind, label in KIND_LABELS.items()
        if any(h.kind == kind for h in hits)
    ]


def obvious_target(hits: list[Hit]) -> Hit | None:
    """The one place to go when exactly one thing matches exactly."""
    exact = {h.url: h for h in hits if h.exact}
    return next(iter(exact.values())) if len(exact) == 1 else None
