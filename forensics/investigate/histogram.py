"""Activity over time as bars for a server-rendered SVG: counted in the database per bucket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models.functions import Trunc

WIDTH, HEIGHT = 900, 110
# (bucket kind, bucket length, longest span it is used for): at most ~120 bars.
UNITS = (
    ("minute", timedelta(minutes=1), timedelta(hours=2)),
    ("hour", timedelta(hours=1), timedelta(days=5)),
    ("day", timedelta(days=1), timedelta(days=120)),
    ("week", timedelta(weeks=1), timedelta(weeks=120)),
    ("month", timedelta(days=31), None),
)
LABEL_FORMATS = {
    "minute": "%Y-%m-%d %H:%M",
    "hour": "%Y-%m-%d %H:00",
    "day": "%Y-%m-%d",
    "week": "week of %Y-%m-%d",
    "month": "%Y-%m",
}


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    total: int
    personal: int
    x: float
    width: float
    y: float
    height: float
    pd_y: float
    pd_height: float
    label: str

    @property
    def since(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:%M")

    @property
    def until(self) -> str:
        return self.end.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Histogram:
    bars: list[Bar]
    unit: str
    peak: int
    start: datetime
    end: datetime
    width: int = WIDTH
    height: int = HEIGHT


def choose_unit(start: datetime, end: datetime) -> str:
    span = end - start
    for kind, _, longest in UNITS:
        if longest is None or span <= longest:
            return kind
    return "month"


def floor(moment: datetime, kind: str) -> datetime:
    moment = moment.astimezone(UTC)
    if kind == "minute":
        return moment.replace(second=0, microsecond=0)
    if kind == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def step(moment: datetime, kind: str) -> datetime:
    if kind == "month":
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        return moment.replace(year=year, month=month)
    return moment + dict((k, d) for k, d, _ in UNITS)[kind]


def bucket(kind: str) -> Trunc:
    """The start of each event's bucket of ``kind``, in UTC, as the database computes it."""
    return Trunc("event_time", kind, tzinfo=UTC)


def draw(counts: dict[datetime, tuple[int, int]], start: datetime, end: datetime) -> Histogram:
    """The bars for ``counts`` (events and personal-data events by the start of their bucket,
    the bucket chosen by ``choose_unit(start, end)``); buckets outside the span are left out."""
    kind = choose_unit(start, end)
    slots = []
    moment = floor(start, kind)
    while moment <= end:
        slots.append(moment)
        moment = step(moment, kind)
    peak = max((counts.get(slot, (0, 0))[0] for slot in slots), default=0)
    width = WIDTH / max(len(slots), 1)
    bars = []
    for i, slot in enumerate(slots):
        total, personal = counts.get(slot, (0, 0))
        height = HEIGHT * total / peak if peak else 0.0
        pd_height = HEIGHT * personal / peak if peak else 0.0
        bars.append(
            Bar(
                start=slot,
                end=step(slot, kind),
                total=total,
                personal=personal,
                x=round(i * width, 2),
                width=round(max(width - 1, 0.5), 2),
                y=round(HEIGHT - height, 2),
                height=round(height, 2),
                pd_y=round(HEIGHT - pd_height, 2),
                pd_height=round(pd_height, 2),
                label=slot.strftime(LABEL_FORMATS[kind]),
            )
        )
    return Histogram(bars=bars, unit=kind, peak=peak, start=start, end=end)
