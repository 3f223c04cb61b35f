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
quarantines it and goes on. Nothing is dropped silently: an error record names its place
and the bytes it stands for (offsets in the gunzipped text), reading resumes at the next
record where that can be found reliably, and where it cannot the error says from which byte
the rest of the file was not read.
"""

from __future__ import annotations

import base64
import codecs
import io
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

from forensics.engine.archives import ZIP_MAGICS, avro_records, zip_records
from forensics.engine.elements import (
    WRAPPER_HEAD_CHARS,
    StringSource,
    array_elements,
    first_line_whole,
    member_array_start,
    member_text,
    wrapper_end,
)
from forensics.engine.jsontext import (
    DECODER,
    GZIP_MAGIC,
    SHOWN_CHARS,
    WS,
    Buffer,
    Failure,
    chunks,
    gzip_inside,
    invalid_utf8,
    loads,
    rest_not_read,
    skip_bad_object,
    skip_blank,
)
from forensics.engine.query_responses import (
    is_query_response,
    query_response_records,
    query_rows,
    streamed_query_response,
)
from forensics.engine.result_pages import page_records, streamed_page
from forensics.engine.streams import (
    CHUNK_CHARS,
    STREAM_ERRORS,
    ByteSource,
    Prepend,
    RawRecord,
    byte_lines,
)
from forensics.engine.tabular import (
    AVRO_MAGIC,
    PARQUET_MAGIC,
    csv_header,
    csv_records,
    parquet_records,
)

WRAPPER_KEYS = ("Records", "records", "value")
# A wrapper object read one record at a time, as a top-level array is: its record array
# (of objects, or empty, as ``_wrapper_key`` requires of a wrapper read whole) comes after
# nothing but plain members, such as a Graph page's "@odata.context" or a count. Members
# after the array (a next-page link) are read and passed over. So are the AWS CLI's pages
# of CloudWatch Logs events and of LookupEvents, which it prints as one object however
# many pages it fetched, and Google's pages of log entries and of pulled Pub/Sub messages
# (see ``_PAGE_ARRAYS``).
_JSON_STRING = r'"(?:[^"\\]|\\.)*+"'
# A plain member's value, or a flat object of them (CloudTrail Lake's QueryStatistics).
_PLAIN_VALUE = rf"(?:{_JSON_STRING}|-?\d[\d.eE+-]*|true|false|null|\{{[^{{}}]*\}})"
_STREAMED_KEYS = (
    "Records|records|value|events|Events|entries|receivedMessages|results|QueryResultRows"
)
# A CloudTrail Lake result row is an array of one-column objects; other records are objects.
_ROWS_OF_CELLS = "QueryResultRows"
_STREAMED_WRAPPER = (
    rf"\{{\s*(?:{_JSON_STRING}\s*:\s*{_PLAIN_VALUE}\s*,\s*){{0,16}}"
    rf'"(?P<key>{_STREAMED_KEYS})"\s*:\s*\[(?=\s*[{{\[\]])'
)
_WRAPPER_START = re.compile(rf"\A\s*{_STREAMED_WRAPPER}")


def iter_records(stream: IO[bytes], first_read: int = 0) -> Iterator[RawRecord]:
    """Yield every record of a log file, in file order, never raising on bad content.

    ``first_read`` is how many bytes are read before the first record is looked at (more
    are read as a record needs them; 0: a chunk): a caller that wants only the first
    records, to see what the file holds, spares reading and decoding a small file twice."""
    added = 0  # records found inside others' envelopes so far: later ones are numbered after
    for record in _records(stream, first_read):
        if added:
            record = RawRecord(
                record.index + added, record.position, record.text, record.data, record.error
            )
        if bad := invalid_utf8(record.text):
            # As a JSON Lines line with a bad byte is: the record holding it, not the file.
            reason = f"{bad}; {record.error}" if record.error else bad
            yield RawRecord(record.index, record.position, record.text, None, reason)
            continue
        data = record.data
        if data is None:
            yield record
            continue
        message = data.get("message")
        if isinstance(message, dict) and _is_pubsub(data, message):
            yield _pubsub_record(record, message)
        elif ("_raw" in data or "result" in data) and (result := _splunk_result(data)):
            found = list(_embedded_records(record, result["_raw"], _SPLUNK_NOT_JSON))
            added += len(found) - 1
            yield from found
        elif "_source" in data and (source := _hit_source(data)) is not None:
            found = list(_hit_records(record, source))
            added += len(found) - 1
            yield from found
        else:
            yield record


def _splunk_result(data: dict[str, Any]) -> dict[str, Any] | None:
    """The Splunk search result a record is, or carries: a line of a search export
    (``{"preview": false, "offset": 0, "result": {...}}``, as the REST API's export and
    Splunk Web's JSON export write them), an entry of a results page, or a CSV row. A result
    holds the event as Splunk indexed it in ``_raw``, beside fields of Splunk's own."""
    result = data if "_raw" in data else data.get("result")
    if result is not data and "preview" not in data:
        return None
    if not isinstance(result, dict) or not isinstance(result.get("_raw"), str):
        return None
    return result if "_time" in result or "sourcetype" in result else None


_SPLUNK_NOT_JSON = "Splunk result whose _raw is not a JSON object: the event is not one of a log"


def _hit_source(data: dict[str, Any]) -> dict[str, Any] | None:
    """The document an Elasticsearch or OpenSearch hit holds (``{"_index", "_id", "_source":
    {...}}``, as a search response, a scroll or elasticdump gives them), or None."""
    source = data["_source"]
    return source if isinstance(source, dict) and ("_index" in data or "_id" in data) else None


def _hit_records(hit: RawRecord, source: dict[str, Any]) -> Iterator[RawRecord]:
    """The record a search hit holds: the original event an integration kept in
    ``event.original`` (ECS), else the document itself, as a shipper that forwards records
    unchanged (Logstash's json codec, Fluent Bit, Vector) indexed it."""
    event = source.get("event")
    original = event.get("original") if isinstance(event, dict) else source.get("event.original")
    if isinstance(original, str):
        yield from _embedded_records(hit, original, _ORIGINAL_NOT_JSON)
        return
    text = member_text(hit.text, "_source") or orjson.dumps(source).decode()
    yield RawRecord(hit.index, hit.position, text, source)


_ORIGINAL_NOT_JSON = (
    "search hit whose event.original is not a JSON object: the event is not one of a log"
)


def _embedded_records(envelope: RawRecord, raw: str, not_json: str) -> Iterator[RawRecord]:
    """The records of an event kept as text inside another record (a Splunk result's
    ``_raw``, a search hit's ``event.original``): the event as the producer sent it, its text
    the record's (the file keeps what was around it), or the records of a batch it is."""
    try:
        event = loads(raw)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        yield RawRecord(envelope.index, envelope.position, envelope.text, None, not_json)
        return
    contained = _contained_records(raw, event, envelope.index - 1, envelope.position)
    if contained is None:
        yield RawRecord(envelope.index, envelope.position, raw, event)
    else:
        yield from contained


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


def _records(stream: IO[bytes], first_read: int, in_archive: bool = False) -> Iterator[RawRecord]:
    try:
        head = stream.read(len(PARQUET_MAGIC))
    except STREAM_ERRORS as exc:  # a small file of an archive, whose checksum fails at once
        yield RawRecord(1, "byte 0", "", None, f"unreadable file: {exc}")
        return
    if head == PARQUET_MAGIC:
        yield from parquet_records(stream)
        return
    if head == AVRO_MAGIC:
        yield from avro_records(io.BufferedReader(Prepend(head, stream)), _contained_records)
        return
    if head in ZIP_MAGICS:
        if in_archive:
            reason = "a ZIP archive inside the archive: unpack it and ingest the files it holds"
            yield RawRecord(1, "byte 0", "", None, reason)
        else:
            yield from zip_records(stream, _archived_file)
        return
    src = ByteSource(Prepend(head, stream))
    first = src.read_bytes(first_read or CHUNK_CHARS)
    offset = 0  # bytes before ``first``: a UTF-8 byte order mark
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
        offset = len(codecs.BOM_UTF8)
    if src.gzipped and first.startswith(GZIP_MAGIC):
        yield RawRecord(1, "byte 0", "", None, gzip_inside(0))
        return
    stripped = first.lstrip()
    if not stripped:
        if src.failure:
            yield RawRecord(1, "byte 0", "", None, src.failure)
        return
    if stripped[:1] == b"[" or _streamed_wrapper(first):
        yield from _array_records(src, first, offset)
        return
    if streamed_query_response(first):
        yield from query_response_records(src, first, offset)
        return
    if (page := streamed_page(first)) is not None:
        yield from page_records(src, first, offset, *page)
        return
    yield from _line_records(src, first, offset)


def _archived_file(stream: IO[bytes]) -> Iterator[RawRecord]:
    """The records of a file of a ZIP archive, read as it would be alone."""
    return _records(stream, 0, in_archive=True)


def _streamed_wrapper(first: bytes) -> bool:
    """Whether a file starts with a wrapper object to read a record at a time.

    CloudTrail writes each file as one ``Records`` object on one line, however long. Any
    other wrapper is streamed when its first line does not hold it whole (pretty-printed,
    as the AWS CLI prints, or one line longer than the first read): JSON Lines of small
    wrappers, one Event Hubs message or API page a line, are read line by line, so that a
    bad line costs that line only.
    """
    m = _WRAPPER_START.match(first[:WRAPPER_HEAD_CHARS].decode("utf-8", "replace"))
    if m is None or _opens_rows(m) != (m.group("key") == _ROWS_OF_CELLS):
        return False
    if m.group("key") == "Records":
        return True
    if first_line_whole(first):
        return False
    if m.group("key") in _PAGE_ARRAYS:
        return _page_starts(first.decode("utf-8", "replace"), m)
    return True


def _opens_rows(m: re.Match[str]) -> bool:
    """Whether the array a wrapper's match opened starts with an array (a row of cells)."""
    return m.string[m.end() :].lstrip(WS).startswith("[")


def _page_starts(text: str, m: re.Match[str]) -> bool:
    """Whether the array ``m`` opened in ``text`` is that of a page of ``_PAGE_ARRAYS``: empty,
    or its first element (read whole from the file's first bytes) is one of its entries.
    Their keys are common words: anything else is read whole, as before."""
    pos = m.end()
    while pos < len(text) and text[pos] in WS:
        pos += 1
    if text.startswith("]", pos):
        return True
    member = _PAGE_ARRAYS[m.group("key")]
    try:
        element, _end = DECODER.raw_decode(text, pos)
    except ValueError:
        # Longer than the bytes read so far (or bad): its members up to there tell.
        seen = _NO_WS.sub("", text[pos : pos + WRAPPER_HEAD_CHARS * 16])
        return text.startswith("{", pos) and f'"{member}":' in seen
    return isinstance(element, dict) and member in element


# CloudWatch Logs: the arrays of log events, the members beside them in a page of
# ``filter-log-events`` / ``get-log-events`` output, and what a subscription's delivery
# check says. What its tools write before each event on a line: an export to S3 its
# timestamp, ``aws logs tail`` the timestamp and the log stream, ``awslogs get`` the group
# and the stream (up to three words before the event's "{", matched on the first line's
# bytes, then on each decoded line).
_LOG_EVENT_KEYS = frozenset({"events", "logEvents"})
_LOG_EVENTS_PAGE_KEYS = frozenset(
    {"events", "searchedLogStreams", "nextToken", "nextForwardToken", "nextBackwardToken"}
)
_CONTROL_MESSAGE = "CWL CONTROL MESSAGE"
_STAMP = r"(?:[^\s{}\[\]\"]+[ \t]+){1,3}(?=\{)"
_EXPORT_STAMP = re.compile(_STAMP.encode())
_EXPORT_STAMP_TEXT = re.compile(_STAMP)
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
_LOOKUP_EVENTS_KEYS = frozenset({"Events", "NextToken", "ResponseMetadata"})
# API pages, by their array's key: the member each entry has, and every member such a page
# holds. Their keys are common words, so a page is one only when it holds nothing else and
# its entries look the part; read a record at a time, its other members are passed over.
#   events: CloudWatch Logs' filter-log-events / get-log-events output (log events).
#   Events: CloudTrail's LookupEvents output (each entry's record is its CloudTrailEvent).
#   entries: Cloud Logging's entries.list response (LogEntry objects; every one is named by
#     its logName). A page with no entries leaves the member out: {"nextPageToken": ...}.
#   receivedMessages: a Pub/Sub pull response (each a ReceivedMessage: ackId and message).
#   results: Splunk's search results as JSON (output_mode=json; each result holds _raw).
_PAGE_ARRAYS = {
    "events": "message",
    "Events": "CloudTrailEvent",
    "entries": "logName",
    "receivedMessages": "message",
    "results": "_raw",
}
_PAGE_MEMBERS = {
    _ROWS_OF_CELLS: _LAKE_RESULTS_KEYS,
    "events": _LOG_EVENTS_PAGE_KEYS,
    "Events": _LOOKUP_EVENTS_KEYS,
    "entries": frozenset({"entries", "nextPageToken"}),
    "receivedMessages": frozenset({"receivedMessages"}),
    "results": frozenset(
        {
            "results",
            "preview",
            "init_offset",
            "post_process_count",
            "messages",
            "fields",
            "highlighted",
        }
    ),
}
_NO_WS = re.compile(r"\s+")
_OKTA_EVENT_HOOK = "com.okta.event_hook"
_ARRAY_OPEN = re.compile(rf"\s*(\[|{_STREAMED_WRAPPER})")


def _array_records(src: ByteSource, first: bytes, offset: int = 0) -> Iterator[RawRecord]:
    """Records of one or more top-level arrays (API pages appended to one file), or of one or
    more wrapper objects (``{"Records": [...]}``, a Graph or Azure ``value`` page)."""
    buf = Buffer(chunks(src, first, offset), offset)
    buf.more()
    index = 0
    expected = "expected a JSON array of records"
    while True:
        while len(buf.text) - buf.pos < 64 and buf.more():
            pass
        m = _ARRAY_OPEN.match(buf.text, buf.pos)
        if m is None and buf.skip_ws() == "{":
            # A wrapper's plain members before its array may run past the first bytes.
            while len(buf.text) - buf.pos < WRAPPER_HEAD_CHARS and buf.more():
                pass
            m = _ARRAY_OPEN.match(buf.text, buf.pos)
        if not m:
            index += 1
            snippet = buf.text[buf.pos : buf.pos + 200]
            reason = src.failure or f"{expected}{rest_not_read(buf.byte_at(buf.pos))}"
            yield RawRecord(index, f"record {index}", snippet, None, reason)
            return
        wrapped = m.group(1) != "["
        log_events = wrapped and m.group("key") == "events"
        cells = wrapped and m.group("key") == _ROWS_OF_CELLS
        buf.pos = m.end()
        for rec in array_elements(buf, index, src, cells=cells):
            index = rec.index
            if cells:
                rec = RawRecord(rec.index, f"row {rec.index}", rec.text, rec.data, rec.error)
            if log_events and rec.data is not None:
                data, error = _log_event_message(rec.data)
                rec = RawRecord(rec.index, rec.position, rec.text, data, error)
            yield rec
        if buf.broken:
            return
        if wrapped:
            key = m.group("key")
            for problem, shown, fatal in wrapper_end(buf, key, _PAGE_MEMBERS.get(key, ())):
                index += 1
                if fatal:
                    yield RawRecord(index, f"record {index}", shown, None, src.failure or problem)
                    return
                yield RawRecord(index, f"record {index}", shown, None, problem)
        if not buf.skip_ws():
            if src.failure:
                index += 1
                yield RawRecord(index, f"record {index}", "", None, src.failure)
            return
        expected = "unexpected content after the record array"


def _contained_records(
    text: str, obj: dict[str, Any], index: int, prefix: str
) -> Iterator[RawRecord] | None:
    """The records a container object holds (a wrapper's array, a query response's rows),
    numbered after ``index``; None when the object is a record itself."""
    if is_query_response(obj):
        return query_rows(text, obj, index, prefix)
    if _is_lake_results(obj):
        return _lake_rows(text, index, prefix)
    if _is_search_response(obj):
        return _search_hits(text, index, prefix)
    if set(obj) == {"nextPageToken"}:
        return iter(())  # a page of Cloud Logging entries with none on it
    if obj.get("eventType") == _OKTA_EVENT_HOOK and _is_okta_event_hook(obj):
        return _hook_events(text, index, prefix)
    key = _wrapper_key(obj)
    return None if key is None else _wrapped_records(text, key, index, prefix)


def _is_search_response(obj: dict[str, Any]) -> bool:
    """An Elasticsearch or OpenSearch search response (``_search``, a scroll page):
    ``{"took", "timed_out", "_shards", "hits": {"total", "max_score", "hits": [...]}}``."""
    hits = obj.get("hits")
    return (
        isinstance(hits, dict)
        and isinstance(hits.get("hits"), list)
        and ("took" in obj or "_shards" in obj)
    )


def _search_hits(text: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """Each hit of a search response, with its own text (``iter_records`` takes each one's
    document out)."""
    buf = Buffer.over(text)
    buf.pos = member_array_start(text, "hits", "hits")
    for rec in array_elements(buf, index, StringSource(text)):
        position = f"{prefix}, hit {rec.index - index}"
        yield RawRecord(rec.index, position, rec.text, rec.data, rec.error)


def _is_lake_results(obj: dict[str, Any]) -> bool:
    """A CloudTrail Lake GetQueryResults response (``aws cloudtrail get-query-results``)."""
    rows = obj.get("QueryResultRows")
    return isinstance(rows, list) and set(obj) <= _LAKE_RESULTS_KEYS


def _lake_rows(text: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """Each row of a Lake query's results: an array of one-column objects, read as one object
    by column name (``SELECT eventJson ...`` gives the record as text); its text is the row's."""
    buf = Buffer.over(text)
    buf.pos = member_array_start(text, "QueryResultRows")
    for rec in array_elements(buf, index, StringSource(text), cells=True):
        yield RawRecord(
            rec.index, f"{prefix}, row {rec.index - index}", rec.text, rec.data, rec.error
        )


def _is_okta_event_hook(obj: dict[str, Any]) -> bool:
    """An Okta event hook request body: {"eventType": "com.okta.event_hook", ...,
    "data": {"events": [...]}}, the events being System Log events."""
    data = obj.get("data")
    return isinstance(data, dict) and isinstance(data.get("events"), list)


def _hook_events(text: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """Each event an Okta event hook delivered, with its own text."""
    buf = Buffer.over(text)
    buf.pos = member_array_start(text, "data", "events")
    for rec in array_elements(buf, index, StringSource(text)):
        position = f"{prefix}, event {rec.index - index}"
        yield RawRecord(rec.index, position, rec.text, rec.data, rec.error)


def _wrapped_records(text: str, key: str, index: int, prefix: str) -> Iterator[RawRecord]:
    """The records of an in-memory wrapper object, each with its exact text."""
    buf = Buffer.over(text)
    buf.pos = member_array_start(text, key)
    log_events = key in _LOG_EVENT_KEYS
    for rec in array_elements(buf, index, StringSource(text)):
        data, error = rec.data, rec.error
        if log_events and data is not None:
            data, error = _log_event_message(data)
        yield RawRecord(rec.index, f"{prefix}, {rec.position}", rec.text, data, error)


def _log_event_message(event: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The record a CloudWatch Logs event carries in its message, or why there is none."""
    message = event.get("message")
    if isinstance(message, str):
        if message.startswith(_CONTROL_MESSAGE):
            return None, "CloudWatch Logs control message (a delivery check), not a log record"
        try:
            record = loads(message)
        except ValueError as exc:
            if message.lstrip().startswith("{"):
                # An object cut short, as CloudWatch Logs cuts an event over its size limit.
                reason = str(exc).split(":")[0]
                return None, f"CloudWatch Logs event whose message is invalid JSON: {reason}"
            record = None
        if isinstance(record, dict):
            return record, ""
    return None, "CloudWatch Logs event whose message is not a JSON object"


def _line_records(src: ByteSource, first: bytes, offset: int = 0) -> Iterator[RawRecord]:
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
            yield from _concatenated_records(src, first, offset)
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


def _concatenated_records(src: ByteSource, first: bytes, offset: int = 0) -> Iterator[RawRecord]:
    """Objects one after another: pretty-printed, written with no separator (Firehose), or
    JSON Lines whose first line is not a whole object.

    Read a chunk at a time. A stretch that cannot be read becomes one error record, and
    reading goes on at the next "{" that starts a line or follows a "}".
    """
    buf = Buffer(chunks(src, first, offset), offset)
    index = 0
    line = 1  # the line of buf.pos, counted as the text goes by
    nl_text, nl = "", -1  # where the next line break is, for the text last searched
    while True:
        ch, line = skip_blank(buf, line)
        if not ch:
            if src.failure:
                yield RawRecord(index + 1, f"line {line}", "", None, src.failure)
            return
        # A line that is one whole object is read by orjson; the rest by the standard decoder.
        text, pos = buf.text, buf.pos
        if nl_text is not text or (0 <= nl < pos):
            nl_text, nl = text, text.find("\n", pos)
        result: tuple[Any, str] | Failure | None = None
        if nl > pos:
            candidate = text[pos:nl].rstrip(WS)
            if candidate == "{":  # pretty-printed, as an export or a saved API response
                result = buf.decode_pretty_object()
            else:
                try:
                    result = loads(candidate), candidate
                    buf.pos = pos + len(candidate)
                except ValueError:
                    result = None
        if result is None:
            result = buf.decode_value(quick=False)
        if isinstance(result, Failure):
            index += 1
            if result.kind == "cut" and src.failure:  # the input broke off inside it
                shown = buf.text[buf.pos : buf.pos + SHOWN_CHARS]
                yield RawRecord(index, f"line {line}", shown, None, src.failure)
                return
            if result.kind == "large":
                reason = result.message
            else:
                err_line = line + buf.text.count("\n", buf.pos, buf.pos + result.offset)
                reason = f"invalid JSON: {result.message} at line {err_line}"
            record, line = skip_bad_object(buf, reason, result.kind == "cut", index, line)
            yield record
            continue
        obj, text = result
        if not isinstance(obj, dict | list):
            # A string or number is no record, but a piece of one (a line cut at its start).
            buf.pos -= len(text)
            index += 1
            reason = "record is not a JSON object"
            record, line = skip_bad_object(buf, reason, False, index, line)
            yield record
            continue
        at_line = line
        line += text.count("\n")
        if not isinstance(obj, dict):
            index += 1
            yield RawRecord(index, f"line {at_line}", text, None, "record is not a JSON object")
            continue
        contained = _contained_records(text, obj, index, f"line {at_line}")
        if contained is None:
            index += 1
            yield RawRecord(index, f"line {at_line}", text, obj)
            continue
        for sub in contained:
            index = sub.index
            yield sub


def _page_key(obj: dict[str, Any]) -> str | None:
    """The array key of an API page of ``_PAGE_ARRAYS`` (LookupEvents output carries
    "ResponseMetadata" when a boto3 response was saved whole), or None."""
    for key, member in _PAGE_ARRAYS.items():
        entries = obj.get(key)
        if not isinstance(entries, list) or not set(obj) <= _PAGE_MEMBERS[key]:
            continue
        if not entries or (isinstance(entries[0], dict) and member in entries[0]):
            return key
    return None


def _wrapper_key(obj: dict[str, Any]) -> str | None:
    """The key of a wrapper object's record array ({"Records": [...]}, {"value": [...]},
    CloudWatch Logs' logEvents, or an API page's array; see ``_PAGE_ARRAYS``).

    A Kubernetes audit webhook batch is an EventList whose events are under "items".
    """
    if obj.get("kind") == "EventList" and isinstance(obj.get("items"), list):
        return "items"
    if "messageType" in obj and isinstance(obj.get("logEvents"), list):
        return "logEvents"  # a CloudWatch Logs subscription delivery
    if (page := _page_key(obj)) is not None:
        return page
    for key in WRAPPER_KEYS:
        value = obj.get(key)
        if isinstance(value, list) and (not value or isinstance(value[0], dict)):
            return key
    return None
