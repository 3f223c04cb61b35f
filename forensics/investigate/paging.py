"""Keyset pagination: pages over an ordered key such as (event_time, id), never OFFSET.

A page is fetched with ``WHERE (key) < (cursor) ORDER BY key DESC LIMIT n + 1``: the cost
does not grow with the page number, and the extra row tells whether another page exists.
Totals are bounded counts (``COUNT`` over at most ``COUNT_BOUND`` rows), never a full count.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleGreaterThanOrEqual,
    TupleLessThan,
    TupleLessThanOrEqual,
)
from django.http import QueryDict

COUNT_BOUND = 10_000
PER_PAGE_CHOICES = (25, 50, 100, 200)
CURSOR_PARAMS = ("after", "before")


@dataclass(frozen=True)
class Order:
    """A total order over rows: the fields end with a unique one (the primary key)."""

    fields: tuple[str, ...]
    descending: bool = True

    def order_by(self, reverse: bool = False) -> list[str]:
        desc = self.descending != reverse
        return [f"-{f}" if desc else f for f in self.fields]


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None  # the page after this one in the chosen order
    prev_cursor: str | None  # the page before it
    per_page: int

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(token: str, model: type[models.Model], fields: Sequence[str]) -> list[Any] | None:
    """The key values a cursor holds, typed per field; None when it is not a valid cursor."""
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(fields):
        return None
    typed = []
    for name, value in zip(fields, values, strict=True):
        field = _field_at(model, name)
        try:
            if isinstance(field, models.DateTimeField):
                value = datetime.fromisoformat(value)
            elif isinstance(field, models.IntegerField | models.AutoField):
                value = int(value)
            elif not isinstance(value, str):
                return None
        except (TypeError, ValueError):
            return None
        typed.append(value)
    return typed


def paginate(
    qs: models.QuerySet[Any],
    order: Order,
    *,
    after: str | None = None,
    before: str | None = None,
    per_page: int = 50,
) -> KeysetPage:
    """One page of ``qs`` in ``order``, after or before a cursor (the first page without)."""
    backwards = False
    if before and (values := decode_cursor(before, qs.model, order.fields)) is not None:
        qs = _beyond(qs, order, values, forwards=False)
        backwards = True
    elif after and (values := decode_cursor(after, qs.model, order.fields)) is not None:
        qs = _beyond(qs, order, values, forwards=True)
    else:
        after = None
    rows = list(qs.order_by(*order.order_by(reverse=backwards))[: per_page + 1])
    return _page(rows, order, per_page, after=bool(after), backwards=backwards)


@dataclass(frozen=True)
class Segment:
    """The rows of a listing whose first sort field has one value, and the fields that
    order them after it (ending with a unique one), as their query names them."""

    value: str
    rows: models.QuerySet[Any]
    fields: tuple[str, ...]


def paginate_segments(
    segments: Sequence[Segment],
    order: Order,
    *,
    after: str | None = None,
    before: str | None = None,
    per_page: int = 50,
) -> KeysetPage:
    """One page of rows in ``order``, whose first field takes one value per segment (the
    segments given in ascending order of it): each row gets its segment's value as that
    field. The other fields of ``order`` are the same values as each segment's own.

    For an order whose first field no index holds (an attribution status, where events
    never correlated sort as pending), one query in that order reads and sorts every row
    for each page. Here each segment is its own query, read in an index's order, and a page
    takes its rows from as many segments as it needs. The cursors are ``paginate``'s.
    """
    key = order.fields[0]
    values = [segment.value for segment in segments]
    model = segments[0].rows.model if segments else None
    backwards = False
    cursor: list[Any] | None = None
    if before and (cursor := _cursor_in(before, model, order, values)) is not None:
        backwards = True
    elif not (after and (cursor := _cursor_in(after, model, order, values)) is not None):
        after = None
    walk = list(segments)
    if order.descending != backwards:
        walk.reverse()
    if cursor is not None:
        walk = walk[[segment.value for segment in walk].index(cursor[0]) :]
    rows: list[Any] = []
    for n, segment in enumerate(walk):
        within = Order(segment.fields, order.descending)
        qs = segment.rows
        if n == 0 and cursor is not None:
            qs = _beyond(qs, within, cursor[1:], forwards=not backwards)
        found = list(qs.order_by(*within.order_by(reverse=backwards))[: per_page + 1 - len(rows)])
        for row in found:
            setattr(row, key, segment.value)
        rows += found
        if len(rows) > per_page:
            break
    return _page(rows, order, per_page, after=bool(after), backwards=backwards)


def _cursor_in(
    token: str, model: type[models.Model] | None, order: Order, values: list[str]
) -> list[Any] | None:
    """A cursor's key values, if it is one of ``order`` in one of these segments."""
    found = decode_cursor(token, model, order.fields) if model is not None else None
    return found if found is not None and found[0] in values else None


def _page(
    rows: list[Any], order: Order, per_page: int, *, after: bool, backwards: bool
) -> KeysetPage:
    """The page of ``rows`` (fetched in the walking direction, one more than a page if there
    are more), with its cursors."""
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    first = encode_cursor(_key_of(rows[0], order)) if rows else None
    last = encode_cursor(_key_of(rows[-1], order)) if rows else None
    if backwards:
        # Came from a later page, so one exists; an earlier one exists if the fetch overflowed.
        return KeysetPage(rows, last, first if more else None, per_page)
    return KeysetPage(rows, last if more else None, first if after else None, per_page)


def _beyond(
    qs: models.QuerySet[Any], order: Order, values: list[Any], *, forwards: bool
) -> models.QuerySet[Any]:
    """Rows strictly after ``values`` in the walking direction."""
    below = order.descending == forwards
    strict, loose = (
        (TupleLessThan, TupleLessThanOrEqual)
        if below
        else (TupleGreaterThan, TupleGreaterThanOrEqual)
    )
    # The row comparison alone is only an index condition for an index on every key column;
    # the looser bound on the leading columns lets the (x, event_time) indexes start the scan
    # at the cursor instead of filtering their way down to it.
    prefix = order.fields[:-1]
    return qs.filter(loose(Tuple(*prefix), values[:-1])).filter(
        strict(Tuple(*order.fields), values)
    )


def _key_of(row: Any, order: Order) -> list[Any]:
    return [functools.reduce(getattr, f.split(LOOKUP_SEP), row) for f in order.fields]


def _field_at(model: type[models.Model], path: str) -> models.Field:
    """The field a sort key names, through relations ("attribution__event_time"); an
    annotation the query sorts by is text."""
    *relations, name = path.split(LOOKUP_SEP)
    try:
        for relation in relations:
            model = model._meta.get_field(relation).related_model
        return model._meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):
        return models.TextField()


def bounded_count(qs: models.QuerySet[Any], bound: int | None = None) -> tuple[int, bool]:
    """(count, capped): the number of rows, counting no further than ``bound``."""
    bound = COUNT_BOUND if bound is None else bound
    n = qs.order_by()[: bound + 1].count()
    return min(n, bound), n > bound


def per_page_from(params: QueryDict, default: int = 50) -> int:
    try:
        value = int(params.get("per_page", default))
    except ValueError:
        return default
    return value if value in PER_PAGE_CHOICES else default
