"""The auditor's view of the access log. There is no URL that changes or removes entries."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from forensics.audit.filtersets import AccessLogFilterSet
from forensics.audit.models import AccessLogEntry
from forensics.audit.services import record_access
from forensics.audit.tables import AccessLogTable
from forensics.core.roles import AUDITOR, role_required
from forensics.investigate.explore import partial_template, vary_on_htmx
from forensics.investigate.paging import Order, bounded_count, paginate, per_page_from

ORDER = Order(("at", "id"), descending=True)


@role_required(AUDITOR)
@require_safe
def accesslog_list(request: HttpRequest) -> HttpResponse:
    """The access log, filtered and paged by keyset (auditors only)."""
    filterset = AccessLogFilterSet(request.GET or None, queryset=AccessLogEntry.objects.all())
    valid = not filterset.is_bound or filterset.is_valid()
    qs = filterset.qs if valid else AccessLogEntry.objects.none()
    page = paginate(
        qs,
        ORDER,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        per_page=per_page_from(request.GET, default=100),
    )
    count, capped = bounded_count(qs)
    table = AccessLogTable(page.rows)
    table.keyset = page  # type: ignore[attr-defined]
    # Reading the log is itself an access worth recording.
    record_access(request)
    context = {"filterset": filterset, "table": table, "count": count, "capped": capped}
    template = partial_template(request, "audit/accesslog_list.html")
    return vary_on_htmx(render(request, template, context))
