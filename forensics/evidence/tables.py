from __future__ import annotations

import django_tables2 as tables

from forensics.evidence.models import EvidencePack


class PackTable(tables.Table):
    title = tables.Column(linkify=True, attrs={"td": {"class": "wrap"}})
    kind = tables.Column()
    status = tables.TemplateColumn(
        '<span class="badge {{ record.status }}">{{ record.status }}</span>'
    )
    events = tables.Column(verbose_name="events")
    requested_by = tables.Column(accessor="requested_by__username", verbose_name="asked by")
    requested_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="asked (UTC)")
    sha256 = tables.TemplateColumn(
        '<span class="mono" title="{{ record.sha256 }}">'
        "{{ record.sha256|truncatechars:17 }}</span>",
        verbose_name="SHA-256",
    )

    class Meta:
        model = EvidencePack
        fields = ("title", "kind", "status", "events", "requested_by", "requested_at", "sha256")
        attrs = {"class": "table"}
        empty_text = "No evidence packs yet."
        orderable = False
