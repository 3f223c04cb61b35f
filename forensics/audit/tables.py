from __future__ import annotations

import json
from typing import Any

import django_tables2 as tables

from forensics.audit.models import AccessLogEntry


class AccessLogTable(tables.Table):
    at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="time (UTC)")
    username = tables.Column(verbose_name="user")
    method = tables.Column(verbose_name="method")
    view = tables.Column(verbose_name="view")
    path = tables.Column(verbose_name="path", attrs={"td": {"class": "wrap mono"}})
    filters = tables.Column(
        verbose_name="filters", attrs={"td": {"class": "wrap mono"}}, empty_values=()
    )
    object_refs = tables.Column(
        verbose_name="objects", attrs={"td": {"class": "wrap mono"}}, empty_values=()
    )
    personal_data = tables.TemplateColumn(
        '{% if record.personal_data %}<span class="badge pd">PD</span>{% endif %}',
        verbose_name="personal data",
    )
    client_address = tables.Column(verbose_name="address")
    user_agent = tables.Column(verbose_name="user agent", attrs={"td": {"class": "wrap"}})

    class Meta:
        model = AccessLogEntry
        fields = (
            "at",
            "username",
            "method",
            "view",
            "path",
            "filters",
            "object_refs",
            "personal_data",
            "client_address",
            "user_agent",
        )
        attrs = {"class": "table"}
        empty_text = "No access-log entries match."
        orderable = False

    def render_filters(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False) if value else "—"

    def render_object_refs(self, value: Any) -> str:
        refs = value or []
        shown = ", ".join(str(r) for r in refs[:12])
        return shown + (f" … (+{len(refs) - 12})" if len(refs) > 12 else "") if refs else "—"
