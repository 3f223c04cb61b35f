"""Files on disk and batches in the store, turned into what ``engine.trail_digest`` checks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from forensics.engine import trail_digest
from forensics.engine.model import RecordError
from forensics.engine.reader import iter_records
from forensics.ingest import rawstore
from forensics.ingest.models import IngestBatch

Copies = dict[str, list[tuple[str, str]]]
SIDE_FILE_BYTES = 64 << 20  # a signatures file for tens of thousands of digests


@dataclass
class Scanned:
    digests: list[tuple[trail_digest.Digest, frozenset[str]]] = field(default_factory=list)
    logs: Copies = field(default_factory=dict)
    errors: list[tuple[Path, str]] = field(default_factory=list)


def files_under(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


Digests = list[tuple[trail_digest.Digest, frozenset[str]]]


def digest_of(stream: IO[bytes]) -> tuple[trail_digest.Digest, frozenset[str]] | None:
    """The digest a (seekable) file holds, with the hashes it is known by; None when the
    file is not a digest. Raises ValueError on a digest that cannot be read."""
    first = next(itertools.islice(iter_records(stream), 1), None)
    data = first.data if first is not None else None
    stream.seek(0)
    if not trail_digest.is_digest(data):
        return None
    content, raw = trail_digest.file_sha256s(stream)
    return trail_digest.with_content(trail_digest.read_digest(data), content), frozenset(
        {content, raw}
    )


def scan(paths: Iterable[Path]) -> Scanned:
    """Sort files into digests and log files, each with its uncompressed content's hash."""
    found = Scanned()
    for path in files_under(paths):
        try:
            with open(path, "rb") as fh:
                digest = digest_of(fh)
                if digest is not None:
                    found.digests.append(digest)
                else:
                    sha = trail_digest.content_sha256(fh)
                    found.logs.setdefault(path.name, []).append((str(path), sha))
        except (OSError, ValueError) as exc:  # RecordError and bad gzip data are ValueErrors
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            found.errors.append((path, reason))
    return found


def check_store(digests: Digests) -> trail_digest.Report:
    """The store's ingested log files checked against these digests."""
    listed = {entry.name for digest, _ in digests for entry in digest.log_files}
    return trail_digest.check(digests, store_copies(listed), unlisted=False)


def read_signing(
    keys: IO[bytes] | None, signatures: IO[bytes] | None
) -> tuple[trail_digest.PublicKeys | None, dict[str, str]]:
    """The trail's public keys (``aws cloudtrail list-public-keys`` output) and any digest
    signatures from S3 metadata; no keys, no signature check (None). RecordError says what
    is wrong with either file."""
    if keys is None:
        if signatures is not None:
            raise RecordError("digest signatures need the trail's public keys to be checked")
        return None, {}
    found = trail_digest.public_keys(read_json(keys, "public keys"))
    given = trail_digest.signatures(read_json(signatures, "signatures")) if signatures else {}
    return found, given


def read_json(stream: IO[bytes], what: str) -> Any:
    """A JSON file given alongside the digests (public keys, signatures); RecordError says
    what is wrong with it."""
    data = stream.read(SIDE_FILE_BYTES + 1)
    if len(data) > SIDE_FILE_BYTES:
        raise RecordError(f"the {what} file is over {SIDE_FILE_BYTES >> 20} MB")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"the {what} file is not JSON: {exc}") from exc


def store_copies(names: Iterable[str]) -> Copies:
    """The ingested copies of these log files: every finished batch of that file name, with
    its raw file's uncompressed content hash (computed once per raw file)."""
    wanted = sorted(set(names))
    copies: Copies = {}
    hashes: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        batches = IngestBatch.objects.filter(
            filename__in=wanted[start : start + 1000], status=IngestBatch.DONE
        ).values_list("pk", "filename", "sha256")
        for pk, filename, sha256 in batches.order_by("pk"):
            if sha256 not in hashes:
                try:
                    with open(rawstore.raw_path(sha256), "rb") as fh:
                        hashes[sha256] = trail_digest.content_sha256(fh)
                except (OSError, ValueError) as exc:
                    hashes[sha256] = f"unreadable raw file: {exc}"
            copies.setdefault(filename, []).append((f"batch {pk}", hashes[sha256]))
    return copies
