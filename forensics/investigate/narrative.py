"""A trace in plain words, and the raw records of a chain, readable.

The sentence only says what the stored hops say: an inferred hop is called inferred, a hop
asserted by the log is called asserted, and a chain that does not reach an identity says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forensics.identities.models import Identity
from forensics.ingest.models import Event

METHOD_PHRASES = {
    "sign-in": "signed in as {p}",
    "saml-federation": "signed in through SAML as {p}",
    "web-identity": "federated with a web-identity token as {p}",
    "sso": "took IAM Identity Center credentials for {p}",
    "assume-role": "assumed {p}",
    "session-token": "obtained a session token as {p}",
    "federation-token": "obtained a federation token as {p}",
    "impersonation": "impersonated {p}",
    "delegation": "delegated to {p}",
    "token-exchange": "exchanged a token for {p}",
    "service": "had {p} act on its behalf",
    "instance-profile": "ran with instance-profile credentials as {p}",
}
EVIDENCE_PHRASES = {
    "exact": "",
    "asserted": " (asserted by the log)",
    "inferred": " (inferred, not proven)",
}
REASONS = {
    "shared_account": (
        "the account is shared by several people, so the log cannot say which one acted"
    ),
    "missing_issuer": "the event that issued the credential is not in the store",
    "unknown_principal": (
        "the principal is not known to the directory and no issuing event names it"
    ),
    "anonymous": "the request was made anonymously",
    "conflicting_evidence": "the evidence points to more than one origin",
    "long_lived_shared_key": "a long-lived key used by several callers made the request",
}


@dataclass(frozen=True)
class Step:
    """One hop with the event that backs it (None when that event is not in the store)."""

    principal: str
    credential: str
    method: str
    evidence: str
    via_key: str
    via: Event | None

    @property
    def short(self) -> str:
        return short_principal(self.principal)


def short_principal(principal: str) -> str:
    """ARNs read best by what follows the resource type: 'role/AdminRole' -> 'AdminRole'."""
    if principal.startswith("arn:") and "/" in principal:
        return "/".join(principal.split("/")[1:])
    return principal


def steps_for(event: Event) -> list[Step]:
    """The event's hops, each with its backing event fetched (one query for the chain)."""
    hops = [h for h in event.hops or [] if isinstance(h, dict)]
    keys = {str(h.get("via_event") or "") for h in hops}
    ids = [int(k) for k in keys if k.isdigit()]
    found = (
        {str(e.pk): e for e in Event.objects.filter(pk__in=ids).select_related("source")}
        if ids
        else {}
    )
    if str(event.pk) in keys:
        found[str(event.pk)] = event
    return [
        Step(
            principal=str(h.get("principal") or ""),
            credential=str(h.get("credential") or ""),
            method=str(h.get("method") or ""),
            evidence=str(h.get("evidence") or ""),
            via_key=str(h.get("via_event") or ""),
            via=found.get(str(h.get("via_event") or "")),
        )
        for h in hops
    ]


def _at(moment: datetime | None) -> str:
    return f" at {moment:%H:%M:%S}" if moment else ""


def explain(event: Event, origin: Identity | None, steps: list[Step]) -> str:
    """e.g. 'alice@corp.example signed in through SAML as AdminRole at 09:12:03, ...'."""
    clauses = []
    for step in steps:
        default = f"{step.method} to {{p}}" if step.method else "became {p}"
        phrase = METHOD_PHRASES.get(step.method, default)
        backed_by_other = step.via is not None and step.via.pk != event.pk
        when = step.via.event_time if backed_by_other and step.via is not None else None
        clauses.append(
            phrase.format(p=step.short or "an unnamed principal")
            + _at(when)
            + EVIDENCE_PHRASES.get(step.evidence, "")
        )
    subject = origin.name if origin is not None else "An actor the evidence does not identify"
    actor = steps[-1].short if steps else short_principal(event.actor_principal)
    acting = f"as {actor} " if actor and actor != subject else ""
    target = f" on {event.resource}" if event.resource else ""
    day = f"{event.event_time:%Y-%m-%d}"
    last = f"{acting}called {event.action}{target}{_at(event.event_time)} UTC on {day}"
    if event.outcome == "failure":
        last += ", which failed"
    body = ", ".join(clauses) + ", and " + last if clauses else last
    sentence = f"{subject} {body}."
    if event.status != "attributed":
        sentence += " " + breaks_at(event)
    return sentence


def breaks_at(event: Event) -> str:
    """Why the chain does not reach a unique origin, in words."""
    if event.status == "pending":
        return "Attribution is pending: the chain is waiting for an event that has not arrived."
    reason = REASONS.get(event.reason, event.reason.replace("_", " ")) if event.reason else ""
    text = f"The chain stops here ({event.status})"
    return f"{text}: {reason}." if reason else f"{text}."


def pretty_raw(raw: str) -> str:
    """The raw record indented when it is JSON, else as stored."""
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(parsed, indent=2, ensure_ascii=False)
