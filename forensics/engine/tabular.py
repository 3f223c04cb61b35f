"""Files of rows rather than JSON: Parquet (AWS Security Lake's OCSF tables), Avro (Azure
Event Hubs Capture) and CSV exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from forensics.engine.streams import (
    MAX_RECORD_CHARS,
    STREAM_ERRORS,
    ByteSource,
    RawRecord,
    byte_lines,
)

PARQUET_MAGIC = b"PAR1"
AVRO_MAGIC = b"Obj\x01"  # an Avro object container file


PARQUET_BATCH_ROWS = 2048


def parquet_records(stream: IO[bytes]) -> Iterator[RawRecord]:
    """The rows of a Parquet file (AWS Security Lake stores OCSF events so), a batch at a time.

    A row has no text of its own: its raw text is the row as canonical JSON (sorted keys),
    and the file itself is what stays byte-exact. Times become ISO 8601 text in UTC, maps
    become objects and binary values base64, so the row reads like its JSON twin.
    """
    try:
        import pyarrow.parquet as pq
        from pyarrow import ArrowException
    except ImportError:  # pragma: no cover - pyarrow is a pinned requirement
        yield RawRecord(1, "byte 0", "", None, "a Parquet file, and pyarrow is not installed")
        return
    seekable = getattr(stream, "seekable", None)
    if not (seekable and seekable()):
        yield RawRecord(1, "byte 0", "", None, "a Parquet file can only be read from disk")
        return
    stream.seek(0)
    index = 0
    try:
        parquet = pq.ParquetFile(stream)
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                index += 1
                data, text = row_json(row)
                yield RawRecord(index, f"row {index}", text, data)
    except (ArrowException, ValueError, *STREAM_ERRORS) as exc:
        # A file read through a decompressor (a file of a ZIP archive) raises its errors.
        index += 1
        yield RawRecord(index, f"row {index}", "", None, f"unreadable Parquet file: {exc}")


def avro_data(stream: IO[bytes]) -> Iterator[tuple[int, Any, str]]:
    """The data of an Avro object container file, a block at a time: (ordinal, datum, "")
    for each, and last, where the file cannot be read on, (ordinal, None, why).

    The file names its own schema and codec. Null, deflate, snappy, zstandard, bzip2 and xz
    blocks are read; a block in another codec (lz4) ends the reading with the codec's name."""
    try:
        import fastavro
    except ImportError:  # pragma: no cover - fastavro is a pinned requirement
        yield 1, None, "an Avro file, and fastavro is not installed"
        return
    # fastavro's errors share no base class, and none may escape: a bad file is reported.
    try:
        data = fastavro.reader(stream)
    except Exception as exc:
        yield 1, None, f"not a readable Avro file: {exc}"
        return
    index = 0
    try:
        for datum in data:
            index += 1
            yield index, datum, ""
    except Exception as exc:
        reason = f"unreadable Avro data at datum {index + 1}: {exc}; the rest was not read"
        yield index + 1, None, reason


def row_json(row: Any) -> tuple[Any, str]:
    """A row read from Parquet or Avro as JSON would carry it, and its text: canonical JSON
    (sorted keys, no spaces), so the same row read from either gives the same raw record."""
    data = json_value(row)
    return data, json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_value(value: Any) -> Any:
    """A value read from Parquet or Avro as JSON would carry it."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): json_value(v) for k, v in value}  # a map column
        return [json_value(v) for v in value]
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


# A CSV header: column names, not data (no JSON, no empty or repeated names).
_CSV_COLUMN = re.compile(r"^[A-Za-z_][\w .()\[\]/#@:-]{0,99}$")


def _column(name: str) -> str:
    """A column's name as the records' producer has it: Azure's portal writes the zone of a
    time column it exports after the name ("TimeGenerated [UTC]")."""
    return name.strip().removesuffix(" [UTC]")


def csv_header(line: bytes) -> list[str] | None:
    """The column names when the first line is a CSV header, else None."""
    try:
        text = line.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    if not text or text.lstrip()[:1] in ("{", "["):
        return None
    try:
        names = [_column(name) for name in next(csv.reader([text]), [])]
    except csv.Error:  # a carriage return inside the line: not a header this reads
        return None
    if len(names) < 2 or len(set(names)) != len(names):
        return None
    return names if all(_CSV_COLUMN.match(name) for name in names) else None


def csv_records(src: ByteSource, first: bytes, header: list[str]) -> Iterator[RawRecord]:
    """Rows of a CSV export (a header line, then one row per record), each read as an object
    by column name; a row's text is its own line or lines (a quoted value may hold breaks).

    Audit exports put the producer's record, as JSON text, in one column (the Microsoft
    Purview audit search's ``AuditData``); the parser reads it from there.
    """
    index = 0
    line_no = 0
    start = 0
    row = ""
    for raw_line in byte_lines(src, first):
        line_no += 1
        if line_no == 1:
            continue  # the header
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            index += 1
            shown = raw_line.decode("utf-8", "replace").rstrip("\r\n")
            yield RawRecord(
                index, f"line {line_no}", shown, None, f"invalid UTF-8 at byte {exc.start}"
            )
            row = ""
            continue
        if not row:
            start = line_no
        row += text
        if row.count('"') % 2 and len(row) <= MAX_RECORD_CHARS:
            continue  # a quoted value goes on on the next line
        text, row = row.rstrip("\r\n"), ""
        if not text.strip():
            continue
        index += 1
        if len(text) > MAX_RECORD_CHARS:
            reason = f"record larger than {MAX_RECORD_CHARS} characters"
            yield RawRecord(index, f"line {start}", text[:2000], None, reason)
            continue
        try:
            values = next(csv.reader(io.StringIO(text, newline="")), [])
        except csv.Error as exc:
            yield RawRecord(index, f"line {start}", text, None, f"unreadable CSV row: {exc}")
            continue
        if len(values) != len(header):
            reason = f"row has {len(values)} values; the header names {len(header)} columns"
            yield RawRecord(index, f"line {start}", text, None, reason)
            continue
        yield RawRecord(index, f"line {start}", text, dict(zip(header, values, strict=True)))
    if row.strip():
        index += 1
        reason = src.failure or "file ends inside a quoted value"
        yield RawRecord(index, f"line {start}", row[:2000], None, reason)
    elif src.failure:
        yield RawRecord(index + 1, f"line {line_no + 1}", "", None, src.failure)
