"""The expected attribution of every generated access: the lines of expected.jsonl.

Each line names one event by ``source_kind`` and ``source_event_id`` (the producer's own id:
CloudTrail eventID, GCP insertId, Kubernetes auditID, Okta uuid, Entra sign-in id, Azure
eventDataId, OCSF metadata.uid) and says what the correlation engine should conclude once
every log, late ones included, has been ingested:

- ``attributed`` with the origin identity, named by one alias from ALIAS_NAMESPACES (an IAM
  user is an origin even when the directory does not list it: the forgotten legacy-sync user);
- ``unattributed`` with a reason when no single origin can be named: an anonymous request, a
  principal that names no one, a role session whose issuer was never logged, an identity the
  directory marks shared (the deploy-bot key: ``shared_account``; a service-account key file
  that circulates: ``long_lived_shared_key``), or a record whose user and session holder
  contradict each other (``conflicting_evidence``).

``ambiguous`` stays a valid status for chains that rest on an inferred hop; the estate's
scenarios have none. What the log cannot prove is never claimed: the leaked contractor key is
attributed to the contractor's IAM user, because that is all the trail can show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from forensics.estate.emission import AMBIGUOUS, ATTRIBUTED, UNATTRIBUTED, Emission

STATUSES = (ATTRIBUTED, AMBIGUOUS, UNATTRIBUTED)
REASONS = (
    "shared_account",
    "missing_issuer",
    "unknown_principal",
    "anonymous",
    "conflicting_evidence",
    "long_lived_shared_key",
)
FIELDS = ("source_kind", "source_event_id", "status", "origin", "reason", "story")


def expected_line(em: Emission) -> dict[str, Any] | None:
    """The expected.jsonl object for an emission, or None when it repeats another's event."""
    v = em.verdict
    if v is None:
        return None
    return {
        "source_kind": em.source_kind,
        "source_event_id": em.event_id,
        "status": v.status,
        "origin": v.origin.as_json() if v.origin else None,
        "reason": v.reason,
        "story": em.story,
    }


def read_expected(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an expected.jsonl file, one object at a time."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)
