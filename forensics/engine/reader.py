"""Stream log records out of a file without holding the file in memory.

Producers write the same events in several shapes: a JSON array (Okta, Entra exports), a
wrapper object with a ``Records`` / ``records`` / ``value`` array (CloudTrail, Azure Monitor,
Microsoft Graph), JSON Lines (GCP sinks, Kubernetes audit, OCSF), or one pretty-printed
object; any of them may be gzip-compressed. Records that went through Amazon CloudWatch Logs
(EKS audit logs, CloudTrail sent to a log group) arrive as log events whose ``message`` is
the record: in ``aws logs filter-log-events`` / ``get-log-events`` output, in subscription
deliveries (``logEvents``, as Firehose writes them to S3), or as the lines of an export to S3,
each after its timestamp; such a record keeps the log event's exact text as its raw text and
the message as its data. So does a Pub/Sub message (a push request body, or a pulled
message) that a log sink published: its base64 ``data`` is the record. A Log Analytics
query API response holds rows of values by column; each row is read as an object by column
name, its text the row's own; so is each row of a
CloudTrail Lake ``GetQueryResults`` response (one-column objects), and each row of a CSV
export after its header line. A Parquet file (AWS
Security Lake's OCSF tables) is read a batch of rows at a time.

``iter_records`` yields every record with its exact text, so the raw original can be kept,
and turns what cannot be read into an error record instead of an exception: the caller
quarantines it and goes on.
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

from forensics.engine.streams import (
    CHUNK_CHARS,
    MAX_RECORD_CHARS,
    ByteSource,
    Prepend,
    RawRecord,
    byte_lines,
)
from forensics.engine.tabular import PARQUET_MAGIC, csv_header, csv_records, parquet_records

WRAPPER_KEYS = ("Records", "records", "value")
_WRAPPER_START = re.compile(r'\A\s*\{\s*"Records"\s*:\s*\[')
_WS = " \t\r\n"
_decoder = json.JSONDecoder()


def iter_records(stream: IO[bytes]) -> Iterator[RawRecord]:
    """Yield every record of a log file, in file order, never raising on bad content."""
    for record in _records(stream):
        data = record.data
        message = data.get("message") if data is not None else None
        if data is not None and isinstance(message, dict) and _is_pubsub(data, message):
            yield _pubsub_record(record, message)
        else:
            yield record


def _is_pubsub(envelope: dict[str, Any], message: dict[str, Any]) -> bool:
    """A Pub/Sub push request body ({"message", "subscription"}) or a pulled message
    ({"ackId", "message"}), as a log sink to a topic delivers its entries."""
    return "data" in message and ("subscription" in envelope or "ackId" in envelope)


def _pubsub_record(record: RawRecord, message: dict[str, Any]) -> RawRecord:
    """The record a Pub/Sub message carries in its base64 ``data``; the envelope's text stays
    the raw record, as a CloudWatch Logs event's does."""
    data = message.get("data")
    decoded: Any = None
    if isinstance(data, str):
        try:
            decoded = loads(base64.b64decode(data, validate=True).decode("utf-8"))
        except ValueError:  # binascii.Error and decoding errors are ValueErrors
            decoded = None
    if not isinstance(decoded, dict):
        reason = "Pub/Sub message whose data is not a JSON object in base64"
        return RawRecord(record.index, record.position, record.text, None, reason)
    return RawRecord(record.index, record.position, record.text, decoded)


def _records(stream: IO[bytes]) -> Iterator[RawRecord]:
    head = stream.read(len(PARQUET_MAGIC))
    if head == PARQUET_MAGIC:
        yield from parquet_records(stream)
        return
    src = ByteSource(Prepend(head, stream))
    first = src.read_bytes(CHUNK_CHARS)
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    stripped = first.lstrip()
    if not stripped:
        if src.failure:
            yield RawRecord(1, "byte 0", "", None, src.failure)
        return
    if stripped[:1] == b"[" or _WRAPPER_START.match(first[:256].decode("utf-8", "replace")):
        yield from _array_records(src, first)
        return
    yield from _line_records(src, first)


def _chunks(src: ByteSource, first: bytes) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    data = first
    while data:
        try:
            yield decoder.decode(data)
        except UnicodeDecodeError as exc:
            src.failure = src.failure or f"invalid UTF-8 near byte {src.bytes_read}: {exc.reason}"
            return
        data = src.read_bytes(CHUNK_CHARS)
    yield decoder.decode(b"", final=True)


