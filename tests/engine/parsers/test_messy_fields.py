"""Every field of every sample record, made messy the ways real logs are: removed, null,
empty text, or of another type. Every parser's sniffer answers yes or no to it, and the
record's parser either reads it or refuses it with a RecordError naming a field; never
another exception. Empty text where the producer writes
an object or an array is read as absent, as flattened and SIEM exports write it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from forensics.engine.model import RecordError
from forensics.engine.parsers import all_parsers, detect
from tests.engine.parsers.foreign import SAMPLES, sample_records

RECORDS_PER_FILE = 3
MESSES: dict[str, Any] = {"null": None, "empty": "", "number": 7, "array": [], "object": {}}
SAMPLE_FILES = sorted(
    (p.parent.name, p.name)
    for p in SAMPLES.rglob("*")
    if p.is_file() and p.suffix != ".md" and p.parent != SAMPLES
)


def field_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node[:3])
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from field_paths(value, (*prefix, key))


def messed(record: dict[str, Any], path: tuple[Any, ...], mess: str) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if mess == "removed":
        node.pop(path[-1])
    else:
        node[path[-1]] = MESSES[mess]
    return out


@pytest.mark.parametrize(("source", "name"), SAMPLE_FILES)
def test_a_messy_field_is_read_or_named_never_a_crash(source: str, name: str) -> None:
    records = [r for r in sample_records(source, name) if isinstance(r, dict)]
    parser = detect(records)
    checked = 0
    for record in records[:RECORDS_PER_FILE]:
        for path in field_paths(record):
            structured = isinstance(_at(record, path), dict | list)
            for mess in ("removed", *MESSES):
                messy = messed(record, path, mess)
                # Detection asks every parser, of every record of a mixed file.
                for other in all_parsers():
                    assert other.sniff(messy) in (True, False), (other.kind, path, mess)
                try:
                    parser.parse(messy)
                except RecordError as exc:
                    # Empty text where an object or array belongs is read as absent.
                    if mess == "empty" and structured:
                        assert "found str" not in str(exc), (path, str(exc))
                except Exception as exc:
                    pytest.fail(f"{name} {path} {mess}: {exc!r}")
                checked += 1
    assert checked > 0


def _at(record: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        record = record[step]
    return record
