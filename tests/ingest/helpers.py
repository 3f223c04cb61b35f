"""Small CloudTrail records for ingest tests (the parser's own samples cover the format),
and the files and counts the tests write and read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def ct_record(n: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEUSER00001",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEKEY000001",
            "userName": "alice",
        },
        "eventTime": f"2026-10-05T08:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.15.10",
        "requestParameters": {"bucketName": "hr-payroll", "key": f"2026/payroll-{n}.csv"},
        "responseElements": None,
        "requestID": f"REQ{n:08d}",
        "eventID": f"00000000-0000-4000-8000-{n:012d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "111122223333",
        "eventCategory": "Data",
    }
    record.update(overrides)
    return record


def records_file(records: list[Any]) -> bytes:
    return json.dumps({"Records": records}).encode()


def jsonl(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def jsonl_file(folder: Path, name: str, *records: Any) -> Path:
    """A JSON Lines file of ``records`` in ``folder``."""
    path = folder / name
    path.write_bytes(jsonl(list(records)))
    return path


def counts(batch: Any) -> tuple[int, int, int, int]:
    """A batch's received, stored, duplicates and quarantined."""
    return batch.received, batch.stored, batch.duplicates, batch.quarantined
