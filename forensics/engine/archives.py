"""Files that hold other files or messages: ZIP archives of log files, and Avro container
files as Azure Event Hubs Capture writes them. What each file or message holds is read by
the reader, which these functions are handed."""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from forensics.engine.elements import StringSource, array_elements
from forensics.engine.jsontext import Buffer, loads
from forensics.engine.streams import MAX_RECORD_CHARS, STREAM_ERRORS, RawRecord
from forensics.engine.tabular import avro_data, row_json

# The records of a container object's text (a wrapper, a batch), or None for a record.
Contained = Callable[[str, dict[str, Any], int, str], Iterator[RawRecord] | None]

# A ZIP archive's first bytes: a file's local header, or the end of an empty archive.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# What macOS adds to an archive it makes (resource forks, folder settings): no log files.
_ARCHIVER_FILES = re.compile(r"(?:^|/)(?:__MACOSX/|\._[^/]*$|\.DS_Store$)")
_MEMBER_NAME_CHARS = 48  # of a file's name in an archive, in its records' places
# What zipfile raises for an archive or a file of it it cannot read: encrypted (RuntimeError),
# a method or version it does not know (NotImplementedError), offsets out of range.
_ZIP_ERRORS = (RuntimeError, NotImplementedError, ValueError, *STREAM_ERRORS)


def zip_records(
    stream: IO[bytes], read_file: Callable[[IO[bytes]], Iterator[RawRecord]]
) -> Iterator[RawRecord]:
    """The records of every file a ZIP archive holds, in the archive's order, each placed
    by the file's name ("logs/a.json: line 3"), numbered on across the files. A file is read
    as it would be on its own (gzip inside, a Records file, Parquet...); one that cannot be
    opened (encrypted, an unknown compression method) is reported and the next one read.
    The archive itself is the raw file, kept byte-exact. ``read_file`` reads a file of it."""
    seekable = getattr(stream, "seekable", None)
    if not (seekable and seekable()):
        yield RawRecord(1, "byte 0", "", None, "a ZIP archive can only be read from disk")
        return
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except _ZIP_ERRORS as exc:
        yield RawRecord(1, "byte 0", "", None, f"unreadable ZIP archive: {exc}")
        return
    index = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or _ARCHIVER_FILES.search(info.filename):
                continue
            name = info.filename
            if len(name) > _MEMBER_NAME_CHARS:
                name = "\u2026" + name[-(_MEMBER_NAME_CHARS - 1) :]
            try:
                member = archive.open(info)
            except _ZIP_ERRORS as exc:
                index += 1
                yield RawRecord(
                    index, name, "", None, f"cannot read this file of the archive: {exc}"
                )
                continue
            with member:
                for rec in read_file(member):
                    index += 1
                    place = f"{name}: {rec.position}"
                    yield RawRecord(index, place, rec.text, rec.data, rec.error)


def avro_records(stream: IO[bytes], contained: Contained) -> Iterator[RawRecord]:
    """The records of an Avro file. Azure Event Hubs Capture writes one datum per message,
    its bytes in ``Body`` (with ``SequenceNumber``, ``Offset``, ``EnqueuedTimeUtc`` and
    property maps beside): a diagnostic setting's message is a ``{"records": [...]}`` batch,
    read as the same batch in a file is (``contained`` gives a container's records, None for
    a record). Data of other schemas are rows, as Parquet's are."""
    index = 0
    for number, datum, error in avro_data(stream):
        if error:
            yield RawRecord(index + 1, f"message {number}", "", None, error)
            return
        if isinstance(datum, dict) and "Body" in datum:
            body, where = datum["Body"], f"message {number}"
            for rec in _message_records(body, index, where, contained):
                index = rec.index
                yield rec
            continue
        index += 1
        data, text = row_json(datum)
        if isinstance(data, dict):
            yield RawRecord(index, f"row {number}", text, data)
        else:
            yield RawRecord(index, f"row {number}", text, None, "row is not an Avro record")


def _message_records(
    body: Any, index: int, where: str, contained: Contained
) -> Iterator[RawRecord]:
    """The records of one message's body: a JSON object (a record, or a container of them,
    such as a diagnostic setting's batch) or an array of records, numbered after ``index``.
    """
    if not isinstance(body, bytes) or not body:
        yield RawRecord(index + 1, where, "", None, "message with no body")
        return
    if len(body) > MAX_RECORD_CHARS:
        reason = f"message body larger than {MAX_RECORD_CHARS} bytes"
        yield RawRecord(index + 1, where, "", None, reason)
        return
    raw = body.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw.decode("utf-8", "replace")
        reason = f"message body is not UTF-8 text: invalid byte at {exc.start}"
        yield RawRecord(index + 1, where, shown, None, reason)
        return
    try:
        obj = loads(text)
    except ValueError as exc:
        reason = "message body is not JSON: " + str(exc).split(":")[0]
        yield RawRecord(index + 1, where, text, None, reason)
        return
    if isinstance(obj, list):
        buf = Buffer.over(text)
        buf.pos = text.index("[") + 1
        for rec in array_elements(buf, index, StringSource(text)):
            yield RawRecord(rec.index, f"{where}, {rec.position}", rec.text, rec.data, rec.error)
        return
    if not isinstance(obj, dict):
        yield RawRecord(index + 1, where, text, None, "message body is not a JSON object")
        return
    records = contained(text, obj, index, where)
    if records is None:
        yield RawRecord(index + 1, where, text, obj)
    else:
        yield from records
