"""The bytes of a log file, read a chunk at a time (decompressed when gzip, bzip2, xz or
zstd), and the record each reader yields: its place, its exact text and what it holds."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from backports.zstd import ZstdError, ZstdFile

from forensics.engine.values import record_type

CHUNK_CHARS = 1 << 20
MAX_RECORD_CHARS = 32 << 20  # a single record larger than this is quarantined, not buffered


@record_type
class RawRecord:
    """One record as read: its place in the file, its exact text, and the parsed object."""

    index: int  # 1-based ordinal among the file's records
    position: str  # human-readable place, e.g. "line 12" or "record 3"
    text: str
    data: dict[str, Any] | None
    error: str = ""  # non-empty when the record could not be read as a JSON object


# Compressed streams, told by the bytes they start with (a file's name is not looked at):
# the compression's name and its reader. Log shippers write gzip (CloudTrail, Firehose, most
# rotated logs), and zstd, bzip2 or xz where so configured (Vector, Fluent Bit, logrotate).
_COMPRESSIONS: list[tuple[bytes, str, Callable[[Any], Any]]] = [
    (b"\x1f\x8b", "gzip", lambda f: gzip.GzipFile(fileobj=f)),
    (b"\x28\xb5\x2f\xfd", "zstd", ZstdFile),
    (b"\xfd7zXZ\x00", "xz", lzma.LZMAFile),
    *((b"BZh%d" % level, "bzip2", bz2.BZ2File) for level in range(1, 10)),
]
_MAGIC_BYTES = max(len(magic) for magic, _, _ in _COMPRESSIONS)
# What a truncated or corrupt stream of any of them raises, and a file of a ZIP archive
# whose checksum does not match once it is read to its end.
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ZstdError, zipfile.BadZipFile)


class ByteSource:
    """The bytes of a binary stream, decompressed when the stream is compressed, and as
    UTF-8 when they are UTF-16 or UTF-32 text that says so with a byte order mark."""

    def __init__(self, stream: IO[bytes] | io.RawIOBase) -> None:
        head = b""
        while len(head) < _MAGIC_BYTES and (data := stream.read(_MAGIC_BYTES - len(head))):
            head += data
        rest = Prepend(head, stream)
        self.compression = ""
        self.raw: Any = rest
        for magic, name, reader in _COMPRESSIONS:
            if head.startswith(magic):
                self.compression, self.raw = name, reader(rest)
                break
        self.bytes_read = 0
        self.failure = ""
        self._started = False

    @property
    def gzipped(self) -> bool:
        return self.compression == "gzip"

    def _broken(self, got: int, exc: BaseException) -> str:
        what = f"{self.compression} stream" if self.compression else "file"
        return f"truncated or corrupt {what} after {got} bytes: {exc}"

    def _start(self) -> None:
        """Look for a UTF-16 or UTF-32 byte order mark (Windows PowerShell writes UTF-16
        when it redirects or saves output) and read such text as UTF-8 from then on."""
        self._started = True
        head = b""
        while len(head) < 4:
            data = self.raw.read(4 - len(head))
            if not data:
                break
            head += data
        for mark, encoding in _BYTE_ORDER_MARKS:
            if head.startswith(mark):
                self.raw = Utf8Text(Prepend(head[len(mark) :], self.raw), encoding, len(mark))
                return
        self.raw = Prepend(head, self.raw)

    def read_bytes(self, n: int) -> bytes:
        if self.failure:
            return b""
        parts: list[bytes] = []
        got = 0
        try:
            if not self._started:
                self._start()
        except STREAM_ERRORS as exc:
            self.failure = self._broken(0, exc)
            return b""
        read1 = getattr(self.raw, "read1", self.raw.read)
        while got < n:
            try:
                data = read1(n - got)
            except TextDecodingError as exc:
                self.failure = str(exc)
                break
            except STREAM_ERRORS as exc:
                self.failure = self._broken(self.bytes_read + got, exc)
                break
            if not data:
                break
            parts.append(data)
            got += len(data)
        self.bytes_read += got
        return b"".join(parts)


# Longest first: UTF-32's little-endian mark begins with UTF-16's.
_BYTE_ORDER_MARKS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_TEXT_READ = 1 << 16


class TextDecodingError(ValueError):
    """The text is not valid in the encoding its byte order mark names."""


def _escaped_surrogates(exc: UnicodeError) -> tuple[str, int]:
    """Write an unpaired surrogate as the JSON escape that stands for it."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(f"\\u{ord(c):04x}" for c in bad), exc.end


codecs.register_error("forensics.json-escape", _escaped_surrogates)


class Utf8Text:
    """UTF-16 or UTF-32 text read as UTF-8, a piece at a time.

    An unpaired surrogate (a string cut short by a .NET or Java producer) has no UTF-8
    form: it is written as its JSON escape, which is what it stands for inside a JSON
    string (and invalid JSON anywhere else, as it was). Text that ends inside a character
    raises TextDecodingError once everything before it was handed out.
    """

    def __init__(self, raw: Any, encoding: str, offset: int) -> None:
        self._read = getattr(raw, "read1", raw.read)
        self._name = encoding.upper().removesuffix("-LE").removesuffix("-BE")
        self._decoder = codecs.getincrementaldecoder(encoding)("surrogatepass")
        self._out = b""
        self._ended = False
        self._decoded = offset  # bytes of the file decoded so far (its mark included)
        self._error: Exception | None = None

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._out) < n) and not self._ended:
            try:
                data = self._read(_TEXT_READ)
            except STREAM_ERRORS as exc:
                if not self._out:
                    raise
                self._ended, self._error = True, exc  # the text before it goes out first
                break
            held = len(self._decoder.getstate()[0])  # the start of a character cut short
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                self._ended = True
                at = self._decoded - held + exc.start
                reason = "the file ends inside a character" if not data else exc.reason
                self._error = TextDecodingError(
                    f"invalid {self._name} at byte {at} ({reason}); the rest of the file"
                    " was not read"
                )
                break
            self._decoded += len(data)
            self._out += text.encode("utf-8", "forensics.json-escape")
            self._ended = not data
        if not self._out and self._error is not None:
            raise self._error
        if n < 0:
            out, self._out = self._out, b""
        else:
            out, self._out = self._out[:n], self._out[n:]
        return out


class Prepend(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes] | io.RawIOBase) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read1(self, size: int = -1) -> bytes:
        """At most ``size`` bytes with at most one read of the stream (a gzip stream cut
        short then hands out what it decompressed before failing on the next read)."""
        if self._head:
            return self.read(min(size, len(self._head)) if size >= 0 else len(self._head))
        return getattr(self._stream, "read1", self._stream.read)(size)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            data = self._head + self._stream.read()
            self._head = b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._stream.read(size - len(data))
            return data
        return self._stream.read(size)


def byte_lines(src: ByteSource, first: bytes) -> Iterator[bytes]:
    """The file's lines, each with its line break, read a chunk at a time."""
    pending = first
    pos = 0
    while True:
        # Walk the buffer with an offset; copy only the unread tail when refilling.
        nl = pending.find(b"\n", pos)
        if nl >= 0:
            yield pending[pos : nl + 1]
            pos = nl + 1
            continue
        chunk = src.read_bytes(CHUNK_CHARS)
        if not chunk:
            rest = pending[pos:]
            if rest:
                yield rest
            return
        pending = pending[pos:] + chunk
        pos = 0
