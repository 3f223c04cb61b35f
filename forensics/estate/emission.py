"""One generated log record, where it goes, and what attribution it should receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ATTRIBUTED = "attributed"
AMBIGUOUS = "ambiguous"
UNATTRIBUTED = "unattributed"

HUMAN = "human"
WORKLOAD = "workload"


@dataclass(frozen=True, slots=True)
class Origin:
    """The identity an access goes back to, named by one alias (see ALIAS_NAMESPACES)."""

    kind: str  # human | workload
    namespace: str
    value: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "alias": {"namespace": self.namespace, "value": self.value}}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The attribution the correlation engine should reach once every log is in."""

    status: str
    origin: Origin | None = None
    reason: str | None = None


def attributed(origin: Origin) -> Verdict:
    return Verdict(ATTRIBUTED, origin, None)


def unattributed(reason: str) -> Verdict:
    return Verdict(UNATTRIBUTED, None, reason)


@dataclass(slots=True)
class Emission:
    """A record ready to be written: its time, its destination and its expected attribution.

    ``sink`` names the destination file family, e.g. ("cloudtrail", account, region) or
    ("gcp", project, log). ``verdict`` is None for records that repeat an event already
    expected (a Kubernetes RequestReceived stage shares its auditID with ResponseComplete).
    """

    time: datetime
    sink: tuple[str, ...]
    record: dict[str, Any]
    source_kind: str
    event_id: str
    verdict: Verdict | None
    story: str


# --- time text in each producer's style -------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def seconds_z(t: datetime) -> str:
    """CloudTrail / Graph style: 2026-10-05T08:00:01Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def millis_z(t: datetime) -> str:
    """Okta style: 2026-10-05T08:00:01.123Z."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def micros_z(t: datetime) -> str:
    """Kubernetes style: 2026-10-05T08:00:01.123456Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ticks_z(t: datetime) -> str:
    """Azure style, seven fraction digits: 2026-10-05T08:00:01.1234560Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def nanos_z(t: datetime, extra: int = 0) -> str:
    """Cloud Logging style, nine fraction digits; ``extra`` fills the last three."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{extra % 1000:03d}Z"


def epoch_ms(t: datetime) -> int:
    """OCSF time: integer epoch milliseconds."""
    return int(t.timestamp() * 1000)


def sts_expiration(t: datetime) -> str:
    """How CloudTrail writes STS credential expiry: 'Oct 5, 2026, 9:00:01 AM'."""
    t = t.astimezone(UTC)
    hour = t.hour % 12 or 12
    half = "AM" if t.hour < 12 else "PM"
    return f"{_MONTHS[t.month - 1]} {t.day}, {t.year}, {hour}:{t.minute:02d}:{t.second:02d} {half}"
