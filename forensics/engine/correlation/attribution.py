"""What correlation answers for one event: status, reason, origin identity and ordered hops."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ATTRIBUTED = "attributed"
AMBIGUOUS = "ambiguous"
UNATTRIBUTED = "unattributed"
PENDING = "pending"
STATUSES = (ATTRIBUTED, AMBIGUOUS, UNATTRIBUTED, PENDING)

SHARED_ACCOUNT = "shared_account"
MISSING_ISSUER = "missing_issuer"
UNKNOWN_PRINCIPAL = "unknown_principal"
ANONYMOUS = "anonymous"
CONFLICTING_EVIDENCE = "conflicting_evidence"
LONG_LIVED_SHARED_KEY = "long_lived_shared_key"
REASONS = (
    SHARED_ACCOUNT,
    MISSING_ISSUER,
    UNKNOWN_PRINCIPAL,
    ANONYMOUS,
    CONFLICTING_EVIDENCE,
    LONG_LIVED_SHARED_KEY,
)

HUMAN = "human"
WORKLOAD = "workload"
IDENTITY_KINDS = (HUMAN, WORKLOAD)

EXACT = "exact"
ASSERTED = "asserted"
INFERRED = "inferred"


@dataclass(frozen=True, slots=True, order=True)
class Alias:
    """How one identity is named in one system (namespaces: model.ALIAS_NAMESPACES)."""

    namespace: str
    value: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.value}"


@dataclass(frozen=True, slots=True)
class Origin:
    """The human or workload a chain starts from.

    ``identity_id`` is set when the directory knows the identity; otherwise the origin is a
    proposal from an authoritative root that the service may turn into a new identity.
    ``logged_name`` is the name the logs gave the root when the directory names the identity
    otherwise (the service may prefer it to a name that was only an id), and ``new_aliases``
    the root's aliases the directory does not know it by yet.
    """

    kind: str  # human | workload
    name: str
    aliases: tuple[Alias, ...]
    identity_id: str | None = None
    logged_name: str = ""
    new_aliases: tuple[Alias, ...] = ()


@dataclass(frozen=True, slots=True)
class Hop:
    """One hand-over: ``principal`` came to hold ``credential`` by ``method``.

    ``via_event`` is the key of the event that backs the hop: the issuing event for an exact
    link, the event itself for a fact asserted in its own record, "" when an inferred link
    has several candidate issuers.
    """

    principal: str
    credential: str
    method: str
    evidence: str  # exact | asserted | inferred
    via_event: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who really did one event, or why that cannot be told."""

    event_key: str
    status: str
    reason: str | None
    origin: Origin | None
    hops: tuple[Hop, ...]  # from the origin to the event
    candidates: tuple[Origin, ...] = ()
    waiting_on: tuple[str, ...] = ()  # missing ids whose arrival would complete the chain
    explanation: str = ""
    # Every lookup value the result was read from (credential ids, principals, session ids):
    # an arriving event that issues or shares one of them may change this result.
    depends_on: tuple[str, ...] = ()


def origin_json(origin: Origin) -> dict[str, Any]:
    """An origin in the trace contract's shape."""
    return {
        "kind": origin.kind,
        "name": origin.name,
        "aliases": [str(alias) for alias in origin.aliases],
    }


def to_json(attribution: Attribution) -> dict[str, Any]:
    """The ``trace --json`` contract, without the "event" member the service fills in."""
    return {
        "status": attribution.status,
        "reason": attribution.reason,
        "origin": origin_json(attribution.origin) if attribution.origin else None,
        "hops": hops_json(attribution.hops),
    }


def hops_json(hops: Iterable[Hop]) -> list[dict[str, str]]:
    """Hops in the trace contract's shape, which is also how a stored result holds them."""
    return [
        {
            "principal": hop.principal,
            "credential": hop.credential,
            "method": hop.method,
            "evidence": hop.evidence,
            "via_event": hop.via_event,
        }
        for hop in hops
    ]
