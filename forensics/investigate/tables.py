"""Tables of events, identities and personal-data resources.

Pages fetch their rows with keyset pagination and hand the table a plain list, so the
tables never sort or count; the shared template draws sort links and the keyset pager.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django_tables2.utils import A

from forensics.identities.models import Identity
from forensics.ingest.models import Event
from forensics.investigate.templatetags.investigate import chain_path

TEMPLATE = "investigate/_table.html"


class ChoosableTable(tables.Table):
    """A table whose visible columns come from ``?columns=`` or ``Meta.default_columns``."""

    fixed_columns: tuple[str, ...] = ()  # always shown, never offered in the chooser
    sortable: dict[str, str] = {}  # column name -> default direction ("" or "-")

    def __init__(self, *args: Any, columns: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = self.choosable()
        chosen = [c for c in columns or () if c in offered] or list(
            self.Meta.default_columns  # type: ignore[attr-defined]
        )
        for name in offered:
            if name not in chosen:
                self.columns.hide(name)
        self.chosen = chosen

    def choosable(self) -> list[str]:
        return [name for name in self.base_columns if name not in self.fixed_columns]

    def column_choices(self) -> list[tuple[str, str, bool]]:
        """(name, header, shown) for the column chooser."""
        return [
            (name, str(self.base_columns[name].verbose_name or name), name in self.chosen)
            for name in self.choosable()
        ]


def _trace_url(record: Event) -> str:
    return reverse("event_trace", args=[record.pk])


class EventTable(ChoosableTable):
    time = tables.Column(accessor="event_time", verbose_name="time (UTC)")
    source = tables.Column(accessor="source__name", verbose_name="source")
    category = tables.Column(verbose_name="category")
    action = tables.Column(verbose_name="action", attrs={"td": {"class": "wrap"}})
    outcome = tables.Column(verbose_name="outcome")
    principal = tables.Column(
        accessor="actor_principal", verbose_name="principal", attrs={"td": {"class": "wrap"}}
    )
    actor_kind = tables.Column(verbose_name="actor kind")
    origin = tables.Column(accessor="origin__name", verbose_name="origin", empty_values=())
    # Cells below are rendered by methods with format_html, not per-cell templates: a page of
    # events renders hundreds of them.
    status = tables.Column(verbose_name="attribution", empty_values=())
    evidence = tables.Column(verbose_name="evidence", empty_values=())
    chain = tables.Column(accessor="chain_label", verbose_name="chain", empty_values=())
    resource = tables.Column(verbose_name="resource", attrs={"td": {"class": "wrap"}})
    personal_data = tables.Column(verbose_name="personal data", empty_values=())
    address = tables.Column(accessor="source_address", verbose_name="address")
    user_agent = tables.Column(verbose_name="user agent", attrs={"td": {"class": "wrap"}})
    request_id = tables.Column(verbose_name="request id", attrs={"td": {"class": "mono"}})
    credential = tables.Column(
        accessor="credential_used", verbose_name="credential", attrs={"td": {"class": "mono"}}
    )
    reason = tables.Column(verbose_name="reason")
    trace = tables.Column(accessor="pk", verbose_name="", orderable=False, empty_values=())
    case = tables.Column(accessor="pk", verbose_name="case", orderable=False, empty_values=())

    fixed_columns = ("trace", "case")
    sortable = {"time": "-", "principal": "", "status": ""}

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "table events"}
        empty_text = "No events match."
        orderable = False
        default_columns = (
            "time",
            "principal",
            "origin",
            "action",
            "resource",
            "status",
            "evidence",
            "personal_data",
        )

    def __init__(
        self,
        *args: Any,
        case: Any = None,
        case_event_ids: set[int] | None = None,
        links: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The "add to case" button only shows when the user is working on a case.
        self.case = case
        self.case_event_ids = case_event_ids or set()
        if case is None:
            self.columns.hide("case")
        # Admins see the queue but not traces or timelines: no links they cannot follow.
        self.links = links
        if not links:
            self.columns.hide("trace")

    # One renderer per column, all taking the record. django-tables2 calls them per cell
    # (render_*), and the page template takes the faster cell_rows() path: one lookup per
    # column instead of django-tables2's per-cell signature inspection.
    def render_time(self, record: Event) -> SafeString:
        when = record.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if not self.links:
            return conditional_escape(when)
        return format_html('<a href="{}">{}</a>', _trace_url(record), when)

    def render_origin(self, record: Event) -> SafeString:
        if record.origin_id is None:
            return _dash()
        name = record.origin.name  # type: ignore[union-attr]
        if not self.links:
            return conditional_escape(name)
        return format_html(
            '<a href="{}">{}</a>', reverse("identity_detail", args=[record.origin_id]), name
        )

    def render_source(self, record: Event) -> SafeString:
        return conditional_escape(record.source.name)

    def render_trace(self, record: Event) -> SafeString:
        return format_html('<a href="{}">trace</a>', _trace_url(record))

    def render_status(self, record: Event) -> SafeString:
        badge = format_html('<span class="badge {}">{}</span>', record.status, record.status)
        if record.reason:
            return format_html('{} <span class="muted">{}</span>', badge, record.reason)
        return badge

    def render_evidence(self, record: Event) -> SafeString:
        if not record.evidence:
            return _dash()
        return format_html('<span class="badge {}">{}</span>', record.evidence, record.evidence)

    def render_chain(self, record: Event) -> SafeString:
        return chain_path(record.chain_label)

    def render_personal_data(self, record: Event) -> SafeString:
        if not record.personal_data:
            return SafeString("")
        return format_html('<span class="badge pd" title="personal data">{}</span>', "PD")

    def render_case(self, record: Event) -> SafeString:
        if record.pk in self.case_event_ids:
            return format_html('<button class="small in-case" disabled>{}</button>', "in case")
        return format_html(
            '<button class="small" type="button" hx-post="{}" hx-vals=\'{{"event": "{}"}}\' '
            'hx-swap="outerHTML" title="add to case {}">add to case</button>',
            reverse("case_add_event", args=[self.case.pk]),
            record.pk,
            self.case.title,
        )

    def cell_rows(self) -> list[tuple[Event, list[tuple[str, SafeString]]]]:
        """(record, [(td attributes, cell html)]) for every row, in visible-column order."""
        plan = []
        for column in self.columns:
            render = getattr(self, f"render_{column.name}", None)
            field = column.accessor if render is None else ""
            plan.append((column.attrs["td"].as_html(), render, field))
        rows = []
        for record in self.data:
            cells = []
            for attrs, render, field in plan:
                if render is not None:
                    cells.append((attrs, render(record)))
                else:
                    value = getattr(record, field, "")
                    cells.append((attrs, conditional_escape(value) if value else _dash()))
            rows.append((record, cells))
        return rows


def _dash() -> SafeString:
    return format_html('<span class="muted">{}</span>', "—")


class IdentityTable(tables.Table):
    name = tables.Column(linkify=("identity_detail", [A("pk")]), attrs={"td": {"class": "wrap"}})
    kind = tables.Column()
    shared = tables.BooleanColumn(yesno="shared,")
    owner = tables.Column(accessor="owner__name", verbose_name="owner")
    aliases = tables.TemplateColumn(
        template_name="investigate/cells/aliases.html", verbose_name="aliases", orderable=False
    )
    events = tables.Column(accessor="pk", verbose_name="events", orderable=False)
    last_seen = tables.Column(accessor="pk", verbose_name="last seen (UTC)", orderable=False)

    class Meta:
        model = Identity
        fields = ("name", "kind", "shared", "owner")
        attrs = {"class": "table"}
        empty_text = "No identities match."
        orderable = False

    def __init__(
        self, *args: Any, activity: dict[int, tuple[int, Any]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity or {}

    def render_events(self, value: int) -> str:
        return f"{self.activity.get(value, (0, None))[0]:,}"

    def render_last_seen(self, value: int) -> str:
        last = self.activity.get(value, (0, None))[1]
        return last.strftime("%Y-%m-%d %H:%M:%S") if last else "—"
