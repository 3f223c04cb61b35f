from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from forensics.audit.services import record_access, ref
from forensics.core import overview
from forensics.core.roles import AUDITOR, INVESTIGATOR, has_role
from forensics.ingest.models import (
    STATUS_AMBIGUOUS,
    STATUS_ATTRIBUTED,
    STATUS_PENDING,
    STATUS_UNATTRIBUTED,
    Event,
    IngestBatch,
    Source,
)

RECENT = 10


@dataclass(frozen=True)
class SourceState:
    source: Source
    last_ingest: datetime | None
    newest_event: datetime | None

    @property
    def since_ingest(self) -> timedelta | None:
        return timezone.now() - self.last_ingest if self.last_ingest else None

    @property
    def delivery_lag(self) -> timedelta | None:
        """How far the newest stored event trails the last ingest (delivery delay)."""
        if self.last_ingest is None or self.newest_event is None:
            return None
        return max(self.last_ingest - self.newest_event, timedelta(0))


def home(request: HttpRequest) -> HttpResponse:
    """Counts that matter, recent personal-data accesses and the state of each source."""
    counts = overview.current()
    by_status = counts.statuses
    reads = has_role(request.user, INVESTIGATOR, AUDITOR)
    recent = (
        list(
            Event.objects.filter(personal_data=True)
            .select_related("attribution__origin")
            .order_by("-event_time", "-id")[:RECENT]
        )
        if reads
        else []
    )
    context = {
        "counts": counts,
        "total": counts.total,
        "shares": [
            (s, by_status.get(s, 0), _share(by_status.get(s, 0), counts.total))
            for s in (STATUS_ATTRIBUTED, STATUS_AMBIGUOUS, STATUS_UNATTRIBUTED, STATUS_PENDING)
        ],
        "queue": by_status.get(STATUS_UNATTRIBUTED, 0) + by_status.get(STATUS_AMBIGUOUS, 0),
        "personal": counts.personal,
        "sources": _source_states(),
        "recent": recent,
        "recent_batches": IngestBatch.objects.select_related("source")[:5],
    }
    if recent:
        record_access(request, refs=[ref("event", e.pk) for e in recent], personal_data=True)
    return render(request, "core/home.html", context)


def _share(n: int, total: int) -> float:
    return 100.0 * n / total if total else 0.0


def _source_states() -> list[SourceState]:
    states = []
    for source in Source.objects.order_by("name"):
        last = (
            IngestBatch.objects.filter(source=source, status=IngestBatch.DONE)
            .order_by("-finished_at")
            .first()
        )
        # The newest event of the last batch: one step down the (batch, event_time) index.
        newest = (
            Event.objects.filter(batch=last).aggregate(newest=Max("event_time"))["newest"]
            if last is not None
            else None
        )
        states.append(SourceState(source, last.finished_at if last else None, newest))
    return states
