from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from forensics.ingest.models import Event
from forensics.investigate.paging import Order, bounded_count, decode_cursor, paginate
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
ORDER = Order(("event_time", "id"), descending=True)


@pytest.fixture
def events() -> list[Event]:
    # Pairs share a timestamp so the id has to break ties.
    b = f.batch()
    return [f.event(batch=b, event_time=f.T0 + timedelta(minutes=i // 2)) for i in range(11)]


def _walk_forward(qs, order: Order, per_page: int) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = paginate(qs, order, after=after, per_page=per_page)
        pages.append([e.pk for e in page.rows])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor


def test_it_pages_newest_first_through_every_event_once(events):
    pages = _walk_forward(Event.objects.all(), ORDER, per_page=4)
    expected = [e.pk for e in sorted(events, key=lambda e: (e.event_time, e.pk), reverse=True)]
    assert [len(p) for p in pages] == [4, 4, 3]
    assert list(itertools.chain.from_iterable(pages)) == expected


def test_it_pages_oldest_first_when_ascending(events):
    pages = _walk_forward(Event.objects.all(), Order(("event_time", "id"), descending=False), 5)
    assert list(itertools.chain.from_iterable(pages)) == [
        e.pk for e in sorted(events, key=lambda e: (e.event_time, e.pk))
    ]


def test_it_goes_back_to_the_same_page_it_came_from(events):
    first = paginate(Event.objects.all(), ORDER, per_page=4)
    second = paginate(Event.objects.all(), ORDER, after=first.next_cursor, per_page=4)
    back = paginate(Event.objects.all(), ORDER, before=second.prev_cursor, per_page=4)
    assert [e.pk for e in back.rows] == [e.pk for e in first.rows]
    assert back.prev_cursor is None
    assert back.next_cursor is not None


def test_the_first_page_has_no_previous_and_the_last_no_next(events):
    first = paginate(Event.objects.all(), ORDER, per_page=20)
    assert first.prev_cursor is None and first.next_cursor is None
    assert not first.has_other_pages


def test_it_treats_a_garbled_cursor_as_the_first_page(events):
    page = paginate(Event.objects.all(), ORDER, after="not-a-cursor!", per_page=3)
    newest = max(events, key=lambda e: (e.event_time, e.pk))
    assert page.rows[0].pk == newest.pk
    assert page.prev_cursor is None


def test_a_cursor_with_the_wrong_types_is_rejected():
    from forensics.investigate.paging import encode_cursor

    assert decode_cursor(encode_cursor(["yesterday", 3]), Event, ("event_time", "id")) is None
    assert decode_cursor(encode_cursor([1]), Event, ("event_time", "id")) is None


def test_it_sorts_by_principal_with_time_and_id_breaking_ties(events):
    Event.objects.filter(pk__in=[e.pk for e in events[:5]]).update(actor_principal="b")
    Event.objects.filter(pk__in=[e.pk for e in events[5:]]).update(actor_principal="a")
    order = Order(("actor_principal", "event_time", "id"), descending=False)
    pages = _walk_forward(Event.objects.all(), order, per_page=3)
    rows = sorted(Event.objects.all(), key=lambda e: (e.actor_principal, e.event_time, e.pk))
    assert list(itertools.chain.from_iterable(pages)) == [e.pk for e in rows]


def test_the_count_stops_at_its_bound(events):
    assert bounded_count(Event.objects.all(), bound=5) == (5, True)
    assert bounded_count(Event.objects.all(), bound=50) == (11, False)
