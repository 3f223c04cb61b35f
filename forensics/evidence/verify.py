"""Verify a forensics evidence pack offline.

    python verify.py PACK.zip [--trust FINGERPRINT ...] [--json]

This file is self-contained (the Python standard library and the ``cryptography`` package,
nothing of the dashboard), and every pack carries a copy of it. Run a copy you trust, not
the one inside the pack you are checking.

A pack is a ZIP file. ``manifest.json`` lists every other file with its SHA-256 and size,
and ``manifest.sig`` is the Ed25519 signature of the manifest's exact bytes. The checks:

1. the signature verifies with the public key the manifest names, and, when fingerprints are
   given with ``--trust``, that key is one of them;
2. every listed file is present once, with its size and SHA-256; no file is unlisted;
3. every event's raw record hashes to the ``raw_sha256`` recorded for it at ingest, and the
   counts agree with the manifest;
4. every hop that names a backing event (the issuing event of an exact link, the event
   whose own record asserts a hand-over) finds that event in the pack, and every exact hop's
   credential is the one its backing event issued;
5. the chain of custody is unbroken: each entry holds the SHA-256 of the line before it,
   and the manifest holds the hash of the last line.

Exit status: 0 verified, 1 the pack fails a check (tampered or incomplete), 2 unreadable.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

FORMAT = "forensics-evidence-pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
EVENTS = "events.jsonl"
IDENTITIES = "identities.json"
CUSTODY = "custody.jsonl"
SCOPE = "scope.json"
VERIFIER = "verify.py"
READ_ME = "README.txt"
ALGORITHM = "Ed25519"
# An exact hop is a credential id match between an issuing and a using event: it always
# names its issuing event. An asserted hop names the event whose own record asserts it, and
# an inferred hop with several candidate issuers names none.
NEEDS_EVENT = {"exact"}
MAX_PROBLEMS = 50
# Bounds on what is held in memory at once, so a hostile archive cannot exhaust it.
MAX_MANIFEST_BYTES = 64 << 20
MAX_LINE_BYTES = 256 << 20


def canonical_json(value: Any) -> bytes:
    """The byte form the pack writes JSON objects in: sorted keys, no spaces, UTF-8 (with
    \\u escapes only for what UTF-8 cannot carry, such as a lone surrogate)."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte Ed25519 public key, as hex."""
    return sha256_hex(public_key)


def custody_line(entry: dict[str, Any], prev: str) -> bytes:
    """One custody entry as its JSONL line (without the newline), chained to ``prev``."""
    return canonical_json({**entry, "prev": prev})


@dataclass
class Report:
    path: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("… more problems not listed")

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.path,
            "verified": self.ok,
            "problems": self.problems,
            "facts": self.facts,
            "pack_id": self.manifest.get("pack_id"),
            "kind": self.manifest.get("kind"),
            "signer": (self.manifest.get("signer") or {}).get("fingerprint"),
        }

    def lines(self) -> Iterator[str]:
        yield f"{'VERIFIED' if self.ok else 'FAILED'}: {self.path}"
        for fact in self.facts:
            yield f"  {fact}"
        for problem in self.problems:
            yield f"  problem: {problem}"


class Unreadable(Exception):
    """The pack cannot be read at all (not a ZIP, no manifest)."""


