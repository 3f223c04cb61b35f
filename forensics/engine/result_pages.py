"""Search results saved as the API answered them, read a record at a time: a Splunk results
page (``output_mode=json``: ``{"preview", "init_offset", "messages", "fields", "results"}``)
and an Elasticsearch or OpenSearch search response (``{"took", "timed_out", "_shards",
"hits": {"total", "max_score", "hits"}}``). Arrays and objects come before their records, so
the wrappers' reading (plain members only) does not take them; a page of 10,000 hits may
hold more than a record can. Pages appended to one file are read one after another. The
reader takes each result's event out of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from forensics.engine.elements import (
    WRAPPER_HEAD_CHARS,
    array_elements,
    first_line_whole,
    walk_object,
)
from forensics.engine.jsontext import Buffer, chunks, rest_not_read
from forensics.engine.streams import ByteSource, RawRecord

# How a page starts, the path to its records, where the head shows that path opens an
# array (so a file of pages one a line, or of other objects, is not taken for one), and
# what a record is called in its place.
_PAGES = [
    (
        re.compile(r'\A\s*\{\s*"preview"\s*:'),
        ("results",),
        re.compile(r'"results"\s*:\s*\['),
        "result",
    ),
    (
        re.compile(r'\A\s*\{\s*"(?:took|_scroll_id|pit_id)"\s*:'),
        ("hits", "hits"),
        re.compile(r'"hits"\s*:\s*\['),
        "hit",
    ),
]
_HEAD_CHARS = 4 * WRAPPER_HEAD_CHARS


def streamed_page(first: bytes) -> tuple[tuple[str, ...], str] | None:
    """(path to its records, what a record is called) when a file starts with a results page
    that is not on its first line alone; None otherwise."""
    head = first[:_HEAD_CHARS].decode("utf-8", "replace")
    for start, path, opens, what in _PAGES:
        if start.match(head) and opens.search(head) and not first_line_whole(first):
            return path, what
    return None


def page_records(
    src: ByteSource, first: bytes, offset: int, path: tuple[str, ...], what: str
) -> Iterator[RawRecord]:
    """The records of the results pages a file holds, one after another."""
    buf = Buffer(chunks(src, first, offset), offset)
    buf.more()
    index = 0

    def records(_before: dict[str, Any]) -> Iterator[RawRecord | str]:
        for rec in array_elements(buf, index, src):
            yield RawRecord(rec.index, f"{what} {rec.index}", rec.text, rec.data, rec.error)

    while buf.skip_ws() == "{":
        for part in walk_object(buf, path, records, "the page"):
            if isinstance(part, str):
                reason = src.failure or part + rest_not_read(buf.byte_at(buf.pos))
                shown = buf.text[buf.pos : buf.pos + 200]
                yield RawRecord(index + 1, f"{what} {index + 1}", shown, None, reason)
                return
            index = part.index
            yield part
        if buf.broken:
            return
    if buf.skip_ws() or src.failure:
        reason = src.failure or (
            "unexpected content after the page" + rest_not_read(buf.byte_at(buf.pos))
        )
        shown = buf.text[buf.pos : buf.pos + 200]
        yield RawRecord(index + 1, f"{what} {index + 1}", shown, None, reason)
