"""Which record of one event the store keeps, for producers that log an event more than once.

The Kubernetes API server can log one request at each stage it reaches (RequestReceived,
ResponseStarted, ResponseComplete, Panic), every record with the request's auditID. Those
records share a dedupe key, and the store must end up holding the same one whichever arrives
first: the record that got furthest, and among records equally far the one whose raw text
has the greatest SHA-256. Arrival order never decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# How far a request had got when the record was written. A record without a stage (or with
# one this table does not know) ranks as terminal: it cannot be shown to be an early one.
K8S_STAGE_RANKS: dict[str, int] = {
    "RequestReceived": 0,
    "ResponseStarted": 1,
    "ResponseComplete": 2,
    "Panic": 2,
}
K8S_TERMINAL = 2


def precedence(source_kind: str, attrs: Mapping[str, Any], raw_sha256: str) -> str | None:
    """A text that orders the records sharing one dedupe key: the greatest is kept.

    None for sources whose repeated records are copies of one record: the first stored stays,
    and they pay for no comparison. The text is "<rank>:<sha256 of the raw record>", so it
    compares by rank first and byte-wise (C collation) gives the same order everywhere.
    """
    if source_kind != "k8s_audit":
        return None
    stage = attrs.get("audit_stage")
    rank = K8S_STAGE_RANKS.get(stage, K8S_TERMINAL) if isinstance(stage, str) else K8S_TERMINAL
    return f"{rank}:{raw_sha256}"
