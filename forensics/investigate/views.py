"""Investigator pages: explorer, trace, identity timelines, personal-data lens, search, queue.

Every page that shows events writes one access-log entry naming what it showed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from forensics.audit.services import record_access, ref
from forensics.cases import services as cases
from forensics.core.roles import ADMIN, AUDITOR, INVESTIGATOR, role_required
from forensics.identities.models import Identity
from forensics.ingest.models import (
    STATUS_AMBIGUOUS,
    STATUS_ATTRIBUTED,
    STATUS_PENDING,
    STATUS_UNATTRIBUTED,
    Attribution,
    Event,
    joins_attribution,
    status_is_not,
)
from forensics.investigate import narrative, resources
from forensics.investigate import search as finder
from forensics.investigate.explore import (
    event_results,
    filtered,
    partial_template,
    vary_on_htmx,
)
from forensics.investigate.filtersets import EventFilterSet, IdentityFilterSet, active_filters
from forensics.investigate.histogram import bucket, choose_unit, draw, floor
from forensics.investigate.tables import IdentityTable

READERS = (INVESTIGATOR, AUDITOR)
TIMELINE_GROUPS = 20
RESOURCES_PER_PAGE = 50


@role_required(*READERS)
def event_list(request: HttpRequest) -> HttpResponse:
    """The explorer: every event, filtered, sorted and paged by keyset."""
    filterset = EventFilterSet(request.GET or None, queryset=Event.objects.all())
    results = event_results(request, filtered(filterset))
    record_access(request, refs=results.refs(), personal_data=results.personal_data)
    context = {"filterset": filterset, "results": results, "table": results.table}
    template = partial_template(request, "investigate/event_list.html")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Every normalized field of one event, its producer facts and its raw record."""
    event = get_object_or_404(
        Event.objects.select_related("attribution__origin", "source", "batch"), pk=pk
    )
    record_access(request, refs=_event_and_origin(event), personal_data=event.personal_data)
    context = {
        "event": event,
        "attrs": [(k, _attr_text(v)) for k, v in sorted((event.attrs or {}).items())],
        "raw": narrative.pretty_raw(event.raw),
        **_case_context(request, [event], [event.origin_id]),
    }
    return render(request, "investigate/event_detail.html", context)


@role_required(*READERS)
def event_trace(request: HttpRequest, pk: int) -> HttpResponse:
    """One access traced from its origin through every hop, with the raw chain."""
    event = get_object_or_404(
        Event.objects.select_related("attribution__origin__owner", "source"), pk=pk
    )
    origin = event.origin
    steps = narrative.steps_for(event)
    chain = list(
        {s.via.pk: s.via for s in steps if s.via is not None and s.via.pk != event.pk}.values()
    )
    shown = [*chain, event]
    refs = [ref("event", e.pk) for e in shown]
    if origin is not None:
        refs.append(ref("identity", origin.pk))
    record_access(request, refs=refs, personal_data=any(e.personal_data for e in shown))
    context = {
        "event": event,
        "origin": origin,
        "aliases": list(origin.aliases.all()) if origin is not None else [],
        "steps": steps,
        "explanation": narrative.explain(event, origin, steps),
        "breaks": narrative.breaks_at(event) if event.status != STATUS_ATTRIBUTED else "",
        "raws": [(e, narrative.pretty_raw(e.raw)) for e in shown],
        **_case_context(request, [event], [event.origin_id]),
    }
    return render(request, "investigate/event_trace.html", context)


@role_required(*READERS)
def identity_list(request: HttpRequest) -> HttpResponse:
    """The identity directory as investigators see it, with activity per identity."""
    filterset = IdentityFilterSet(request.GET or None, queryset=Identity.objects.all())
    qs = filterset.qs if not filterset.is_bound or filterset.is_valid() else Identity.objects.none()
    page = Paginator(
        qs.select_related("owner").prefetch_related("aliases").order_by("name", "pk"), 50
    ).get_page(request.GET.get("page"))
    ids = [i.pk for i in page]
    # Per-identity subqueries walk the attributions' (origin, event_time) index once per row
    # of the page, where one GROUP BY over the page's events would read them all.
    events = Attribution.objects.filter(origin=OuterRef("pk")).order_by()
    activity = {
        pk: (n or 0, last)
        for pk, n, last in Identity.objects.filter(pk__in=ids)
        .annotate(
            n=Subquery(events.values("origin_id").annotate(c=Count("*")).values("c")[:1]),
            last=Subquery(events.order_by("-event_time").values("event_time")[:1]),
        )
        .values_list("pk", "n", "last")
    }
    table = IdentityTable(list(page), activity=activity)
    record_access(request, refs=[ref("identity", pk) for pk in ids])
    context = {"filterset": filterset, "table": table, "page": page}
    template = partial_template(request, "investigate/identity_list.html")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
