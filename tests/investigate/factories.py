"""Plausible stored events and identities for page tests that do not need the ingest path."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.identities.models import Identity, IdentityAlias
from forensics.ingest.models import (
    RESULT_FIELDS,
    STATUS_PENDING,
    Attribution,
    Event,
    IngestBatch,
    Source,
)

_seq = itertools.count(1)
T0 = datetime(2026, 3, 2, 9, 12, tzinfo=UTC)
ACCOUNT = "111122223333"


def source(name: str = "org-trail") -> Source:
    return Source.objects.get_or_create(name=name, defaults={"kind": "cloudtrail"})[0]


def batch(src: Source | None = None) -> IngestBatch:
    src = src or source()
    n = next(_seq)
    return IngestBatch.objects.create(
        source=src,
        via=IngestBatch.CLI,
        filename=f"trail-{n}.json",
        sha256=f"{n:064x}",
        size=1000,
        detected_format="cloudtrail",
        status=IngestBatch.DONE,
        finished_at=T0 + timedelta(hours=1),
    )


def identity(
    name: str = "alice@corp.example",
    kind: str = Identity.HUMAN,
    aliases: tuple[tuple[str, str], ...] = (),
    **fields: Any,
) -> Identity:
    ident = Identity.objects.create(name=name, kind=kind, **fields)
    for namespace, value in aliases or (("email", name),):
        IdentityAlias.objects.create(identity=ident, namespace=namespace, value=value)
    return ident


def event(**fields: Any) -> Event:
    """A CloudTrail-like S3 read; any field can be overridden."""
    n = next(_seq)
    when = fields.pop("event_time", T0 + timedelta(minutes=n))
    b = fields.pop("batch", None) or batch(fields.pop("source", None))
    record = fields.pop("record", None)
    values: dict[str, Any] = {
        "source": b.source,
        "batch": b,
        "dedupe_key": f"test:{n}",
        "source_kind": "cloudtrail",
        "source_event_id": f"0a1b2c3d-0000-4000-8000-{n:012d}",
        "event_time": when,
        "category": "data_access",
        "action": "s3.amazonaws.com:GetObject",
        "outcome": "success",
        "actor_principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/DataReader/alice",
        "actor_kind": "role_session",
        "actor_account": ACCOUNT,
        "credential_used": f"ASIAEXAMPLE{n:09d}",
        "request_id": f"REQ{n:013d}",
        "source_address": "198.51.100.7",
        "user_agent": "aws-cli/2.15.0",
        "resource": "s3://hr-payroll/2026/payroll.csv",
        "resource_type": "AWS::S3::Object",
        "personal_data": True,
        "position": f"Records[{n}]",
    }
    result = {k: fields.pop(k) for k in RESULT_FIELDS if k in fields}
    values.update(fields)
    raw = json.dumps(record or _record(values))
    values.update(raw=raw, raw_sha256=hashlib.sha256(raw.encode()).hexdigest())
    created = Event.objects.create(**values)
    if result and result != {"status": STATUS_PENDING}:
        attribute(created, **result)
    return Event.objects.get(pk=created.pk)


def attribute(event: Event, **result: Any) -> Attribution:
    """Store an attribution for ``event``, as correlation would (pending when no status)."""
    result.setdefault("correlated_at", event.event_time + timedelta(hours=2))
    found, _ = Attribution.objects.update_or_create(
        event_id=event.pk, defaults={"event_time": event.event_time, **result}
    )
    return found


def _record(v: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record agreeing with the normalized fields."""
    service, _, name = str(v["action"]).rpartition(":")
    return {
        "eventVersion": "1.10",
        "eventTime": v["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": service,
        "eventName": name,
        "eventID": v["source_event_id"],
        "requestID": v["request_id"],
        "sourceIPAddress": v["source_address"],
        "userAgent": v["user_agent"],
        "userIdentity": {
            "type": "AssumedRole",
            "arn": v["actor_principal"],
            "accessKeyId": v["credential_used"],
        },
        "recipientAccountId": ACCOUNT,
    }


def saml_chain(origin: Identity, **access_fields: Any) -> tuple[Event, Event, Event]:
    """alice signs in through SAML as AdminRole, assumes DataReader, reads payroll."""
    saml = event(
        category="credential_issue",
        action="sts.amazonaws.com:AssumeRoleWithSAML",
        actor_principal=origin.name,
        actor_kind="federated_session",
        personal_data=False,
        resource="",
        credential_used="",
        credential_issued="ASIAADMINEXAMPLE0001",
        issued_principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/AdminRole/alice",
        issue_method="saml-federation",
        event_time=T0,
        status="attributed",
        origin=origin,
    )
    assume = event(
        category="credential_issue",
        action="sts.amazonaws.com:AssumeRole",
        actor_principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/AdminRole/alice",
        credential_used="ASIAADMINEXAMPLE0001",
        credential_issued="ASIAREADEREXAMPLE001",
        issued_principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/DataReader/alice",
        issue_method="assume-role",
        personal_data=False,
        resource="",
        event_time=T0 + timedelta(minutes=1),
        status="attributed",
        origin=origin,
    )
    hops = [
        {
            "principal": f"arn:aws:iam::{ACCOUNT}:role/AdminRole",
            "credential": "ASIAADMINEXAMPLE0001",
            "method": "saml-federation",
            "evidence": "exact",
            "via_event": str(saml.pk),
        },
        {
            "principal": f"arn:aws:iam::{ACCOUNT}:role/DataReader",
            "credential": "ASIAREADEREXAMPLE001",
            "method": "assume-role",
            "evidence": "exact",
            "via_event": str(assume.pk),
        },
    ]
    values: dict[str, Any] = {
        "credential_used": "ASIAREADEREXAMPLE001",
        "event_time": T0 + timedelta(minutes=3),
        "status": "attributed",
        "origin": origin,
        "hops": hops,
        "evidence": "exact",
        "chain_label": f"{origin.name} → saml-federation → AdminRole → assume-role → DataReader",
    }
    values.update(access_fields)
    return saml, assume, event(**values)
