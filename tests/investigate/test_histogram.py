from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forensics.investigate.histogram import choose_unit, floor, step

T = datetime(2026, 12, 30, 17, 42, 13, tzinfo=UTC)


def test_it_picks_a_bucket_that_keeps_the_bars_countable():
    assert choose_unit(T, T + timedelta(minutes=90)) == "minute"
    assert choose_unit(T, T + timedelta(days=3)) == "hour"
    assert choose_unit(T, T + timedelta(days=90)) == "day"
    assert choose_unit(T, T + timedelta(days=400)) == "week"
    assert choose_unit(T, T + timedelta(days=3000)) == "month"


def test_buckets_start_on_their_boundary_and_months_roll_over_the_year():
    assert floor(T, "hour") == datetime(2026, 12, 30, 17, tzinfo=UTC)
    assert floor(T, "week") == datetime(2026, 12, 28, tzinfo=UTC)  # a Monday
    assert floor(T, "month") == datetime(2026, 12, 1, tzinfo=UTC)
    assert step(floor(T, "month"), "month") == datetime(2027, 1, 1, tzinfo=UTC)
