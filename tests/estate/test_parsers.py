"""The engine's own reader and parsers take every generated file without a single error."""

from __future__ import annotations

from pathlib import Path

from forensics.engine.model import CATEGORIES, DATA_ACCESS, NormalizedEvent, RecordError
from forensics.engine.parsers import detect
from forensics.engine.reader import iter_records
from forensics.estate import Summary
from tests.estate.files import expected, log_files


def _parse_all(root: Path) -> tuple[list[NormalizedEvent], list[str]]:
    events, errors = [], []
    for path in log_files(root):
        with path.open("rb") as fh:
            records = list(iter_records(fh))
        errors += [f"{path}: {r.position}: {r.error}" for r in records if r.error]
        parser = detect(r.data for r in records if r.data is not None)
        for r in records:
            if r.data is None:
                continue
            try:
                events.append(parser.parse(r.data))
            except RecordError as exc:
                errors.append(f"{path}: {r.position}: {exc}")
    return events, errors


def test_every_generated_record_is_read_detected_and_parsed(estate: tuple[Path, Summary]) -> None:
    root, summary = estate
    events, errors = _parse_all(root)
    assert errors == []
    assert len(events) == summary.events
    kinds = {e.source_kind for e in events}
    assert kinds == set(summary.events_by_source)
    assert {e.category for e in events} <= set(CATEGORIES)


def test_every_event_the_parsers_call_data_access_is_expected(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    events, _ = _parse_all(root)
    keys = {(e["source_kind"], e["source_event_id"]) for e in expected(root)}
    data = [(e.source_kind, e.source_event_id) for e in events if e.category == DATA_ACCESS]
    assert len(data) > 1500
    assert set(data) <= keys
    assert {(e.source_kind, e.source_event_id) for e in events} == keys


def test_parsed_cloudtrail_keys_meet_their_issuers(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    events, _ = _parse_all(root)
    orphans = {e["source_event_id"] for e in expected(root) if e["story"] == "missing-issuer"}
    issued = {
        e.credential_issued for e in events if e.source_kind == "cloudtrail" and e.credential_issued
    }
    temporary = [
        e for e in events if e.source_kind == "cloudtrail" and e.credential_used.startswith("ASIA")
    ]
    assert temporary
    for e in temporary:
        assert (e.credential_used in issued) != (e.source_event_id in orphans)
