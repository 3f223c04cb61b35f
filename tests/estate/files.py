"""Readers for a generated estate, written straight from each format's documented shape."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forensics.estate.expected import read_expected


def cloudtrail_files(root: Path) -> list[Path]:
    return sorted(root.glob("**/cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))


def cloudtrail_records(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in cloudtrail_files(root):
        with gzip.open(path, "rb") as fh:
            for record in json.load(fh)["Records"]:
                yield path, record


def gcp_files(root: Path) -> list[Path]:
    return sorted(root.glob("gcp/*/cloudaudit.googleapis.com/*/*/*/*/*.json"))


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            yield json.loads(line)


def gcp_entries(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in gcp_files(root):
        for entry in json_lines(path):
            yield path, entry


def k8s_events(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("k8s/*/audit.log")):
        for event in json_lines(path):
            yield path, event


def okta_events(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("okta/system-log-*.json")):
        for event in json.loads(path.read_bytes()):
            yield path, event


def entra_signins(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("entra/signins-*.json")):
        for signin in json.loads(path.read_bytes())["value"]:
            yield path, signin


def azure_events(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("azure/activity-*.json")):
        for event in json.loads(path.read_bytes())["value"]:
            yield path, event


def ocsf_events(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("ocsf/*.jsonl")):
        for event in json_lines(path):
            yield path, event


def event_ids(root: Path) -> Iterator[tuple[str, str]]:
    """(source kind, producer event id) of every record written, stage repeats included."""
    for _, r in cloudtrail_records(root):
        yield "cloudtrail", r["eventID"]
    for _, r in gcp_entries(root):
        yield "gcp_audit", r["insertId"]
    for _, r in k8s_events(root):
        yield "k8s_audit", r["auditID"]
    for _, r in okta_events(root):
        yield "okta", r["uuid"]
    for _, r in entra_signins(root):
        yield "entra", r["id"]
    for _, r in azure_events(root):
        yield "azure_activity", r["eventDataId"]
    for _, r in ocsf_events(root):
        yield "ocsf", r["metadata"]["uid"]


def expected(root: Path) -> list[dict[str, Any]]:
    return list(read_expected(root / "expected.jsonl"))


def log_files(root: Path) -> list[Path]:
    """Every log file of the estate (not the directory or the expectations)."""
    skip = {"directory.csv", "expected.jsonl"}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in skip)