def identity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An identity's timeline: histogram, sessions and credential chains, events."""
    identity = get_object_or_404(Identity.objects.select_related("owner"), pk=pk)
    filterset = EventFilterSet(
        request.GET or None, queryset=Event.objects.filter(attribution__origin=identity)
    )
    qs = filtered(filterset)
    span = _span(qs, active_filters(filterset))
    groups, counts = _timeline_summary(qs, span)
    # The summary's pass counted every matching event (into the histogram's buckets).
    results = event_results(request, qs, count=sum(n for n, _ in counts.values()))
    record_access(
        request,
        refs=[ref("identity", identity.pk), *results.refs()],
        personal_data=results.personal_data,
    )
    context = {
        "identity": identity,
        "aliases": list(identity.aliases.all()),
        "owned": list(identity.owned.all()[:50]),
        "filterset": filterset,
        "results": results,
        "table": results.table,
        "histogram": draw(counts, *span) if span else None,
        "groups": groups,
        "page_groups": _page_groups(results.rows),
        "skip_filters": ["origin"],
        **_case_context(request, results.rows, [identity.pk]),
    }
    template = partial_template(request, "investigate/identity_detail.html")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
def resource_list(request: HttpRequest) -> HttpResponse:
    """The personal-data lens: flagged resources, who accessed them, what is unattributed."""
    filterset = EventFilterSet(
        request.GET or None, queryset=Event.objects.filter(personal_data=True)
    )
    qs = filtered(filterset)
    page = resources.page(qs, RESOURCES_PER_PAGE, after=request.GET.get("after"))
    rows = resources.summaries(qs, page.resources)
    record_access(request, refs=[ref("resource", r["resource"]) for r in rows], personal_data=True)
    context = {"filterset": filterset, "page": page, "rows": rows}
    template = partial_template(request, "investigate/resource_list.html")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
