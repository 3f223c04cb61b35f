"""Write the demo estate: every producer's logs, the directory and the expected attributions.

The story's few hundred records are built first; background units are then drawn on a clock
that advances with the number of records scheduled, and both are merged in time order through
a small heap of records not yet due. Writers keep one buffer or open file per destination, so
memory stays flat whatever the requested size.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from forensics.estate.background import Background
from forensics.estate.emission import AMBIGUOUS, ATTRIBUTED, UNATTRIBUTED, Emission
from forensics.estate.ids import Ids, stream
from forensics.estate.org import LATE_REGION, START
from forensics.estate.roster import DIRECTORY_HEADER, build_org, directory_rows
from forensics.estate.story import build_story
from forensics.estate.writers import Writers

Progress = Callable[[int, int, str], None]
EVENTS_PER_DAY = 250_000  # beyond this the window grows by whole days
PROGRESS_EVERY = 5_000


@dataclass(frozen=True)
class Summary:
    """What a run wrote."""

    out_dir: Path
    files: int
    late_files: int
    events: int
    events_by_source: dict[str, int] = field(default_factory=dict)
    expected_attributed: int = 0
    expected_ambiguous: int = 0
    expected_unattributed: int = 0
    window_start: datetime = START
    window_end: datetime = START


def generate(
    out_dir: Path, events: int = 5000, seed: int = 7, progress: Progress | None = None
) -> Summary:
    """Write an estate of about ``events`` records (never fewer than its story) into ``out_dir``.

    The directory must be absent or empty: files are created, never appended to.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(
            f"{out_dir} is not empty; the estate is written into a fresh directory"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    org = build_org(seed)
    story = build_story(org, seed)
    days = max(1, math.ceil(events / EVENTS_PER_DAY))
    span = int(timedelta(days=days).total_seconds())
    writers = Writers(out_dir, Ids(stream(seed, "files")), LATE_REGION)
    writers.directory(DIRECTORY_HEADER, directory_rows(org))
    background = Background(org, seed)
    total = max(events, len(story))
    budget = total - len(story)

    pending: list[tuple[datetime, int, Emission]] = []
    seq = 0
    next_story = 0

    def drain(until: datetime | None) -> None:
        nonlocal next_story
        while True:
            due_story = next_story < len(story) and (
                until is None or story[next_story].time <= until
            )
            due_heap = bool(pending) and (until is None or pending[0][0] <= until)
            if due_story and (not due_heap or story[next_story].time <= pending[0][0]):
                em = story[next_story]
                next_story += 1
            elif due_heap:
                em = heapq.heappop(pending)[2]
            else:
                return
            writers.write(em)
            if progress is not None and writers.written % PROGRESS_EVERY == 0:
                progress(writers.written, total, "writing logs")

    scheduled = 0
    while scheduled < budget:
        now = START + timedelta(seconds=span * scheduled // budget)
        drain(now)
        for em in background.unit(now):
            heapq.heappush(pending, (em.time, seq, em))
            seq += 1
            scheduled += 1
    drain(None)
    writers.close()
    if progress is not None:
        progress(writers.written, writers.written, "done")
    return Summary(
        out_dir=out_dir,
        files=writers.out.files,
        late_files=writers.out.late_files,
        events=writers.written,
        events_by_source=dict(sorted(writers.by_source.items())),
        expected_attributed=writers.by_status[ATTRIBUTED],
        expected_ambiguous=writers.by_status[AMBIGUOUS],
        expected_unattributed=writers.by_status[UNATTRIBUTED],
        window_start=START,
        window_end=START + timedelta(seconds=span),
    )


EXPECTED_FILE = "expected.jsonl"
DIRECTORY_FILE = "directory.csv"


def log_files(out_dir: Path) -> list[Path]:
    """The estate's log files in delivery order: on-time ones first, the late region last."""
    files = sorted(
        p
        for p in Path(out_dir).rglob("*")
        if p.is_file() and p.name not in {EXPECTED_FILE, DIRECTORY_FILE}
    )
    on_time: list[Path] = []
    late: list[Path] = []
    for p in files:
        (late if "late" in p.relative_to(out_dir).parts else on_time).append(p)
    return on_time + late
