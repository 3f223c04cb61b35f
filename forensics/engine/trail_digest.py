"""CloudTrail log file integrity: digest files checked against the log files they list.

With log file validation on, a trail delivers every hour a digest file under
``CloudTrail-Digest/`` naming each log file it delivered that hour with the SHA-256 of the
file's uncompressed content, and the SHA-256 of the previous digest file's uncompressed
content. A copy of the trail's bucket can so be checked offline: every log file against the
digest that lists it (modified, missing, or never listed), and every digest against the next
one's link to it (the chain).

Given the trail's public keys (``aws cloudtrail list-public-keys``), the digests' RSA
signatures are checked too, as the AWS CLI's validation does. S3 keeps a digest's signature
in the object's metadata (``x-amz-meta-signature``), which a copy of the files does not
carry; but every digest records its predecessor's signature, in a field its own signature
covers, so in a copy every digest but the newest can be checked, and the newest too when its
signature is given. A report says what it checked and no more.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from forensics.engine.model import RecordError
from forensics.engine.parsers.common import opt_str

_DIGEST_KEYS = ("digestStartTime", "digestEndTime", "logFiles")
_SHA256 = "SHA-256"
_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"

# What a check found, worst first.
MODIFIED = "modified"  # the file's content hash differs from the digest's
BROKEN = "broken_chain"  # a digest's content differs from the hash its successor recorded
MISSING = "missing"  # listed by a digest, not in the copy (or not in the store)
UNLISTED = "unlisted"  # a log file no digest in the copy lists
UNCHECKED = "unchecked"  # a hash in an algorithm other than SHA-256
VALID = "valid"
CHAIN_OK = "chain_ok"
CHAIN_START = "chain_start"  # the previous digest is not in the copy: the chain starts here
BAD_SIGNATURE = "bad_signature"  # the digest's signature does not verify with its key
SIGNED = "signature_ok"
UNSIGNED = "no_signature"  # its signature is not known here (the newest digest of a copy)
NO_KEY = "no_key"  # none of the public keys given has the digest's fingerprint
FAILURES = (MODIFIED, BROKEN, MISSING, BAD_SIGNATURE)
_SIGNATURE_ALGORITHM = "SHA256withRSA"
PublicKeys = dict[str, rsa.RSAPublicKey]  # by fingerprint


@dataclass(frozen=True, slots=True)
class LogFile:
    s3_object: str
    hash_value: str
    algorithm: str
    oldest_event: str
    newest_event: str

    @property
    def name(self) -> str:
        return base_name(self.s3_object)


@dataclass(frozen=True, slots=True)
class Digest:
    s3_object: str
    account: str
    start: str
    end: str
    previous_s3_object: str
    previous_hash: str
    previous_algorithm: str
    log_files: tuple[LogFile, ...]
    # What its signature covers (see signing_string) and how it was made.
    s3_bucket: str = ""
    fingerprint: str = ""
    signature_algorithm: str = ""
    previous_signature: str = ""
    content_sha256: str = ""  # of the file's uncompressed content, once read from a file

    @property
    def name(self) -> str:
        return base_name(self.s3_object)


@dataclass(frozen=True, slots=True)
class Finding:
    status: str
    name: str  # the log file's or digest's object name
    detail: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, status: str, name: str, detail: str = "") -> None:
        self.findings.append(Finding(status, name, detail))

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def failed(self) -> bool:
        return any(f.status in FAILURES for f in self.findings)


def base_name(key: str) -> str:
    """The object name of an S3 key or a local path: delivered names are unique."""
    return PurePosixPath(key.replace("\\", "/")).name


def is_digest(record: Any) -> bool:
    return isinstance(record, dict) and all(key in record for key in _DIGEST_KEYS)


def read_digest(record: Any) -> Digest:
    """A digest file's JSON object; RecordError names the field at fault."""
    if not is_digest(record):
        raise RecordError("not a CloudTrail digest file: " + ", ".join(_DIGEST_KEYS) + " needed")
    entries = record.get("logFiles")
    if not isinstance(entries, list):
        raise RecordError("field 'logFiles' should be an array")
    files = []
    for n, entry in enumerate(entries):
        at = f"logFiles[{n}]."
        if not isinstance(entry, dict):
            raise RecordError(f"field 'logFiles[{n}]' should be an object")
        s3_object, hash_value = opt_str(entry, "s3Object"), opt_str(entry, "hashValue")
        if not s3_object or not hash_value:
            raise RecordError(f"field '{at}s3Object' and '{at}hashValue' are required")
        files.append(
            LogFile(
                s3_object=s3_object,
                hash_value=hash_value.lower(),
                algorithm=opt_str(entry, "hashAlgorithm") or _SHA256,
                oldest_event=opt_str(entry, "oldestEventTime"),
                newest_event=opt_str(entry, "newestEventTime"),
            )
        )
    return Digest(
        s3_object=opt_str(record, "digestS3Object"),
        account=opt_str(record, "awsAccountId"),
        start=opt_str(record, "digestStartTime"),
        end=opt_str(record, "digestEndTime"),
        previous_s3_object=opt_str(record, "previousDigestS3Object"),
        previous_hash=opt_str(record, "previousDigestHashValue").lower(),
        previous_algorithm=opt_str(record, "previousDigestHashAlgorithm") or _SHA256,
        log_files=tuple(files),
        s3_bucket=opt_str(record, "digestS3Bucket"),
        fingerprint=opt_str(record, "digestPublicKeyFingerprint").lower(),
        signature_algorithm=opt_str(record, "digestSignatureAlgorithm"),
        previous_signature=opt_str(record, "previousDigestSignature").lower(),
    )