class _Buffer:
    """A sliding window of decoded text over a chunk iterator."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self.text = ""
        self.pos = 0
        self.eof = False
        self.broken = False  # set when a fatal error ended the record array

    def more(self) -> bool:
        if self.eof:
            return False
        try:
            piece = next(self._chunks)
        except StopIteration:
            self.eof = True
            return False
        self.text = self.text[self.pos :] + piece
        self.pos = 0
        return True

    def skip_ws(self) -> str:
        """Advance past white space; return the next character or "" at the end."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def decode_value(self) -> tuple[Any, str] | str:
        """Decode the JSON value at pos, reading more as needed; an error message on failure."""
        if self.text.startswith("{", self.pos):
            found = self._decode_object_quickly()
            if found is not None:
                return found
        while True:
            try:
                obj, end = _decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > MAX_RECORD_CHARS:
                    return f"record larger than {MAX_RECORD_CHARS} characters"
                if not self.more():
                    return f"invalid JSON: {exc.msg} at column {exc.pos - self.pos + 1}"
                continue
            text = self.text[self.pos : end]
            self.pos = end
            return obj, text

    def _decode_object_quickly(self) -> tuple[Any, str] | None:
        """An array element object found by its likely end and checked by orjson, or None.

        An element of a record array ends at a "}" followed by "," and "{", or by "]". Such
        a sequence can also sit inside the element (an array of objects, or a string), but
        then the text up to it is not one complete JSON object and orjson refuses it, so an
        accepted text is exactly the element. This is several times faster than the
        standard decoder, which stays the fallback (values orjson refuses, records that
        need more input, or too many false ends).
        """
        start = search = self.pos
        for _ in range(_QUICK_TRIES):
            m = _ELEMENT_END.search(self.text, search)
            if m is None:
                return None
            end = m.start() + 1
            text = self.text[start:end]
            try:
                obj = loads(text)
            except ValueError:
                search = end
                continue
            self.pos = end
            return obj, text
        return None


def loads(text: str) -> Any:
    """orjson's decoding, except where it would lose a value.

    orjson turns integers wider than 64 bits into floats; an identifier written as a long
    number must keep every digit, so such texts go to the standard decoder. Raises
    ValueError (both decoders' errors derive from it) on invalid JSON.
    """
    # A byte table maps digits to "0" and everything else to " ": one fast C pass, then a
    # substring search (a regular expression costs ten times as much per record).
    if _NINETEEN_DIGITS in text.encode("utf-8", "surrogatepass").translate(_DIGIT_TABLE):
        return json.loads(text)
    return orjson.loads(text)


