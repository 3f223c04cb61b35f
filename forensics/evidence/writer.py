"""Writing an evidence pack: a ZIP whose signed manifest lists every file's SHA-256.

Plain Python (no Django): the service hands in rows as dicts, this module streams them into
the archive, hashing each file as it is written, then signs the manifest. The layout and the
checks are those of ``verify.py``, which is copied into every pack.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from forensics.evidence import verify
from forensics.evidence.verify import canonical_json, custody_line, key_fingerprint

VERIFIER_SOURCE = Path(verify.__file__)


def _line(row: dict[str, Any]) -> bytes:
    """orjson for speed; the standard encoder for what orjson refuses (a lone surrogate that
    a parser decoded from a \\u escape, an integer beyond 64 bits). The verifier hashes the
    bytes as written and never re-encodes them, so the two need not agree byte for byte."""
    try:
        return orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except (TypeError, orjson.JSONEncodeError):
        return canonical_json(row) + b"\n"


class _Hashing:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)


class PackWriter:
    """Streams files into a pack at ``path``; ``finish`` writes the signed manifest."""

    def __init__(self, path: Path, created_at: datetime) -> None:
        self.path = path
        # Entries carry the pack's creation time, so the archive does not depend on the clock
        # of the moment each entry was written.
        self.stamp = created_at.timetuple()[:6]
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.files: list[dict[str, Any]] = []
        self.custody_head = ""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def _record(self, name: str, sink: _Hashing) -> None:
        self.files.append({"name": name, "sha256": sink.digest.hexdigest(), "bytes": sink.size})

    def add_bytes(self, name: str, data: bytes) -> None:
        with self.archive.open(self._info(name), "w") as fh:
            sink = _Hashing(fh)
            sink.write(data)
        self._record(name, sink)

    def add_json(self, name: str, value: Any) -> None:
        self.add_bytes(name, canonical_json(value) + b"\n")

    def add_jsonl(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Write one JSON line per row (sorted keys, UTF-8), streaming; returns the count."""
        count = 0
        with self.archive.open(self._info(name), "w", force_zip64=True) as fh:
            sink = _Hashing(fh)
            for row in rows:
                sink.write(_line(row))
                count += 1
        self._record(name, sink)
        return count

    def add_custody(self, entries: Iterable[dict[str, Any]]) -> int:
        """The chain of custody: each line carries the SHA-256 of the line before it."""
        prev = ""
        count = 0
        with self.archive.open(self._info(verify.CUSTODY), "w") as fh:
            sink = _Hashing(fh)
            for entry in entries:
                line = custody_line(entry, prev)
                sink.write(line + b"\n")
                prev = hashlib.sha256(line).hexdigest()
                count += 1
        self._record(verify.CUSTODY, sink)
        self.custody_head = prev
        return count

    def add_verifier(self, read_me: str) -> None:
        self.add_bytes(verify.VERIFIER, VERIFIER_SOURCE.read_bytes())
        self.add_bytes(verify.READ_ME, read_me.encode("utf-8"))

    def finish(self, manifest: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
        """Write the manifest and its signature, close the archive; returns the manifest."""
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = {
            **manifest,
            "format": verify.FORMAT,
            "files": self.files,
            "custody_head": self.custody_head,
            "signer": {
                "algorithm": verify.ALGORITHM,
                "public_key": base64.b64encode(public).decode("ascii"),
                "fingerprint": key_fingerprint(public),
            },
        }
        manifest_bytes = canonical_json(body)
        self.archive.writestr(self._info(verify.MANIFEST), manifest_bytes)
        signature = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
        self.archive.writestr(self._info(verify.SIGNATURE), signature)
        self.archive.close()
        return manifest_bytes

    def abort(self) -> None:
        self.archive.close()
        self.path.unlink(missing_ok=True)
