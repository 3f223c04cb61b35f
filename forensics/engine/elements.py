"""JSON text read a value at a time: the elements of a record array, the members that
follow it in its wrapper, and where a member's value stands in an object's text."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import orjson

from forensics.engine.jsontext import (
    DECODER,
    SHOWN_CHARS,
    WS,
    Buffer,
    Failure,
    rest_not_read,
    skip_bad_element,
)
from forensics.engine.streams import ByteSource, RawRecord

# How much of a file's start is enough to see such a wrapper's array open.
WRAPPER_HEAD_CHARS = 4096


def first_line_whole(first: bytes) -> bool:
    """Whether a file's first line holds a whole JSON object: a file of containers one a
    line is read line by line (a bad line costs only itself), not as one container."""
    end = first.find(b"\n")
    if end < 0:
        return False
    try:
        return isinstance(orjson.loads(first[:end]), dict)
    except orjson.JSONDecodeError:
        return False


def wrapper_end(
    buf: Buffer,
    key: str,
    own: Collection[str] = (),
    report: Callable[[str, Any], str] | None = None,
) -> Iterator[tuple[str, str, bool]]:
    """Read past the members after a wrapper's record array and the wrapper's "}", yielding
    what is wrong on the way: why, the text it is about, and whether reading cannot go on.

    A wrapper read whole takes its records from the first of its record arrays; one read a
    record at a time has read the array it met first. A second record array after it is
    reported, not passed over: its records are not read. ``own`` members are the wrapper's
    own and passed over; ``report`` says what else a member tells (or "").
    """
    while True:
        ch = buf.skip_ws()
        if ch == "}":
            buf.pos += 1
            return
        name: Any = None
        if ch == ",":
            buf.pos += 1
            if buf.skip_ws() == '"':
                found = buf.decode_value()
                name = None if isinstance(found, Failure) else found[0]
        if not isinstance(name, str) or buf.skip_ws() != ":":
            where = rest_not_read(buf.byte_at(buf.pos))
            shown = buf.text[buf.pos : buf.pos + 200]
            yield f"unexpected content after the {key} array{where}", shown, True
            return
        buf.pos += 1
        buf.skip_ws()
        value = buf.decode_value()
        if isinstance(value, Failure):
            where = rest_not_read(buf.byte_at(buf.pos))
            failed = value.reason(buf.text[buf.pos : buf.pos + value.offset])
            reason = f'member "{name[:100]}" after the {key} array: {failed}{where}'
            yield reason, buf.text[buf.pos : buf.pos + 200], True
            return
        member, text = value
        if name in own:
            continue  # a page's own member ("searchedLogStreams", "ResponseMetadata")
        if report is not None and (said := report(name, member)):
            yield said, text[:SHOWN_CHARS], False
            continue
        if isinstance(member, list) and member and isinstance(member[0], dict):
            reason = (
                f'a second record array, "{name[:100]}", after the {key} array: its '
                f"{len(member)} records were not read"
            )
            yield reason, text[:SHOWN_CHARS], False


def walk_object(
    buf: Buffer,
    path: Sequence[str],
    read_array: Callable[[dict[str, Any]], Iterator[RawRecord | str]],
    what: str = "the object",
) -> Iterator[RawRecord | str]:
    """Walk the object whose "{" is at pos down ``path`` (names of nested members), reading
    the array at its end with ``read_array`` (pos just after its "["; it is handed the
    members its object held before it, decoded). Every other member is decoded whole and
    passed over. pos ends after the object's "}"; a text (last) says why it cannot be read
    on, as does ``buf.broken``."""
    buf.pos += 1
    seen: dict[str, Any] = {}
    while True:
        ch = buf.skip_ws()
        if ch == ",":
            buf.pos += 1
            continue
        if ch == "}":
            buf.pos += 1
            return
        found = buf.decode_value() if ch == '"' else None
        if found is None or isinstance(found, Failure) or buf.skip_ws() != ":":
            yield f"unexpected content in {what}"
            return
        name = found[0]
        buf.pos += 1
        ch = buf.skip_ws()
        if path and name == path[0] and ch == ("[" if len(path) == 1 else "{"):
            if len(path) == 1:
                buf.pos += 1
                parts = read_array(seen)
            else:
                parts = walk_object(buf, path[1:], read_array, f'"{name}"')
            for part in parts:
                yield part
                if isinstance(part, str):
                    return
            if buf.broken:
                return
            continue
        value = buf.decode_value()
        if isinstance(value, Failure):
            failed = value.reason(buf.text[buf.pos : buf.pos + value.offset])
            yield f'{what}\'s member "{str(name)[:100]}": {failed}'
            return
        seen[name] = value[0]


def array_elements(
    buf: Buffer,
    index: int,
    src: ByteSource,
    columns: list[str] | None = None,
    *,
    cells: bool = False,
) -> Iterator[RawRecord]:
    """Elements of the array whose "[" was just consumed; leaves pos after its "]".

    With ``columns``, the elements are rows: arrays of values in column order, each read as
    an object by column name. With ``cells``, they are rows of one-column objects.
    """
    expect_value = True
    last = ""  # the last element read: how this array's elements start
    found: tuple[Any, str] | None = None  # the element reading resumed at, after a bad one
    while True:
        if found is not None:
            result: tuple[Any, str] | Failure = found
            found = None
        else:
            ch = buf.skip_ws()
            if not ch:
                index += 1
                yield RawRecord(
                    index,
                    f"record {index}",
                    "",
                    None,
                    src.failure or "file ends before the record array is closed",
                )
                buf.broken = True
                return
            if ch == "]":
                buf.pos += 1
                return
            if ch == "," and not expect_value:
                buf.pos += 1
                expect_value = True
                continue
            result = buf.decode_value()
        index += 1
        if isinstance(result, Failure):
            text, reason, found = skip_bad_element(buf, result, last, src)
            yield RawRecord(index, f"record {index}", text, None, reason)
            if buf.broken:
                return
            expect_value = False
            continue
        obj, text = result
        last = text
        expect_value = False
        if columns is not None:
            if isinstance(obj, list) and len(obj) == len(columns):
                yield RawRecord(
                    index, f"record {index}", text, dict(zip(columns, obj, strict=True))
                )
            else:
                reason = f"row should be an array of {len(columns)} values, one per column"
                yield RawRecord(index, f"record {index}", text, None, reason)
        elif cells:
            merged = merged_cells(obj)
            if merged is None:
                reason = "row should be an array of objects, one per column"
                yield RawRecord(index, f"record {index}", text, None, reason)
            else:
                yield RawRecord(index, f"record {index}", text, merged)
        elif isinstance(obj, dict):
            yield RawRecord(index, f"record {index}", text, obj)
        else:
            yield RawRecord(index, f"record {index}", text, None, "record is not a JSON object")


def member_array_start(text: str, *path: str) -> int:
    """Index just after the "[" of the member at ``path`` (names of nested members, from the
    top level) in a JSON object text, or -1."""
    pos = member_start(text, *path)
    return pos + 1 if pos >= 0 and text[pos] == "[" else -1


def member_text(text: str, name: str) -> str:
    """The exact text of a top-level member's value in a JSON object text, or ""."""
    start = member_start(text, name)
    return text[start : DECODER.raw_decode(text, start)[1]] if start >= 0 else ""


def member_start(text: str, *path: str) -> int:
    """Index of the value of the member at ``path`` in a JSON object text, or -1."""
    pos = text.index("{") + 1
    while True:
        while text[pos] in WS or text[pos] == ",":
            pos += 1
        if text[pos] == "}":
            return -1
        name, pos = DECODER.raw_decode(text, pos)
        while text[pos] in WS or text[pos] == ":":
            pos += 1
        if name == path[0]:
            if len(path) == 1:
                return pos
            if text[pos] == "{":
                path = path[1:]
                pos += 1
                continue
        _value, pos = DECODER.raw_decode(text, pos)


def merged_cells(row: Any) -> dict[str, Any] | None:
    """A Lake result row ([{"column": value}, ...]) as one object; None if it is not one."""
    if not isinstance(row, list):
        return None
    merged: dict[str, Any] = {}
    for cell in row:
        if not isinstance(cell, dict):
            return None
        merged.update(cell)
    return merged


class StringSource(ByteSource):
    """A ByteSource over text already in memory (a wrapper object found on one line)."""

    def __init__(self, text: str) -> None:
        # Its text is read through a Buffer over it: the bytes it gives are none.
        super().__init__(io.BytesIO(b""))
