"""Log Analytics query API responses (``{"tables": [{"name", "columns", "rows"}]}``): each
row read as an object by its table's column names, its text the row's own; a response read
whole from a line, or a row at a time from a file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from forensics.engine.elements import (
    WRAPPER_HEAD_CHARS,
    StringSource,
    array_elements,
    first_line_whole,
    member_array_start,
    walk_object,
    wrapper_end,
)
from forensics.engine.jsontext import (
    DECODER,
    SHOWN_CHARS,
    Buffer,
    chunks,
    rest_not_read,
)
from forensics.engine.streams import ByteSource, RawRecord

_QUERY_RESPONSE_START = re.compile(r'\A\s*\{\s*"tables"\s*:\s*\[')


def streamed_query_response(first: bytes) -> bool:
    """Whether a file starts with a Log Analytics query API response to read a row at a
    time: one not on its first line (pretty-printed, or a line longer than the first read).
    A file of responses one a line is read line by line, each response whole."""
    head = first[:WRAPPER_HEAD_CHARS].decode("utf-8", "replace")
    return bool(_QUERY_RESPONSE_START.match(head)) and not first_line_whole(first)


def query_response_records(src: ByteSource, first: bytes, offset: int) -> Iterator[RawRecord]:
    """The rows of a Log Analytics query API response, a row at a time, each read as an
    object by its table's column names (which the API writes before the rows); its text is
    the row's own. A query can answer with up to 500,000 rows: more than one record may
    hold, so the response is not decoded whole. Members after the tables ("statistics",
    "render") are passed over; an "error" beside them (a partial result) is reported. Further
    responses appended to the file (a page after a page) are read the same way."""
    buf = Buffer(chunks(src, first, offset), offset)
    buf.more()
    m = _QUERY_RESPONSE_AT.match(buf.text)
    # Placed as a response read whole would be: by the line it starts on, for the first.
    prefix = f"line {1 + buf.text[: m.start(1)].count(chr(10))}, " if m else ""
    index = responses = 0
    while m is not None:
        responses += 1
        buf.pos = m.end()
        for rec in _response_tables(buf, src, index, prefix):
            index = rec.index
            yield rec
        if buf.broken:
            return
        if not buf.skip_ws():
            if src.failure:
                yield RawRecord(index + 1, f"record {index + 1}", "", None, src.failure)
            return
        while len(buf.text) - buf.pos < WRAPPER_HEAD_CHARS and buf.more():
            pass
        m = _QUERY_RESPONSE_AT.match(buf.text, buf.pos)
        prefix = f"response {responses + 1}, "
    reason = src.failure or (
        "unexpected content after the query response" + rest_not_read(buf.byte_at(buf.pos))
    )
    yield RawRecord(
        index + 1, f"record {index + 1}", buf.text[buf.pos : buf.pos + 200], None, reason
    )


_QUERY_RESPONSE_AT = re.compile(r'\s*(\{)\s*"tables"\s*:\s*\[')


def _response_tables(buf: Buffer, src: ByteSource, index: int, prefix: str) -> Iterator[RawRecord]:
    """The rows of one response's tables (pos just after its "tables" array's "["), then
    what is wrong after them; pos after the response's "}" (``buf.broken`` if it cannot be
    read on)."""
    table = 0
    while True:
        ch = buf.skip_ws()
        if ch == ",":
            buf.pos += 1
            continue
        if ch == "]":
            buf.pos += 1
            break
        table += 1
        before = index
        problem = "" if ch == "{" else "expected a table object"
        for rec in () if problem else _table_rows(buf, index, src):
            if isinstance(rec, str):
                problem = rec
                break
            index = rec.index
            position = f"{prefix}table {table}, row {rec.index - before}"
            yield RawRecord(rec.index, position, rec.text, rec.data, rec.error)
        if buf.broken:
            return
        if problem:
            buf.broken = True
            reason = src.failure or problem + rest_not_read(buf.byte_at(buf.pos))
            shown = buf.text[buf.pos : buf.pos + 200]
            yield RawRecord(index + 1, f"{prefix}table {table}", shown, None, reason)
            return
    for problem, shown, fatal in wrapper_end(buf, "tables", report=_reported):
        index += 1
        yield RawRecord(index, f"{prefix}after the tables", shown, None, src.failure or problem)
        if fatal:
            buf.broken = True
            return


def _table_rows(buf: Buffer, index: int, src: ByteSource) -> Iterator[RawRecord | str]:
    """The rows of the table object whose "{" is at pos, then pos after its "}"; a text
    (last) says why the table cannot be read on."""

    def rows(before: dict[str, Any]) -> Iterator[RawRecord | str]:
        if "columns" not in before:
            yield "the table's rows come before its columns"
            return
        columns = _column_names(before["columns"])
        if columns is None:
            yield "the table's columns should be objects with a name"
            return
        yield from array_elements(buf, index, src, columns)

    return walk_object(buf, ("rows",), rows, "the table")


def _column_names(columns: Any) -> list[str] | None:
    if isinstance(columns, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns
    ):
        return [c["name"] for c in columns]
    return None


# What a Log Analytics query API response may hold beside its tables.
_QUERY_RESPONSE_KEYS = frozenset({"tables", "error", "statistics", "render"})


def is_query_response(obj: dict[str, Any]) -> bool:
    """A Log Analytics query API response: {"tables": [{"name", "columns", "rows"}, ...]}."""
    tables = obj.get("tables")
    if not isinstance(tables, list) or not tables or not set(obj) <= _QUERY_RESPONSE_KEYS:
        return False
    return all(
        isinstance(t, dict)
        and isinstance(t.get("rows"), list)
        and _column_names(t.get("columns")) is not None
        for t in tables
    )


def query_rows(text: str, obj: dict[str, Any], index: int, prefix: str) -> Iterator[RawRecord]:
    """Each row of each table of a query response, as an object by column name; its text is
    the row's own (the column names are in the response, kept whole with the file)."""
    buf = Buffer.over(text)
    buf.pos = member_array_start(text, "tables")
    for number, table in enumerate(obj["tables"], 1):
        if buf.skip_ws() == ",":
            buf.pos += 1
            buf.skip_ws()
        start = buf.pos
        _value, buf.pos = DECODER.raw_decode(text, start)
        table_text = text[start : buf.pos]
        rows = Buffer.over(table_text)
        rows.pos = member_array_start(table_text, "rows")
        columns = _column_names(table["columns"]) or []
        before = index
        for row in array_elements(rows, before, StringSource(table_text), columns):
            index = row.index
            position = f"{prefix}, table {number}, row {row.index - before}"
            yield RawRecord(row.index, position, row.text, row.data, row.error)
    if obj.get("error"):
        shown = orjson.dumps(obj["error"]).decode()[:SHOWN_CHARS]
        yield RawRecord(index + 1, prefix, shown, None, query_error(obj["error"]))


def query_error(error: Any) -> str:
    """What a query response's "error" beside its tables says: the rows may be incomplete
    (Log Analytics answers a query it could not finish with what it has and a PartialError)."""
    said = ""
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        said = ": ".join(str(v)[:300] for v in (code, message) if v)
    return "the query's response reports an error, so its rows may be incomplete" + (
        f" ({said})" if said else ""
    )


def _reported(name: str, member: Any) -> str:
    """What a member after a response's tables tells: an "error" of a partial result."""
    return query_error(member) if name == "error" and member else ""
