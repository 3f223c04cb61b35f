"""One writer per producer file format; each keeps only a small buffer or one open file.

Records arrive in time order. CloudTrail gathers them per account, region and five-minute
delivery into gzip ``{"Records": [...]}`` objects; Cloud Logging sinks write hourly JSON Lines
per log; Kubernetes appends to one audit.log per cluster; the Okta, Graph and Azure exports
are JSON arrays per day; OCSF is JSON Lines per day.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from forensics.estate.emission import Emission
from forensics.estate.expected import expected_line
from forensics.estate.ids import Ids

CLOUDTRAIL_MAX_RECORDS = 500  # CloudTrail splits busy five-minute windows into several files
SLOT = 300


def dumps(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


class Output:
    """The directory being written, with a count of files created."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.late_files = 0

    def open(self, rel: str, mode: str = "wb") -> IO[bytes]:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "wb":
            self.files += 1
            if rel.startswith("late/"):
                self.late_files += 1
        return path.open(mode)


class CloudTrailWriter:
    """gzip ``{"Records": [...]}`` files per account, region and five-minute delivery."""

    def __init__(self, out: Output, ids: Ids, late_region: str) -> None:
        self.out = out
        self.ids = ids
        self.late_region = late_region
        self.buffers: dict[tuple[str, str], tuple[int, list[bytes]]] = {}

    def add(self, em: Emission) -> None:
        _, account, region = em.sink
        key = (account, region)
        slot = (int(em.time.timestamp()) // SLOT + 1) * SLOT
        held = self.buffers.get(key)
        if held is not None and held[0] != slot:
            self._flush(key)
            held = None
        if held is None:
            held = (slot, [])
            self.buffers[key] = held
        held[1].append(dumps(em.record))
        if len(held[1]) >= CLOUDTRAIL_MAX_RECORDS:
            self._flush(key)

    def _flush(self, key: tuple[str, str]) -> None:
        slot, records = self.buffers.pop(key)
        if not records:
            return
        account, region = key
        delivered = datetime.fromtimestamp(slot, tz=UTC)
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        prefix = "late/" if region == self.late_region else ""
        rel = (
            f"{prefix}cloudtrail/AWSLogs/{account}/CloudTrail/{region}/"
            f"{delivered:%Y/%m/%d}/{account}_CloudTrail_{region}_{stamp}_{self.ids.file_suffix()}.json.gz"
        )
        body = b'{"Records":[' + b",".join(records) + b"]}"
        with self.out.open(rel) as fh:
            fh.write(gzip.compress(body, compresslevel=6, mtime=0))

    def close(self) -> None:
        for key in sorted(self.buffers):
            self._flush(key)


class GcpWriter:
    """Cloud Logging sink to Cloud Storage: hourly JSON Lines per project and log."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.open_files: dict[tuple[str, str], tuple[str, IO[bytes]]] = {}
        self.seen: set[str] = set()

    def add(self, em: Emission) -> None:
        _, project, log = em.sink
        hour = em.time.astimezone(UTC)
        rel = (
            f"gcp/{project}/cloudaudit.googleapis.com/{log}/{hour:%Y/%m/%d}/"
            f"{hour:%H}:00:00_{hour:%H}:59:59_S0.json"
        )
        key = (project, log)
        held = self.open_files.get(key)
        if held is None or held[0] != rel:
            if held is not None:
                held[1].close()
            held = (rel, self.out.open(rel, "ab" if rel in self.seen else "wb"))
            self.seen.add(rel)
            self.open_files[key] = held
        held[1].write(dumps(em.record) + b"\n")

    def close(self) -> None:
        for _, fh in self.open_files.values():
            fh.close()
        self.open_files.clear()


class LinesWriter:
    """JSON Lines into one file per key (a cluster's audit.log, a day of OCSF)."""

    def __init__(self, out: Output, path_of: Any) -> None:
        self.out = out
        self.path_of = path_of
        self.handles: dict[str, IO[bytes]] = {}

    def add(self, em: Emission) -> None:
        rel = self.path_of(em)
        fh = self.handles.get(rel)
        if fh is None:
            fh = self.out.open(rel)
            self.handles[rel] = fh
        fh.write(dumps(em.record) + b"\n")

    def close_before(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        for rel in [r for r in self.handles if r not in keep]:
            self.handles.pop(rel).close()

    def close(self) -> None:
        for fh in self.handles.values():
            fh.close()
        self.handles.clear()


class DailyArrayWriter:
    """A JSON array (optionally inside a wrapper object) per day, written as records arrive."""

    def __init__(self, out: Output, pattern: str, head: bytes, tail: bytes) -> None:
        self.out = out
        self.pattern = pattern
        self.head = head
        self.tail = tail
        self.current: tuple[str, IO[bytes]] | None = None
        self.first = True

    def add(self, em: Emission) -> None:
        rel = self.pattern.format(date=em.time.astimezone(UTC).date().isoformat())
        if self.current is None or self.current[0] != rel:
            self._finish()
            self.current = (rel, self.out.open(rel))
            self.current[1].write(self.head)
            self.first = True
        fh = self.current[1]
        fh.write((b"\n" if self.first else b",\n") + dumps(em.record))
        self.first = False

    def _finish(self) -> None:
        if self.current is not None:
            self.current[1].write(b"\n" + self.tail)
            self.current[1].close()
            self.current = None

    def close(self) -> None:
        self._finish()


class Writers:
    """Routes each emission to its format writer and records its expected attribution."""

    def __init__(self, root: Path, ids: Ids, late_region: str) -> None:
        self.out = Output(root)
        self.cloudtrail = CloudTrailWriter(self.out, ids, late_region)
        self.gcp = GcpWriter(self.out)
        self.k8s = LinesWriter(self.out, lambda em: f"k8s/{em.sink[1]}/audit.log")
        self.ocsf = LinesWriter(
            self.out, lambda em: f"ocsf/{em.time.astimezone(UTC).date().isoformat()}.jsonl"
        )
        self.okta = DailyArrayWriter(self.out, "okta/system-log-{date}.json", b"[", b"]\n")
        self.entra = DailyArrayWriter(
            self.out,
            "entra/signins-{date}.json",
            b'{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[',
            b"]}\n",
        )
        self.azure = DailyArrayWriter(
            self.out, "azure/activity-{date}.json", b'{"value":[', b"]}\n"
        )
        self.expected = self.out.open("expected.jsonl")
        self.by_source: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.written = 0
        self._ocsf_day = ""

    def write(self, em: Emission) -> None:
        family = em.sink[0]
        if family == "cloudtrail":
            self.cloudtrail.add(em)
        elif family == "gcp":
            self.gcp.add(em)
        elif family == "k8s":
            self.k8s.add(em)
        elif family == "okta":
            self.okta.add(em)
        elif family == "entra":
            self.entra.add(em)
        elif family == "azure":
            self.azure.add(em)
        elif family == "ocsf":
            day = em.time.astimezone(UTC).date().isoformat()
            if day != self._ocsf_day:
                self.ocsf.close_before([f"ocsf/{day}.jsonl"])
                self._ocsf_day = day
            self.ocsf.add(em)
        else:
            raise ValueError(f"unknown sink {em.sink!r}")
        self.written += 1
        self.by_source[em.source_kind] += 1
        line = expected_line(em)
        if line is not None:
            self.expected.write(dumps(line) + b"\n")
            self.by_status[line["status"]] += 1

    def directory(self, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        with (self.out.root / "directory.csv").open("w", newline="", encoding="utf-8") as fh:
            self.out.files += 1
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    def close(self) -> None:
        for w in (
            self.cloudtrail,
            self.gcp,
            self.k8s,
            self.ocsf,
            self.okta,
            self.entra,
            self.azure,
        ):
            w.close()
        self.expected.close()
