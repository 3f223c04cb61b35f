"""A copy of a trail's bucket with its digest files, for the trail integrity tests."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

ACCOUNT = "444455556666"
PREFIX = f"AWSLogs/{ACCOUNT}"
GITHUB = "111122223333_CloudTrail_us-east-1_20240410T1425Z_GhOidcEXAMPLE.json.gz"
SAML = f"{ACCOUNT}_CloudTrail_us-east-1_20240410T1430Z_SamlEXAMPLE.json.gz"
LATE = f"{ACCOUNT}_CloudTrail_us-east-1_20240410T1510Z_LateEXAMPLE.json.gz"
FIRST = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20240410T150000Z.json.gz"
SECOND = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20240410T160000Z.json.gz"


def content_hash(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def digest(name: str, start: str, end: str, logs: list[Path], previous: Path | None) -> bytes:
    body = {
        "awsAccountId": ACCOUNT,
        "digestStartTime": start,
        "digestEndTime": end,
        "digestS3Bucket": "amzn-s3-demo-bucket",
        "digestS3Object": f"{PREFIX}/CloudTrail-Digest/us-east-1/2024/04/10/{name}",
        "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": end,
        "oldestEventTime": start,
        "previousDigestS3Bucket": "amzn-s3-demo-bucket" if previous else None,
        "previousDigestS3Object": (
            f"{PREFIX}/CloudTrail-Digest/us-east-1/2024/04/10/{previous.name}" if previous else None
        ),
        "previousDigestHashValue": content_hash(previous) if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626" if previous else None,
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
    return gzip.compress(json.dumps(body).encode())


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
    first.write_bytes(
        digest(
            FIRST,
            "2024-04-10T14:00:00Z",
            "2024-04-10T15:00:00Z",
            [logs / GITHUB, logs / SAML],
            None,
        )
    )
    (digests / SECOND).write_bytes(
        digest(SECOND, "2024-04-10T15:00:00Z", "2024-04-10T16:00:00Z", [logs / LATE], first)
    )
    return root


def logs_of(root: Path) -> Path:
    return root / PREFIX / "CloudTrail" / "us-east-1" / "2024" / "04" / "10"
