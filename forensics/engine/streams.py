"""The bytes of a log file, read a chunk at a time (gunzipped when gzip), and the record
each reader yields: its place, its exact text and what it holds."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

CHUNK_CHARS = 1 << 20
MAX_RECORD_CHARS = 32 << 20  # a single record larger than this is quarantined, not buffered


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: its place in the file, its exact text, and the parsed object."""

    index: int  # 1-based ordinal among the file's records
    position: str  # human-readable place, e.g. "line 12" or "record 3"
    text: str
    data: dict[str, Any] | None
    error: str = ""  # non-empty when the record could not be read as a JSON object


class ByteSource:
    """Decoded text from a binary stream, gunzipping when the stream is gzip."""

    def __init__(self, stream: IO[bytes] | io.RawIOBase) -> None:
        head = stream.read(2) or b""
        rest = Prepend(head, stream)
        self.gzipped = head == b"\x1f\x8b"
        self.raw: Any = gzip.GzipFile(fileobj=rest) if self.gzipped else rest
        self.bytes_read = 0
        self.failure = ""

    def read_bytes(self, n: int) -> bytes:
        if self.failure:
            return b""
        parts: list[bytes] = []
        got = 0
        read1 = getattr(self.raw, "read1", self.raw.read)
        while got < n:
            try:
                data = read1(n - got)
            except (EOFError, OSError, zlib.error) as exc:
                self.failure = (
                    f"truncated or corrupt gzip stream after {self.bytes_read + got} bytes: {exc}"
                )
                break
            if not data:
                break
            parts.append(data)
            got += len(data)
        self.bytes_read += got
        return b"".join(parts)


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
