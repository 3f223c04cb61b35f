"""Every parser claims the records of its own format and no other; detection follows suit."""

from __future__ import annotations

from typing import Any

import pytest

from forensics.engine.parsers import Parser, UnknownFormat, all_parsers, detect
from tests.engine.parsers.foreign import OTHER_SHAPES, RECORDS, SAMPLES, UNCLAIMED, sample_records

# Shape name -> (source kind, record): the record of every parser and the other shapes.
SHAPES = {kind: (kind, record) for kind, record in RECORDS.items()} | OTHER_SHAPES
SAMPLE_FILES = sorted(
    (folder.name, path.name)
    for folder in SAMPLES.iterdir()
    if folder.is_dir()
    for path in folder.iterdir()
    if path.suffix != ".md"
)


def _claimants(record: Any) -> list[str]:
    return [parser.kind for parser in all_parsers() if parser.sniff(record)]


def test_there_is_one_record_for_every_parser() -> None:
    kinds = [parser.kind for parser in all_parsers()]

    assert len(set(kinds)) == len(kinds)
    assert set(RECORDS) == set(kinds)
    assert {kind for kind, _ in OTHER_SHAPES.values()} <= set(kinds)


@pytest.mark.parametrize("parser", all_parsers(), ids=lambda parser: parser.kind)
def test_each_parser_sniffs_its_own_record(parser: Parser) -> None:
    assert parser.sniff(RECORDS[parser.kind])


@pytest.mark.parametrize(("kind", "record"), list(SHAPES.values()), ids=list(SHAPES))
def test_each_record_is_claimed_by_the_parser_of_its_format_alone(
    kind: str, record: dict[str, Any]
) -> None:
    assert _claimants(record) == [kind]


@pytest.mark.parametrize(("kind", "record"), list(SHAPES.values()), ids=list(SHAPES))
def test_detect_picks_the_parser_of_the_record_format(kind: str, record: dict[str, Any]) -> None:
    assert detect([record]).kind == kind


@pytest.mark.parametrize("record", list(UNCLAIMED.values()), ids=list(UNCLAIMED))
def test_no_parser_claims_a_record_of_an_unknown_producer(record: dict[str, Any]) -> None:
    assert _claimants(record) == []
    with pytest.raises(UnknownFormat):
        detect([record])


def test_detect_passes_over_records_no_parser_claims() -> None:
    records = [*UNCLAIMED.values(), RECORDS["okta"], RECORDS["cloudtrail"]]

    assert detect(records).kind == "okta"


@pytest.mark.parametrize("value", [[], "Event", None, 3002], ids=repr)
def test_no_parser_claims_what_is_not_an_object(value: Any) -> None:
    assert _claimants(value) == []


@pytest.mark.parametrize(
    ("source", "name"), SAMPLE_FILES, ids=[f"{s}/{n}" for s, n in SAMPLE_FILES]
)
def test_detect_picks_the_parser_of_each_sample_file(source: str, name: str) -> None:
    records = sample_records(source, name)

    assert detect(records).kind == source
    assert all(_claimants(record) == [source] for record in records)