def verify_pack(source: str | IO[bytes], trusted: list[str] | None = None) -> Report:
    """Run every check on the pack at ``source`` (a path or a binary file object)."""
    report = Report(path=source if isinstance(source, str) else getattr(source, "name", "pack"))
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"not a readable ZIP file: {exc}") from exc
    with archive:
        names = [info.filename for info in archive.infolist()]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        for name in duplicated:
            report.problem(f"{name} is in the archive more than once")
        if MANIFEST not in names:
            raise Unreadable(f"no {MANIFEST} in the archive")
        if archive.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
            raise Unreadable(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
        manifest_bytes = archive.read(MANIFEST)
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            raise Unreadable(f"{MANIFEST} is not JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise Unreadable(f"{MANIFEST} is not a JSON object")
        report.manifest = manifest
        if manifest.get("format") != FORMAT:
            report.problem(f"unknown format {manifest.get('format')!r}, expected {FORMAT!r}")
        _check_signature(archive, names, manifest_bytes, manifest, trusted, report)
        listed = _check_files(archive, names, manifest, report)
        if EVENTS in listed:
            _check_events(archive, manifest, report)
        else:
            report.problem(f"the manifest does not list {EVENTS}")
        if CUSTODY in listed:
            _check_custody(archive, manifest, report)
        else:
            report.problem(f"the manifest does not list {CUSTODY}")
    return report


def _check_signature(
    archive: zipfile.ZipFile,
    names: list[str],
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    trusted: list[str] | None,
    report: Report,
) -> None:
    signer = _object(manifest.get("signer"))
    if SIGNATURE not in names:
        report.problem(f"no {SIGNATURE}: the manifest is not signed")
        return
    if archive.getinfo(SIGNATURE).file_size > 1024:
        report.problem(f"{SIGNATURE} is not a signature (over 1 KiB)")
        return
    if signer.get("algorithm") != ALGORITHM:
        report.problem(f"signer.algorithm is {signer.get('algorithm')!r}, expected {ALGORITHM}")
        return
    try:
        public = base64.b64decode(str(signer.get("public_key", "")), validate=True)
        signature = base64.b64decode(archive.read(SIGNATURE).strip(), validate=True)
    except ValueError:
        report.problem("signer.public_key or the signature is not base64")
        return
    fingerprint = key_fingerprint(public)
    if signer.get("fingerprint") != fingerprint:
        report.problem("signer.fingerprint does not match signer.public_key")
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as exc:  # pragma: no cover - depends on the verifying machine
        raise Unreadable("the 'cryptography' package is needed: pip install cryptography") from exc
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError):
        report.problem("the manifest's signature does not verify: the manifest was altered")
        return
    report.facts.append(f"signed with {ALGORITHM} key {fingerprint}")
    if trusted:
        wanted = {t.strip().lower().replace(":", "") for t in trusted}
        if fingerprint not in wanted:
            report.problem(f"signed by key {fingerprint}, which is not one of the trusted keys")
        else:
            report.facts.append("the signing key is one of the trusted keys")
    else:
        report.facts.append(
            "no --trust given: compare the key fingerprint with the one your dashboard publishes"
        )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_files(
    archive: zipfile.ZipFile, names: list[str], manifest: dict[str, Any], report: Report
) -> set[str]:
    files = manifest.get("files")
    if not isinstance(files, list):
        report.problem("the manifest has no files list")
        return set()
    listed: set[str] = set()
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            report.problem("a files entry has no name")
            continue
        name = entry["name"]
        listed.add(name)
        if name not in names:
            report.problem(f"{name} is listed in the manifest but missing")
            continue
        digest, size = _hash_member(archive, name)
        if size != entry.get("bytes"):
            report.problem(f"{name}: {size} bytes, the manifest says {entry.get('bytes')}")
        if digest != entry.get("sha256"):
            report.problem(f"{name}: SHA-256 {digest} does not match the manifest")
    for name in names:
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            report.problem(f"{name} is in the archive but not in the manifest")
    return listed


def _hash_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _lines(archive: zipfile.ZipFile, name: str, report: Report) -> Iterator[tuple[int, bytes]]:
    """The member's lines, each read with a bound; an overlong line ends the reading."""
    with archive.open(name) as fh:
        number = 0
        while line := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                report.problem(f"{name} line {number}: longer than {MAX_LINE_BYTES} bytes")
                return
            yield number, line


def _jsonl(archive: zipfile.ZipFile, name: str, report: Report) -> Iterator[tuple[int, Any]]:
    for number, line in _lines(archive, name, report):
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            report.problem(f"{name} line {number}: not JSON ({exc})")


def _check_events(archive: zipfile.ZipFile, manifest: dict[str, Any], report: Report) -> None:
    issued: dict[str, str] = {}
    hop_refs: list[tuple[int, str, str, str]] = []
    counted = {"events": 0, "subjects": 0, "personal_data": 0}
    for number, event in _jsonl(archive, EVENTS, report):
        if not isinstance(event, dict):
            report.problem(f"{EVENTS} line {number}: not an object")
            continue
        counted["events"] += 1
        counted["subjects"] += event.get("role") == "subject"
        counted["personal_data"] += event.get("personal_data") is True
        issued[str(event.get("id"))] = str(event.get("credential_issued") or "")
        raw = event.get("raw")
        if not isinstance(raw, str):
            report.problem(f"{EVENTS} line {number}: no raw record")
        elif sha256_hex(raw.encode("utf-8")) != event.get("raw_sha256"):
            report.problem(
                f"{EVENTS} line {number} (event {event.get('id')}): the raw record does not "
                "hash to its raw_sha256"
            )
        for hop in event.get("hops") or []:
            if not isinstance(hop, dict):
                continue
            via = str(hop.get("via_event") or "")
            if via:
                evidence = str(hop.get("evidence") or "")
                hop_refs.append((number, via, evidence, str(hop.get("credential") or "")))
            elif hop.get("evidence") in NEEDS_EVENT:
                report.problem(
                    f"{EVENTS} line {number}: a hop with {hop.get('evidence')!r} evidence names "
                    "no backing event"
                )
    for number, via, evidence, credential in hop_refs:
        if via not in issued:
            report.problem(
                f"{EVENTS} line {number}: hop evidence event {via} ({evidence}) is not in the pack"
            )
        elif evidence in NEEDS_EVENT and _same_id(issued[via]) != _same_id(credential):
            report.problem(
                f"{EVENTS} line {number}: an exact hop with credential {credential!r} is backed "
                f"by event {via}, which issued {issued[via]!r}"
            )
    expected = _object(manifest.get("counts"))
    for key, value in counted.items():
        if expected.get(key) != value:
            report.problem(f"{EVENTS} holds {value} {key}, the manifest says {expected.get(key)}")
    report.facts.append(
        f"{counted['events']} events ({counted['subjects']} in scope, "
        f"{counted['events'] - counted['subjects']} backing a hop), every raw record matches "
        "its ingest hash"
        if not report.problems
        else f"{counted['events']} events read"
    )


def _same_id(value: str) -> str:
    return value.strip().casefold()


def _check_custody(archive: zipfile.ZipFile, manifest: dict[str, Any], report: Report) -> None:
    prev = ""
    entries = 0
    for number, line in _lines(archive, CUSTODY, report):
        text = line.rstrip(b"\n")
        try:
            entry = json.loads(text)
        except ValueError:
            report.problem(f"{CUSTODY} line {number}: not JSON")
            return
        if not isinstance(entry, dict) or entry.get("prev") != prev:
            report.problem(f"{CUSTODY} line {number}: the chain is broken here")
            return
        prev = sha256_hex(text)
        entries += 1
    if manifest.get("custody_head") != prev:
        report.problem(f"{CUSTODY}: its last entry is not the one the manifest names")
        return
    report.facts.append(f"chain of custody: {entries} linked entries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a forensics evidence pack offline.")
    parser.add_argument("pack", help="the pack's .zip file")
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="SHA-256 fingerprint of a signing key you trust (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = verify_pack(args.pack, args.trust)
    except Unreadable as exc:
        print(f"UNREADABLE: {args.pack}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
