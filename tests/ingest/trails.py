"""A copy of a trail's bucket with its digest files, for the trail integrity tests."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.conftest import SAMPLES

ACCOUNT = "444455556666"
PREFIX = f"AWSLogs/{ACCOUNT}"
GITHUB = "111122223333_CloudTrail_us-east-1_20240410T1425Z_GhOidcEXAMPLE.json.gz"
SAML = f"{ACCOUNT}_CloudTrail_us-east-1_20240410T1430Z_SamlEXAMPLE.json.gz"
LATE = f"{ACCOUNT}_CloudTrail_us-east-1_20240410T1510Z_LateEXAMPLE.json.gz"
FIRST = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20240410T150000Z.json.gz"
SECOND = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20240410T160000Z.json.gz"


FINGERPRINT = "31e8b5433410dfb61a9dc45cc65b22ff"


@functools.cache
def signing_key(n: int = 0) -> rsa.RSAPrivateKey:
    """A stand-in for the private key CloudTrail signs one region's digests with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_keys_output(key: rsa.RSAPrivateKey, fingerprint: str = FINGERPRINT) -> dict:
    """What `aws cloudtrail list-public-keys` prints: each key base64, PKCS #1 DER."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(der).decode(),
                "ValidityStartTime": "2024-04-01T00:00:00Z",
                "ValidityEndTime": "2024-05-01T00:00:00Z",
                "Fingerprint": fingerprint,
            }
        ]
    }


def sign(body: dict, content: bytes, key: rsa.RSAPrivateKey | None = None) -> str:
    """A digest's signature as CloudTrail makes it (the AWS guide's "data signing string")."""
    text = "\n".join(
        [
            body["digestEndTime"],
            f"{body['digestS3Bucket']}/{body['digestS3Object']}",
            hashlib.sha256(content).hexdigest(),
            body["previousDigestSignature"] or "null",
        ]
    )
    return (key or signing_key()).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()


def content_hash(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def digest_key(name: str) -> str:
    return f"{PREFIX}/CloudTrail-Digest/us-east-1/2024/04/10/{name}"


def digest(
    name: str, start: str, end: str, logs: list[Path], previous: tuple[Path, str] | None
) -> tuple[bytes, str]:
    """A digest file (gzipped) listing ``logs``, linked to ``previous`` (its file and
    signature), with the signature CloudTrail would keep in its S3 metadata."""
    body = {
        "awsAccountId": ACCOUNT,
        "digestStartTime": start,
        "digestEndTime": end,
        "digestS3Bucket": "amzn-s3-demo-bucket",
        "digestS3Object": digest_key(name),
        "digestPublicKeyFingerprint": FINGERPRINT,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": end,
        "oldestEventTime": start,
        "previousDigestS3Bucket": "amzn-s3-demo-bucket" if previous else None,
        "previousDigestS3Object": digest_key(previous[0].name) if previous else None,
        "previousDigestHashValue": content_hash(previous[0]) if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous[1] if previous else None,
        "logFiles": [
            {
                "s3Bucket": "amzn-s3-demo-bucket",
                "s3Object": f"{PREFIX}/CloudTrail/us-east-1/2024/04/10/{log.name}",
                "hashValue": content_hash(log),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": end,
                "oldestEventTime": start,
            }
            for log in logs
        ],
    }
    content = json.dumps(body).encode()
    return gzip.compress(content), sign(body, content)


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    """A copy of a trail's prefixes: two log files and a digest listing them, then a second
    digest linked to the first, listing a third log file delivered an hour later."""
    root = tmp_path / "bucket"
    logs = root / PREFIX / "CloudTrail" / "us-east-1" / "2024" / "04" / "10"
    digests = root / PREFIX / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10"
    logs.mkdir(parents=True)
    digests.mkdir(parents=True)
    shutil.copy(SAMPLES / "cloudtrail" / GITHUB, logs / GITHUB)
    saml = (SAMPLES / "cloudtrail" / "saml_role_chain.json").read_bytes()
    (logs / SAML).write_bytes(gzip.compress(saml))
    late = json.loads(saml)
    late["Records"] = late["Records"][:1]
    (logs / LATE).write_bytes(gzip.compress(json.dumps(late).encode()))
    first = digests / FIRST
    data, first_signature = digest(
        FIRST, "2024-04-10T14:00:00Z", "2024-04-10T15:00:00Z", [logs / GITHUB, logs / SAML], None
    )
    first.write_bytes(data)
    data, second_signature = digest(
        SECOND,
        "2024-04-10T15:00:00Z",
        "2024-04-10T16:00:00Z",
        [logs / LATE],
        (first, first_signature),
    )
    (digests / SECOND).write_bytes(data)
    # Beside the copy, what it lacks: the trail's public keys and the digests' S3 metadata
    # (as `aws s3api head-object` prints it).
    (tmp_path / "public-keys.json").write_text(json.dumps(public_keys_output(signing_key())))
    metadata = {
        digest_key(name): {
            "Metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA"}
        }
        for name, signature in ((FIRST, first_signature), (SECOND, second_signature))
    }
    (tmp_path / "signatures.json").write_text(json.dumps(metadata))
    return root


def logs_of(root: Path) -> Path:
    return root / PREFIX / "CloudTrail" / "us-east-1" / "2024" / "04" / "10"