_DIGIT_TABLE = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_NINETEEN_DIGITS = b"0" * 19  # 2**63 has 19 digits
_ELEMENT_END = re.compile(r"\}\s*(?:,\s*\{|\])")
_QUICK_TRIES = 6
# CloudWatch Logs: the arrays of log events, the members beside them in a page of
# ``filter-log-events`` / ``get-log-events`` output, what a subscription's delivery check
# says, and the timestamp before each event on a line of an export to S3 (matched on the
# first line's bytes, then on each decoded line).
_LOG_EVENT_KEYS = frozenset({"events", "logEvents"})
_LOG_EVENTS_PAGE_KEYS = frozenset(
    {"events", "searchedLogStreams", "nextToken", "nextForwardToken", "nextBackwardToken"}
)
_CONTROL_MESSAGE = "CWL CONTROL MESSAGE"
_STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (?=\{)"
_EXPORT_STAMP = re.compile(_STAMP.encode())
_EXPORT_STAMP_TEXT = re.compile(_STAMP)
# What a Log Analytics query API response may hold beside its tables.
_QUERY_RESPONSE_KEYS = frozenset({"tables", "error", "statistics", "render"})
# A CloudTrail Lake GetQueryResults response, as the CLI prints it or an SDK returns it.
_LAKE_RESULTS_KEYS = frozenset(
    {
        "QueryStatus",
        "QueryStatistics",
        "QueryResultRows",
        "NextToken",
        "ErrorMessage",
        "ResponseMetadata",
    }
)
_ARRAY_OPEN = re.compile(r'\s*(\[|\{\s*"Records"\s*:\s*\[)')


def _array_records(src: ByteSource, first: bytes) -> Iterator[RawRecord]:
    """Records of a top-level array, or of one or more ``{"Records": [...]}`` objects."""
    buf = _Buffer(_chunks(src, first))
    buf.more()
    index = 0
    while True:
        while len(buf.text) - buf.pos < 64 and buf.more():
            pass
        m = _ARRAY_OPEN.match(buf.text, buf.pos)
        if not m:
            index += 1
            snippet = buf.text[buf.pos : buf.pos + 200]
            yield RawRecord(
                index,
                f"record {index}",
                snippet,
                None,
                src.failure or "expected a JSON array of records",
            )
            return
        wrapped = m.group(1) != "["
        buf.pos = m.end()
        for rec in _array_elements(buf, index, src):
            index = rec.index
            yield rec
        if buf.broken:
            return
        if wrapped:
            if buf.skip_ws() != "}":
                index += 1
                yield RawRecord(
                    index,
                    f"record {index}",
                    buf.text[buf.pos : buf.pos + 200],
                    None,
                    src.failure or "unexpected content after the Records array",
                )
                return
            buf.pos += 1
        nxt = buf.skip_ws()
        if not nxt:
            if src.failure:
                index += 1
                yield RawRecord(index, f"record {index}", "", None, src.failure)
            return
        if not wrapped:
            index += 1
            yield RawRecord(
                index,
                f"record {index}",
                buf.text[buf.pos : buf.pos + 200],
                None,
                "unexpected content after the record array",
            )
            return


def _array_elements(
    buf: _Buffer,
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
    while True:
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
        start = buf.pos
        result = buf.decode_value()
        index += 1
        if isinstance(result, str):
            rest = buf.text[start : start + 2000]
            yield RawRecord(index, f"record {index}", rest, None, src.failure or result)
            buf.broken = True
            return
        obj, text = result
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
            merged = _merged_cells(obj)
            if merged is None:
                reason = "row should be an array of objects, one per column"
                yield RawRecord(index, f"record {index}", text, None, reason)
            else:
                yield RawRecord(index, f"record {index}", text, merged)
        elif isinstance(obj, dict):
            yield RawRecord(index, f"record {index}", text, obj)
        else:
            yield RawRecord(index, f"record {index}", text, None, "record is not a JSON object")


def _member_array_start(text: str, key: str) -> int:
    """Index just after the "[" of top-level member ``key`` in a JSON object text, or -1."""
    pos = text.index("{") + 1
    while True:
        while text[pos] in _WS or text[pos] == ",":
            pos += 1
        if text[pos] == "}":
            return -1
        name, pos = _decoder.raw_decode(text, pos)
        while text[pos] in _WS or text[pos] == ":":
            pos += 1
        if name == key and text[pos] == "[":
            return pos + 1
        _value, pos = _decoder.raw_decode(text, pos)


def _contained_records(
    text: str, obj: dict[str, Any], index: int, prefix: str
) -> Iterator[RawRecord] | None:
    """The records a container object holds (a wrapper's array, a query response's rows),
    numbered after ``index``; None when the object is a record itself."""
    if _is_query_response(obj):
        return _query_rows(text, obj, index, prefix)
    if _is_lake_results(obj):
        return _lake_rows(text, index, prefix)
    key = _wrapper_key(obj)
    return None if key is None else _wrapped_records(text, key, index, prefix)


def _is_query_response(obj: dict[str, Any]) -> bool:
    """A Log Analytics query API response: {"tables": [{"name", "columns", "rows"}, ...]}."""
    tables = obj.get("tables")
    if not isinstance(tables, list) or not tables or not set(obj) <= _QUERY_RESPONSE_KEYS:
        return False
    return all(
        isinstance(t, dict)
        and isinstance(t.get("columns"), list)
        and isinstance(t.get("rows"), list)
        and all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in t["columns"])
        for t in tables
    )


def _query_rows(text: str, obj: dict[str, Any], index: int, prefix: str) -> Iterator[RawRecord]:
    """Each row of each table of a query response, as an object by column name; its text is
    the row's own (the column names are in the response, kept whole with the file)."""
    buf = _Buffer(iter(()))
    buf.text = text
    buf.pos = _member_array_start(text, "tables")
    for number, table in enumerate(obj["tables"], 1):
        if buf.skip_ws() == ",":
            buf.pos += 1
            buf.skip_ws()
        start = buf.pos
        _value, buf.pos = _decoder.raw_decode(text, start)
        table_text = text[start : buf.pos]
        rows = _Buffer(iter(()))
        rows.text = table_text
        rows.pos = _member_array_start(table_text, "rows")
        columns = [c["name"] for c in table["columns"]]
        before = index
        for row in _array_elements(rows, before, _StringSource(table_text), columns):
            index = row.index
            position = f"{prefix}, table {number}, row {row.index - before}"
            yield RawRecord(row.index, position, row.text, row.data, row.error)


def _is_lake_results(obj: dict[str, Any]) -> bool:
    """A CloudTrail Lake GetQueryResults response (``aws cloudtrail get-query-results``)."""
    rows = obj.get("QueryResultRows")
    return isinstance(rows, list) and set(obj) <= _LAKE_RESULTS_KEYS


def _lake_rows(text: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """Each row of a Lake query's results: an array of one-column objects, read as one object
    by column name (``SELECT eventJson ...`` gives the record as text); its text is the row's."""
    buf = _Buffer(iter(()))
    buf.text = text
    buf.pos = _member_array_start(text, "QueryResultRows")
    for rec in _array_elements(buf, index, _StringSource(text), cells=True):
        yield RawRecord(
            rec.index, f"{prefix}, row {rec.index - index}", rec.text, rec.data, rec.error
        )


def _merged_cells(row: Any) -> dict[str, Any] | None:
    """A Lake result row ([{"column": value}, ...]) as one object; None if it is not one."""
    if not isinstance(row, list):
        return None
    merged: dict[str, Any] = {}
    for cell in row:
        if not isinstance(cell, dict):
            return None
        merged.update(cell)
    return merged


def _wrapped_records(text: str, key: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """The records of an in-memory wrapper object, each with its exact text."""
    buf = _Buffer(iter(()))
    buf.text = text
    buf.pos = _member_array_start(text, key)
    log_events = key in _LOG_EVENT_KEYS
    for rec in _array_elements(buf, index, _StringSource(text)):
        data, error = rec.data, rec.error
        if log_events and data is not None:
            data, error = _log_event_message(data)
        yield RawRecord(rec.index, f"{prefix}, {rec.position}", rec.text, data, error)


def _log_event_message(event: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The record a CloudWatch Logs event carries in its message, or why there is none."""
    message = event.get("message")
    if isinstance(message, str):
        try:
            record = loads(message)
        except ValueError:
            record = None
        if isinstance(record, dict):
            return record, ""
        if message.startswith(_CONTROL_MESSAGE):
            return None, "CloudWatch Logs control message (a delivery check), not a log record"
    return None, "CloudWatch Logs event whose message is not a JSON object"


def _line_records(src: ByteSource, first: bytes) -> Iterator[RawRecord]:
    """JSON Lines; falls back to concatenated pretty-printed objects when lines are not JSON."""
    nl = first.find(b"\n")
    first_line = first if nl < 0 else first[: nl + 1]
    stamped = _EXPORT_STAMP.match(first_line)
    try:
        probe = orjson.loads(first_line[stamped.end() :] if stamped else first_line)
    except orjson.JSONDecodeError:
        probe = None
    if not isinstance(probe, dict):
        header = csv_header(first_line)
        if header is not None:
            yield from csv_records(src, first, header)
        else:
            yield from _concatenated_records(src, first)
        return
    index = 0
    line_no = 0
    reported = False
    for raw_line in byte_lines(src, first):
        line_no += 1
        if not raw_line.strip():
            continue
        index += 1
        try:
            text = raw_line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield RawRecord(
                index,
                f"line {line_no}",
                raw_line.decode("utf-8", "replace").rstrip("\r\n"),
                None,
                f"invalid UTF-8 at byte {exc.start} of the line",
            )
            continue
        stamp = _EXPORT_STAMP_TEXT.match(text) if stamped else None
        try:
            obj = loads(text[stamp.end() :] if stamp else text)
        except ValueError as exc:
            reason = "invalid JSON: " + str(exc).split(":")[0]
            if src.failure and not raw_line.endswith(b"\n"):
                reason = src.failure
                reported = True
            yield RawRecord(index, f"line {line_no}", text, None, reason)
            continue
        if not isinstance(obj, dict):
            yield RawRecord(index, f"line {line_no}", text, None, "line is not a JSON object")
            continue
        contained = _contained_records(text, obj, index - 1, f"line {line_no}")
        if contained is None:
            yield RawRecord(index, f"line {line_no}", text, obj)
            continue
        for sub in contained:
            index = sub.index
            yield sub
    if src.failure and not reported:
        # A gzip failure after the last complete line: say so rather than end quietly.
        index += 1
        yield RawRecord(index, f"line {line_no + 1}", "", None, src.failure)


def _concatenated_records(src: ByteSource, first: bytes) -> Iterator[RawRecord]:
    """One or more pretty-printed JSON objects one after the other."""
    chunks = _chunks(src, first)
    buf = "".join(_take_all(chunks, src))
    pos = 0
    index = 0
    while True:
        while pos < len(buf) and buf[pos] in _WS:
            pos += 1
        if pos >= len(buf):
            if src.failure:
                yield RawRecord(index + 1, f"record {index + 1}", "", None, src.failure)
            return
        line = buf.count("\n", 0, pos) + 1
        try:
            obj, end = _decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            index += 1
            err_line = buf.count("\n", 0, exc.pos) + 1
            reason = src.failure or f"invalid JSON: {exc.msg} at line {err_line}"
            yield RawRecord(index, f"line {line}", buf[pos : pos + 2000], None, reason)
            return
        text = buf[pos:end]
        pos = end
        if not isinstance(obj, dict):
            index += 1
            yield RawRecord(index, f"line {line}", text, None, "record is not a JSON object")
            continue
        contained = _contained_records(text, obj, index, f"line {line}")
        if contained is None:
            index += 1
            yield RawRecord(index, f"line {line}", text, obj)
            continue
        for sub in contained:
            index = sub.index
            yield sub


def _take_all(chunks: Iterator[str], src: ByteSource) -> Iterator[str]:
    total = 0
    try:
        for piece in chunks:
            total += len(piece)
            if total > MAX_RECORD_CHARS * 8:
                src.failure = "pretty-printed document too large to read; use JSON Lines"
                return
            yield piece
    except UnicodeDecodeError as exc:
        src.failure = src.failure or f"invalid UTF-8 near byte {src.bytes_read}: {exc.reason}"


def _is_lookup_events(obj: dict[str, Any]) -> bool:
    """CloudTrail LookupEvents output (`aws cloudtrail lookup-events`): {"Events": [...],
    "NextToken": ...}, each entry carrying the full record as a "CloudTrailEvent" string.
    "Events" is too common a word to unwrap on its own, so the entries must look the part."""
    events = obj.get("Events")
    if not isinstance(events, list) or not set(obj) <= {"Events", "NextToken"}:
        return False
    return not events or (isinstance(events[0], dict) and "CloudTrailEvent" in events[0])


def _is_log_events_page(obj: dict[str, Any]) -> bool:
    """``aws logs filter-log-events`` / ``get-log-events`` output: {"events": [...]} and
    paging members only, each event a log event with a message."""
    events = obj.get("events")
    if not isinstance(events, list) or not set(obj) <= _LOG_EVENTS_PAGE_KEYS:
        return False
    return not events or (isinstance(events[0], dict) and "message" in events[0])


def _wrapper_key(obj: dict[str, Any]) -> str | None:
    """The key of a wrapper object's record array ({"Records": [...]}, {"value": [...]},
    LookupEvents' {"Events": [...]}, CloudWatch Logs' events and logEvents).

    A Kubernetes audit webhook batch is an EventList whose events are under "items".
    """
    if obj.get("kind") == "EventList" and isinstance(obj.get("items"), list):
        return "items"
    if _is_lookup_events(obj):
        return "Events"
    if "messageType" in obj and isinstance(obj.get("logEvents"), list):
        return "logEvents"  # a CloudWatch Logs subscription delivery
    if _is_log_events_page(obj):
        return "events"
    for key in WRAPPER_KEYS:
        value = obj.get(key)
        if isinstance(value, list) and (not value or isinstance(value[0], dict)):
            return key
    return None


class _StringSource(ByteSource):
    """A ByteSource over text already in memory (a wrapper object found on one line)."""

    def __init__(self, text: str) -> None:
        self.gzipped = False
        self.raw = io.BytesIO(b"")
        self.bytes_read = 0
        self.failure = ""
