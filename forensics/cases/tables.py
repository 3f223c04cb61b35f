from __future__ import annotations

import django_tables2 as tables

from forensics.cases.models import Case


class CaseTable(tables.Table):
    title = tables.Column(linkify=True, attrs={"td": {"class": "wrap"}})
    status = tables.TemplateColumn(
        '<span class="badge case-{{ record.status }}">{{ record.status }}</span>'
    )
    created_by = tables.Column(accessor="created_by__username", verbose_name="created by")
    n_members = tables.Column(verbose_name="members")
    n_events = tables.Column(verbose_name="events")
    n_identities = tables.Column(verbose_name="identities")
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="updated (UTC)")

    class Meta:
        model = Case
        fields = (
            "title",
            "status",
            "created_by",
            "n_members",
            "n_events",
            "n_identities",
            "updated_at",
        )
        attrs = {"class": "table"}
        empty_text = "No cases yet."
        orderable = False