def with_content(digest: Digest, content_sha256: str) -> Digest:
    return dataclasses.replace(digest, content_sha256=content_sha256)


def signing_string(digest: Digest) -> bytes:
    """What CloudTrail signs: the digest's end time, its S3 path, the SHA-256 of its
    uncompressed content and the previous digest's signature ("null" for the first)."""
    return "\n".join(
        (
            digest.end,
            f"{digest.s3_bucket}/{digest.s3_object}",
            digest.content_sha256,
            digest.previous_signature or "null",
        )
    ).encode()


def public_keys(data: Any) -> PublicKeys:
    """The keys of ``aws cloudtrail list-public-keys`` output ({"PublicKeyList": [{"Value":
    base64 DER, "Fingerprint": hex, ...}]}) by fingerprint; RecordError names the field."""
    entries = data.get("PublicKeyList") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RecordError("field 'PublicKeyList' should be an array (list-public-keys output)")
    keys: PublicKeys = {}
    for n, entry in enumerate(entries):
        at = f"PublicKeyList[{n}]"
        value = opt_str(entry, "Value") if isinstance(entry, dict) else ""
        fingerprint = opt_str(entry, "Fingerprint") if isinstance(entry, dict) else ""
        if not value or not fingerprint:
            raise RecordError(f"field '{at}.Value' and '{at}.Fingerprint' are required")
        try:
            key = load_der_public_key(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError, UnsupportedAlgorithm) as exc:
            raise RecordError(f"field '{at}.Value' is not a base64 DER public key: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise RecordError(f"field '{at}.Value' is not an RSA public key")
        keys[fingerprint.lower()] = key
    return keys


def signatures(data: Any) -> dict[str, str]:
    """Digest signatures taken from S3 metadata, by digest object name: a JSON object from
    each digest's key (or file name) to its hex signature, to its metadata ({"signature":
    ...}), or to ``aws s3api head-object`` output ({"Metadata": {"signature": ...}})."""
    if not isinstance(data, dict):
        raise RecordError("signatures should be a JSON object of digest key to signature")
    found: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = value.get("Metadata", value)
            value = value.get("signature") if isinstance(value, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise RecordError(f"field '{key}' holds no signature")
        found[base_name(key)] = value.strip().lower()
    return found


def file_sha256s(stream: IO[bytes]) -> tuple[str, str]:
    """The SHA-256s a file is known by: of its uncompressed content and of its bytes."""
    raw = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        raw.update(chunk)
    stream.seek(0)
    return content_sha256(stream), raw.hexdigest()


def content_sha256(stream: IO[bytes]) -> str:
    """SHA-256 of a file's uncompressed content (gzip members decompressed), streamed from
    the stream's start (it must be seekable: a file on disk)."""
    gzipped = stream.read(2) == GZIP_MAGIC
    stream.seek(0)
    digest = hashlib.sha256()
    source: IO[bytes] | gzip.GzipFile = (
        gzip.GzipFile(fileobj=stream, mode="rb") if gzipped else stream
    )
    try:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"unreadable gzip data: {exc}") from exc
    return digest.hexdigest()


def check(
    digests: Iterable[tuple[Digest, frozenset[str]]],
    logs: dict[str, list[tuple[str, str]]],
    *,
    unlisted: bool = True,
) -> Report:
    """Check log files and the digest chain.

    ``digests``: each digest with the SHA-256s its file is known by: of its uncompressed
    content (what CloudTrail hashes) and of the file's bytes as they are (so a chain that
    recorded the compressed file's hash is not called broken either). ``logs``: log
    file name -> the copies there are of it, each (where it is, SHA-256 of its uncompressed
    content): a file can be in the store more than once, ingested from different copies.
    With ``unlisted``, log files no digest lists are reported too.
    """
    report = Report()
    ordered = sorted(digests, key=lambda d: (d[0].account, d[0].end, d[0].name))
    own_hashes = {digest.name: hashes for digest, hashes in ordered}
    listed: set[str] = set()
    for digest, _sha in ordered:
        _check_link(report, digest, own_hashes)
        for entry in digest.log_files:
            listed.add(entry.name)
            _check_log(report, digest, entry, logs.get(entry.name, []))
    if unlisted:
        for name in sorted(set(logs) - listed):
            where = ", ".join(w for w, _ in logs[name])
            report.add(UNLISTED, name, f"no digest here lists it ({where})")
    return report


def check_signatures(
    report: Report,
    digests: Iterable[Digest],
    keys: PublicKeys,
    given: dict[str, str] | None = None,
) -> None:
    """Check each digest's RSA signature with the public key of its fingerprint. A digest's
    signature is the one ``given`` for it (from S3 metadata), else the one its successor
    recorded: that field is covered by the successor's own signature, and a signature over a
    digest's content hash verifies only if CloudTrail made it, whoever passed it on."""
    digests = list(digests)
    recorded = {
        base_name(d.previous_s3_object): (d.previous_signature, d.name)
        for d in digests
        if d.previous_s3_object and d.previous_signature
    }
    for digest in sorted(digests, key=lambda d: (d.account, d.end, d.name)):
        if (given or {}).get(digest.name):
            signature, source = (given or {})[digest.name], "its S3 metadata"
        elif digest.name in recorded:
            signature, source = recorded[digest.name][0], recorded[digest.name][1]
        else:
            report.add(UNSIGNED, digest.name, "its signature is in S3 metadata, not given")
            continue
        key = keys.get(digest.fingerprint)
        if digest.signature_algorithm != _SIGNATURE_ALGORITHM:
            algorithm = digest.signature_algorithm or "no algorithm"
            report.add(UNCHECKED, digest.name, f"signed with {algorithm}")
        elif key is None:
            report.add(NO_KEY, digest.name, f"no public key with fingerprint {digest.fingerprint}")
        elif _verifies(key, signature, signing_string(digest)):
            report.add(SIGNED, digest.name, f"signature from {source} verifies")
        else:
            report.add(BAD_SIGNATURE, digest.name, f"signature from {source} does not verify")


def _verifies(key: rsa.RSAPublicKey, signature_hex: str, data: bytes) -> bool:
    try:
        key.verify(bytes.fromhex(signature_hex), data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_link(report: Report, digest: Digest, own_hashes: dict[str, frozenset[str]]) -> None:
    previous = base_name(digest.previous_s3_object) if digest.previous_s3_object else ""
    if not previous or previous not in own_hashes:
        why = "the trail's first digest" if not previous else f"{previous} is not here"
        report.add(CHAIN_START, digest.name, why)
    elif digest.previous_algorithm.upper() != _SHA256:
        algorithm = digest.previous_algorithm
        report.add(UNCHECKED, digest.name, f"previous digest hashed with {algorithm}")
    elif digest.previous_hash not in own_hashes[previous]:
        report.add(
            BROKEN,
            previous,
            f"its content hashes to {min(own_hashes[previous])}; {digest.name} recorded "
            f"{digest.previous_hash}",
        )
    else:
        report.add(CHAIN_OK, digest.name, f"links to {previous}")


def _check_log(
    report: Report, digest: Digest, entry: LogFile, copies: list[tuple[str, str]]
) -> None:
    if not copies:
        report.add(MISSING, entry.name, f"listed by {digest.name}")
        return
    if entry.algorithm.upper() != _SHA256:
        report.add(UNCHECKED, entry.name, f"hashed with {entry.algorithm} by {digest.name}")
        return
    for where, found in copies:
        if found != entry.hash_value:
            report.add(
                MODIFIED,
                entry.name,
                f"{where}: its content hashes to {found}; {digest.name} recorded "
                f"{entry.hash_value}",
            )
        else:
            report.add(VALID, entry.name, f"{where} matches {digest.name}")
