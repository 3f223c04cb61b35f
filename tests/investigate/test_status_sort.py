"""The explorer sorted by attribution status: each status's events are read as their own
query, and a page takes its rows from as many of them as it needs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forensics.ingest.models import STATUS_PENDING, Event
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
URL = reverse("event_list")


@pytest.fixture
def reader(client_for, investigator):
    return client_for(investigator)


def _order(html: str) -> list[int]:
    found = [int(pk) for pk in re.findall(r'href="/events/(\d+)/trace/"', html)]
    return list(dict.fromkeys(found))


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _store() -> list[Event]:
    """Events of every status, never-correlated ones among them, two to a timestamp."""
    b = f.batch()
    identity = f.identity("alice@corp.example")
    statuses = [
        {"status": "attributed", "origin": identity},
        {},  # never correlated
        {"status": "unattributed", "reason": "anonymous"},
        {"status": "ambiguous", "reason": "shared_credential"},
        {"status": "pending", "reason": ""},  # correlated, waiting for a later record
        {"status": "attributed", "origin": identity},
    ]
    for n in range(41):
        when = f.T0 + timedelta(days=2, minutes=(n * 7) % 19)
        f.event(batch=b, event_time=when, **statuses[n % len(statuses)])
    return list(Event.objects.all())


def _expected(events: list[Event], descending: bool) -> list[int]:
    def key(e: Event) -> tuple:
        status = e.result.status if e.result is not None else STATUS_PENDING
        return (status, e.event_time, e.pk)

    return [e.pk for e in sorted(events, key=key, reverse=descending)]


@pytest.mark.parametrize("sort", ["status", "-status"])
def test_pages_by_status_run_through_every_status_and_back(reader, sort):
    expected = _expected(_store(), descending=sort.startswith("-"))
    pages, url, params = [], URL, {"sort": sort, "per_page": "25"}
    while url:
        html = reader.get(url, params).content.decode()
        pages.append(_order(html))
        url, params = _link(html, "next"), None
    assert [pk for page in pages for pk in page] == expected
    assert [len(page) for page in pages] == [25, 16]
    # And back from the last page: the first page again, in the same order.
    html = reader.get(URL, {"sort": sort, "per_page": "25"}).content.decode()
    last = reader.get(_link(html, "next")).content.decode()
    assert _link(last, "next") is None
    again = reader.get(_link(last, "prev")).content.decode()
    assert _order(again) == expected[:25]
    assert _link(again, "prev") is None


def test_a_page_boundary_inside_one_status_keeps_its_time_and_id_order(reader):
    # 25 attributed events sharing five timestamps: the second page starts mid-status.
    b = f.batch()
    for n in range(30):
        f.event(
            batch=b, status="attributed", origin=None, event_time=f.T0 + timedelta(hours=n // 6)
        )
    f.event(batch=b)  # never correlated, after every attributed one in this order
    expected = _expected(list(Event.objects.all()), descending=False)
    first = reader.get(URL, {"sort": "status", "per_page": "25"}).content.decode()
    second = reader.get(_link(first, "next")).content.decode()
    assert _order(first) + _order(second) == expected


def test_sorted_by_status_the_pending_filter_lists_its_events_in_time_order(reader):
    events = _store()
    pending = _expected([e for e in events if e.status == STATUS_PENDING], descending=True)
    html = reader.get(URL, {"status": "pending", "sort": "-status", "per_page": "100"})
    assert _order(html.content.decode()) == pending
    html = reader.get(URL, {"status": "ambiguous", "sort": "status", "per_page": "100"})
    ambiguous = [e for e in events if e.status == "ambiguous"]
    assert _order(html.content.decode()) == _expected(ambiguous, descending=False)


def test_a_cursor_of_a_status_the_listing_cannot_hold_starts_at_the_first_page(reader):
    events = _store()
    html = reader.get(URL, {"sort": "status", "per_page": "25"}).content.decode()
    cursor = re.search(r"after=([\w-]+)", _link(html, "next")).group(1)
    filtered = reader.get(
        URL, {"status": "unattributed", "sort": "status", "after": cursor, "per_page": "100"}
    )
    unattributed = [e for e in events if e.status == "unattributed"]
    assert _order(filtered.content.decode()) == _expected(unattributed, descending=False)


def test_no_query_of_a_status_page_sorts_the_events_by_a_computed_status(reader):
    # Sorting by "the attribution's status, or pending when there is none" is sorting by an
    # expression no index holds: every event read and sorted for each page (24 s on a store
    # of 5.2 million). Each status is read by a query of its own, in an index's order.
    _store()
    with CaptureQueriesContext(connection) as queries:
        html = reader.get(URL, {"sort": "status", "per_page": "25"}).content.decode()
    assert len(_order(html)) == 25
    listing = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "ingest_event"."id"') and "ORDER BY" in q["sql"]
    ]
    assert listing, queries.captured_queries
    column = re.compile(r'"ingest_(event|attribution)"\."(event_time|id|event_id)" (ASC|DESC)')
    for sql in listing:
        order_by, limit = sql[sql.rindex("ORDER BY ") + 9 :].split(" LIMIT ")
        assert all(column.fullmatch(term) for term in order_by.split(", ")), sql
        assert int(limit.split()[0]) <= 26, sql
