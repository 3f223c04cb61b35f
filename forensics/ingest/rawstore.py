"""Raw files kept content-addressed on disk: the original file is evidence."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

COPY_CHUNK = 1 << 20


class TooLarge(ValueError):
    """The input is larger than INGEST_MAX_BYTES."""


@dataclass(frozen=True)
class StoredRaw:
    sha256: str
    size: int
    path: Path


def raw_path(sha256: str) -> Path:
    return Path(settings.RAW_STORE_DIR) / sha256[:2] / sha256


def store(stream: IO[bytes], max_bytes: int | None = None, *, sync_dirs: bool = True) -> StoredRaw:
    """Copy a stream into the raw store, hashing on the way; durable before return.

    The bytes are synced before the file takes its content address, so a name in the store
    always holds the whole content. ``sync_dirs=False`` leaves the directories that record
    the new name unsynced: the caller then calls ``sync_directories`` for a whole group of
    files before committing anything that names them.
    """
    limit = settings.INGEST_MAX_BYTES if max_bytes is None else max_bytes
    root = Path(settings.RAW_STORE_DIR)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"input is larger than {limit} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = raw_path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, final)
            os.chmod(final, 0o440)
        if sync_dirs:
            sync_directories([final])
        return StoredRaw(sha, size, final)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def sync_directories(paths: Iterable[Path]) -> None:
    """Make the names of stored files durable: a file's data is synced before it is named,
    but its name (and its directory's, when new) lives in the directories above it, which
    a crash may lose unless they are synced too (POSIX says so; ext4 and XFS behave so)."""
    root = Path(settings.RAW_STORE_DIR)
    for directory in sorted({path.parent for path in paths} | {root}):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class CountingReader:
    """A read-only file wrapper that counts the bytes read, for progress."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    # A Parquet file is read by seeking (its index is at the end); reads still count.
    def seekable(self) -> bool:
        return self._stream.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def close(self) -> None:
        """The owner of the stream closes it, not a reader handed this wrapper."""
