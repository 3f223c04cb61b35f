"""What every page that lists events shares: filters, sort, keyset page, table, log refs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from forensics.audit.services import ref
from forensics.cases import services as cases
from forensics.core.roles import AUDITOR, INVESTIGATOR, has_role
from forensics.ingest.models import (
    STATUS_PENDING,
    Event,
    EventQuerySet,
    joins_attribution,
)
from forensics.investigate.filtersets import EventFilterSet
from forensics.investigate.paging import (
    PER_PAGE_CHOICES,
    KeysetPage,
    Order,
    Segment,
    bounded_count,
    paginate,
    paginate_segments,
    per_page_from,
)
from forensics.investigate.tables import EventTable

# Sort keys end with (event_time, id): the composite indexes on (x, event_time) serve them.
# The status sort reads each status's events by a query of its own (``status_segments``).
SORTS: dict[str, tuple[str, ...]] = {
    "time": ("event_time", "id"),
    "principal": ("actor_principal", "event_time", "id"),
    "status": ("result_status", "event_time", "id"),
}
# The same orders for events that all have an attribution (a filter on it), by its fields:
# the attribution indexes by origin and by status keep them, so a page is read off them.
SORTS_THROUGH_ATTRIBUTION: dict[str, tuple[str, ...]] = {
    "time": ("attribution__event_time", "attribution__event_id"),
    "status": ("attribution__status", "attribution__event_time", "attribution__event_id"),
}
DEFAULT_SORT = "-time"


@dataclass
class EventResults:
    table: EventTable
    page: KeysetPage
    count: int
    capped: bool
    sort: str
    per_page_choices = PER_PAGE_CHOICES

    @property
    def rows(self) -> list[Event]:
        return self.page.rows

    def refs(self) -> list[str]:
        return event_refs(self.page.rows)

    @property
    def personal_data(self) -> bool:
        return any(e.personal_data for e in self.page.rows)


def sort_from(value: str | None) -> tuple[str, Order]:
    """The sort parameter (e.g. '-time') and its order; unknown values fall back to newest first."""
    value = value or DEFAULT_SORT
    name = value.removeprefix("-")
    if name not in SORTS:
        value, name = DEFAULT_SORT, DEFAULT_SORT.removeprefix("-")
    return value, Order(SORTS[name], descending=value.startswith("-"))


def filtered(filterset: EventFilterSet) -> QuerySet[Event]:
    """The filtered events, or none when a filter value is invalid (never silently unfiltered)."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def event_results(
    request: HttpRequest,
    qs: QuerySet[Event],
    *,
    columns: Sequence[str] | None = None,
    count: int | None = None,
) -> EventResults:
    """One keyset page of ``qs`` in the requested sort, as an EventTable. ``count``: the
    number of events in ``qs`` when the caller has counted them already (else counted here,
    no further than COUNT_BOUND)."""
    sort, order = sort_from(request.GET.get("sort"))
    through = SORTS_THROUGH_ATTRIBUTION.get(sort.removeprefix("-"))
    rows = qs.select_related("attribution__origin", "source")
    cursor = {
        "after": request.GET.get("after"),
        "before": request.GET.get("before"),
        "per_page": per_page_from(request.GET),
    }
    if through and joins_attribution(qs):
        page = paginate(rows, Order(through, order.descending), **cursor)
    elif order.fields[0] == "result_status":
        page = paginate_segments(status_segments(rows), order, **cursor)
    else:
        page = paginate(rows, order, **cursor)
    case = cases.working_case(request)
    table = EventTable(
        page.rows,
        columns=columns if columns is not None else request.GET.getlist("columns"),
        case=case,
        case_event_ids=cases.events_in_case(case, (e.pk for e in page.rows)),
        links=has_role(request.user, INVESTIGATOR, AUDITOR),
    )
    table.keyset = page  # type: ignore[attr-defined]
    table.current_sort = sort  # type: ignore[attr-defined]
    capped = False
    if count is None:
        count, capped = bounded_count(qs)
    return EventResults(table=table, page=page, count=count, capped=capped, sort=sort)


def status_segments(qs: QuerySet[Event]) -> list[Segment]:
    """The events of ``qs`` by attribution status, for the status sort: an event never
    correlated has no attribution and sorts as pending. A status's events are read off the
    attribution index by status and time, the pending ones newest (or oldest) first."""
    statuses = cast(EventQuerySet, qs).possible_statuses()
    segments = []
    for status in statuses:
        if len(statuses) == 1:
            rows = qs  # already narrowed to it
        elif status == STATUS_PENDING:
            rows = cast(EventQuerySet, qs).with_status(status)
        else:
            rows = qs.filter(attribution__status=status)
        fields = SORTS_THROUGH_ATTRIBUTION if joins_attribution(rows) else SORTS
        segments.append(Segment(status, rows, fields["time"]))
    return segments


def event_refs(events: Iterable[Event]) -> list[str]:
    return [ref("event", e.pk) for e in events]


def partial_template(request: HttpRequest, template: str, partial: str = "results") -> str:
    """The page's htmx fragment for htmx requests, the full page otherwise (incl. history)."""
    htmx: Any = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return f"{template}#{partial}"
    return template


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