def resource_detail(request: HttpRequest) -> HttpResponse:
    """One resource: accesses by origin identity, the unattributed share and why."""
    resource = request.GET.get("resource", "")
    base = Event.objects.touching(resource)
    if not resource or not base.exists():
        raise Http404("No events touch this resource.")
    filterset = EventFilterSet(request.GET, queryset=base)
    qs = filtered(filterset)
    stats = qs.aggregate(
        n=Count("id"),
        unattributed=Count("id", filter=status_is_not(STATUS_ATTRIBUTED)),
        pd=Count("id", filter=Q(personal_data=True)),
        first=Min("event_time"),
        last=Max("event_time"),
    )
    by_origin = list(
        qs.filter(attribution__origin__isnull=False)
        .order_by()
        .values(
            origin_id=F("attribution__origin_id"),
            origin_name=F("attribution__origin__name"),
            origin_kind=F("attribution__origin__kind"),
            origin_shared=F("attribution__origin__shared"),
        )
        .annotate(n=Count("id"), last=Max("event_time"))
        .order_by("-n")[:50]
    )
    gaps = list(
        qs.filter(status_is_not(STATUS_ATTRIBUTED))
        .order_by()
        .values(
            status=Coalesce("attribution__status", Value(STATUS_PENDING)),
            reason=Coalesce("attribution__reason", Value("")),
        )
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    results = event_results(request, qs)
    record_access(
        request,
        refs=[ref("resource", resource), *results.refs()],
        personal_data=results.personal_data or bool(stats["pd"]),
    )
    context = {
        "resource": resource,
        "filterset": filterset,
        "stats": stats,
        "share": stats["unattributed"] / stats["n"] if stats["n"] else 0.0,
        "by_origin": by_origin,
        "gaps": [{**g, "why": narrative.REASONS.get(g["reason"], "")} for g in gaps],
        "results": results,
        "table": results.table,
        # The page is about one resource: its name travels in a hidden field instead.
        "skip_filters": ["resource"],
    }
    template = partial_template(request, "investigate/resource_detail.html")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
def search(request: HttpRequest) -> HttpResponse:
    """Go to what the string names, or list the candidates grouped by kind."""
    q = request.GET.get("q", "").strip()[:500]
    hits = finder.find(q) if q else []
    record_access(request, refs=[h.ref for h in hits if h.ref])
    target = finder.obvious_target(hits)
    if target is not None:
        return redirect(target.url)
    return render(request, "investigate/search.html", {"q": q, "groups": finder.grouped(hits)})


@role_required(INVESTIGATOR, ADMIN)
def queue(request: HttpRequest) -> HttpResponse:
    """Unattributed and ambiguous events, grouped by the reason the chain breaks."""
    base = Event.objects.with_status(STATUS_UNATTRIBUTED, STATUS_AMBIGUOUS)
    reasons = list(
        base.order_by()
        .values(status=F("attribution__status"), reason=F("attribution__reason"))
        .annotate(
            n=Count("id"), last=Max("event_time"), pd=Count("id", filter=Q(personal_data=True))
        )
        .order_by("-n")
    )
    filterset = EventFilterSet(request.GET or None, queryset=base)
    results = event_results(request, filtered(filterset))
    record_access(request, refs=results.refs(), personal_data=results.personal_data)
    context = {
        "reasons": [{**r, "why": narrative.REASONS.get(r["reason"], "")} for r in reasons],
        "total": sum(r["n"] for r in reasons),
        "filterset": filterset,
        "results": results,
        "table": results.table,
    }
    template = partial_template(request, "investigate/queue.html")
    return vary_on_htmx(render(request, template, context))


# --- building blocks of the views above ---------------------------------------------


def _event_and_origin(event: Event) -> list[str]:
    refs = [ref("event", event.pk)]
    if event.origin_id is not None:
        refs.append(ref("identity", event.origin_id))
    return refs


def _attr_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _case_context(
    request: HttpRequest, events: list[Event], identity_ids: list[int | None]
) -> dict[str, Any]:
    """The working case and which of the shown events and identities it already holds."""
    case = cases.working_case(request)
    return {
        "case": case,
        "case_event_ids": cases.events_in_case(case, (e.pk for e in events)),
        "case_identity_ids": cases.identities_in_case(case, (i for i in identity_ids if i)),
    }


def _timeline_summary(
    qs: Any, span: tuple[datetime, datetime] | None
) -> tuple[list[dict[str, Any]], dict[datetime, tuple[int, int]]]:
    """A timeline's sessions and credential chains (the TIMELINE_GROUPS newest) and its
    events per histogram bucket, from one pass over its events: the database counts them by
    chain and bucket together (a few hundred rows), and the two are summed up here. Two
    queries read every event of the identity twice, a quarter of a busy timeline's time."""
    if span is None:
        return [], {}
    kind = choose_unit(*span)
    rows = (
        qs.order_by()
        .values("credential_used", chain_label=F("attribution__chain_label"), bucket=bucket(kind))
        .annotate(
            n=Count("id"),
            first=Min("event_time"),
            last=Max("event_time"),
            pd=Count("id", filter=Q(personal_data=True)),
        )
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    counts: dict[datetime, tuple[int, int]] = {}
    for row in rows:
        at = floor(row["bucket"], kind)
        n, pd = counts.get(at, (0, 0))
        counts[at] = (n + row["n"], pd + row["pd"])
        key = (row["credential_used"], row["chain_label"])
        group = groups.get(key)
        if group is None:
            groups[key] = {
                k: row[k] for k in ("credential_used", "chain_label", "n", "first", "last", "pd")
            }
            continue
        group["n"] += row["n"]
        group["pd"] += row["pd"]
        group["first"] = min(group["first"], row["first"])
        group["last"] = max(group["last"], row["last"])
    newest = sorted(groups.values(), key=lambda g: g["last"], reverse=True)
    return newest[:TIMELINE_GROUPS], counts


def _span(qs: Any, chosen: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The histogram's range: the chosen one, else the first to the last matching event."""
    # Events that all have an attribution: its time (the same) is the one its indexes order.
    key = "attribution__event_time" if joins_attribution(qs) else "event_time"
    start = chosen.get("since") or qs.order_by(key).values_list(key, flat=True).first()
    end = chosen.get("until") or qs.order_by(f"-{key}").values_list(key, flat=True).first()
    if start is None or end is None:
        return None
    if end <= start:
        end = start + timedelta(minutes=1)
    return start, end


def _page_groups(rows: list[Event]) -> list[dict[str, Any]]:
    """Consecutive events of one session / credential chain, as shown on a timeline page."""
    out = []
    for (label, credential), events in groupby(
        rows, key=lambda e: (e.chain_label, e.credential_used)
    ):
        items = list(events)
        out.append(
            {
                "chain_label": label,
                "credential": credential,
                "events": items,
                "hops": items[0].hops,
                "status": items[0].status,
            }
        )
    return out
