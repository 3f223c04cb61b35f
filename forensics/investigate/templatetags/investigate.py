"""Template tags and filters for the investigation pages. Everything from a log is escaped here."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from forensics.engine.model import HOP_METHODS

register = template.Library()
ARROW = " → "


@register.simple_tag
def chain_path(label: str) -> SafeString:
    """A chain label such as 'alice → saml-federation → AdminRole' with methods set apart."""
    if not label:
        return format_html('<span class="muted">{}</span>', "—")
    parts = label.split(ARROW)
    return format_html(
        '<span class="path">{}</span>',
        format_html_join(
            format_html('<span class="arrow">{}</span>', ARROW),
            '<span class="{}">{}</span>',
            (("method" if p in HOP_METHODS else "hop", p) for p in parts),
        ),
    )


@register.simple_tag
def next_sort(table: Any, column: str) -> str:
    """The ``sort`` value a click on ``column``'s header asks for."""
    current = getattr(table, "current_sort", "")
    if current == column:
        return f"-{column}"
    if current == f"-{column}":
        return column
    return f"{table.sortable.get(column, '')}{column}"


@register.simple_tag
def sort_state(table: Any, column: str) -> str:
    current = getattr(table, "current_sort", "")
    if current == column:
        return "asc"
    if current == f"-{column}":
        return "desc"
    return ""


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
