"""Properties over whole estates: arrival order never matters, and no inferred link attributes."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.engine.correlation import (
    REASONS,
    EngineEvent,
    MemoryIndex,
    arrival_keys,
    attribute_all,
    close_over,
)
from forensics.engine.correlation.attribution import Attribution
from forensics.engine.correlation.bench import START, estate_directory, synthetic_estate
from tests.engine.correlation.builders import (
    Session,
    assume_role,
    get_object,
    iam_user_actor,
    session_actor,
)

GRACE = timedelta(hours=6)
DIRECTORY = estate_directory()


def _troublemakers() -> list[EngineEvent]:
    """Records real estates also hold: a key issued twice, and a credential loop."""
    twice = Session("Analyst", "dup", "ASIADUPLICATE0000001", "AROADUP0000000000001", START)
    one = Session("A", "one", "ASIALOOP000000000001", "AROALOOP000000000001", START)
    two = Session("B", "two", "ASIALOOP000000000002", "AROALOOP000000000002", START)
    return [
        assume_role("dup-1", iam_user_actor("alice", "AKIAALICE00000000001"), twice),
        assume_role("dup-2", iam_user_actor("bob", "AKIABOB0000000000001"), twice),
        get_object("dup-use", START + timedelta(minutes=3), session_actor(twice), "s3://pii/a"),
        assume_role("loop-x", session_actor(two), one),
        assume_role("loop-y", session_actor(one), two),
        get_object("loop-use", START + timedelta(minutes=3), session_actor(one), "s3://pii/b"),
    ]


@st.composite
def estates(draw: st.DrawFn) -> tuple[list[EngineEvent], list[list[EngineEvent]], object]:
    seed = draw(st.integers(0, 100_000))
    size = draw(st.integers(5, 250))
    events = synthetic_estate(size, seed) + _troublemakers()
    order = draw(st.permutations(range(len(events))))
    shuffled = [events[n] for n in order]
    cuts = draw(st.lists(st.integers(1, len(events) - 1), max_size=6, unique=True))
    bounds = [0, *sorted(cuts), len(events)]
    batches = [shuffled[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    now = START + timedelta(hours=draw(st.integers(0, 24 * 10)))
    return events, batches, now


def _all_at_once(events: list[EngineEvent], now: object) -> dict[str, Attribution]:
    index = MemoryIndex(events)
    results = attribute_all(events, index, DIRECTORY, now=now, grace=GRACE)  # type: ignore[arg-type]
    return {a.event_key: a for a in results}


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(estates())
def test_it_gives_the_same_result_whatever_order_and_batches_events_arrive_in(case) -> None:
    events, batches, now = case
    expected = _all_at_once(events, now)
    index = MemoryIndex()
    for batch in batches:
        index.add(batch)
    arrived = [item for batch in batches for item in batch]
    results = attribute_all(arrived, index, DIRECTORY, now=now, grace=GRACE)
    assert {a.event_key: a for a in results} == expected


@SETTINGS
@given(estates())
def test_it_reaches_the_same_result_fetching_only_what_lookups_ask_for(case) -> None:
    events, batches, now = case
    expected = _all_at_once(events, now)
    store = MemoryIndex(events)
    for batch in batches:
        index = MemoryIndex(batch)
        close_over(index, store.fetch)
        for result in attribute_all(batch, index, DIRECTORY, now=now, grace=GRACE):
            assert result == expected[result.event_key]


@SETTINGS
@given(estates())
def test_it_converges_when_batches_arrive_over_time_and_dependents_are_redone(case) -> None:
    events, batches, now = case
    assert _converge(batches, now) == _all_at_once(events, now)


def _converge(batches: list[list[EngineEvent]], now: object) -> dict[str, Attribution]:
    """What the service ends with: each batch attributed on arrival, and every earlier
    result whose depends_on meets the batch's arrival keys attributed again."""
    store = MemoryIndex()
    latest: dict[str, Attribution] = {}
    for batch in batches:
        store.add(batch)
        arrived = frozenset().union(*(arrival_keys(item.event) for item in batch))
        again = [
            store.get(key)
            for key, result in sorted(latest.items())
            if arrived.intersection(result.depends_on)
        ]
        todo = batch + [item for item in again if item is not None]
        index = MemoryIndex(todo)
        close_over(index, store.fetch)
        for result in attribute_all(todo, index, DIRECTORY, now=now, grace=GRACE):  # type: ignore[arg-type]
            latest[result.event_key] = result
    return latest


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_redoes_every_result_a_single_late_event_changes(seed: int) -> None:
    events = synthetic_estate(300, seed) + _troublemakers()
    now = START + timedelta(days=30)
    expected = _all_at_once(events, now)
    for late in events:
        early = [item for item in events if item.key != late.key]
        assert _converge([early, [late]], now) == expected, f"late arrival of {late.key}"


@SETTINGS
@given(estates())
def test_it_never_attributes_through_an_inferred_hop(case) -> None:
    events, _, now = case
    for result in _all_at_once(events, now).values():
        inferred = any(hop.evidence == "inferred" for hop in result.hops)
        if result.status == "attributed":
            assert not inferred
            assert result.origin is not None
            assert result.reason is None
        else:
            assert result.origin is None
        if inferred:
            assert result.status in ("ambiguous", "unattributed")
        if result.status == "ambiguous":
            assert result.candidates
        if result.status == "unattributed":
            assert result.reason in REASONS
        if result.status == "pending":
            assert result.waiting_on
        assert set(result.waiting_on) <= set(result.depends_on)
