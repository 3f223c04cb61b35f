"""Builders of NormalizedEvents with the field and attrs values the parsers produce."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.engine.correlation import Directory, EngineEvent, MemoryIndex, attribute_all
from forensics.engine.correlation.attribution import Attribution
from forensics.engine.model import (
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    OTHER,
    NormalizedEvent,
)
from forensics.engine.parsers.common import iso

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
GRACE = timedelta(hours=2)
LATER = T0 + timedelta(days=2)  # well past the grace period of every event built here


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def event_id(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def wrap(key: str, event: NormalizedEvent) -> EngineEvent:
    return EngineEvent(key, event)


# --- AWS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """An STS role session: what AssumeRole* hands out and later records carry."""

    role: str
    name: str
    key: str
    role_id: str
    created: datetime
    account: str = ACCOUNT
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role}/{self.name}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.role}"

    @property
    def principal_id(self) -> str:
        return f"{self.role_id}:{self.name}"


def session_actor(s: Session, **extra: Any) -> dict[str, Any]:
    """NormalizedEvent fields of a record signed with a role session's key."""
    attrs = {
        "identity_type": "AssumedRole",
        "principal_id": s.principal_id,
        "session_issuer_arn": s.role_arn,
        "session_issuer_type": "Role",
        "session_issuer_principal_id": s.role_id,
        "session_created": iso(s.created),
    }
    attrs.update(extra.pop("attrs", {}))
    return {
        "actor_principal": s.arn,
        "actor_kind": "role_session",
        "actor_account": s.account,
        "credential_used": s.key,
        "session_name": s.name,
        "attrs": attrs,
        **extra,
    }


def iam_user_actor(name: str, key: str, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "actor_principal": f"arn:aws:iam::{account}:user/{name}",
        "actor_kind": "user",
        "actor_account": account,
        "credential_used": key,
        "attrs": {
            "identity_type": "IAMUser",
            "principal_id": "AIDA" + name.upper()[:12].ljust(12, "X"),
            "user_name": name,
        },
    }


def cloudtrail(
    key: str,
    at: datetime,
    action: str,
    actor: dict[str, Any],
    *,
    category: str = OTHER,
    resource: str = "",
    attrs: dict[str, Any] | None = None,
    **fields: Any,
) -> EngineEvent:
    merged = dict(actor.get("attrs", {}))
    service = action.split(":", 1)[0]
    merged["event_source"] = f"{service}.amazonaws.com"
    merged.update(attrs or {})
    values = {k: v for k, v in actor.items() if k != "attrs"}
    values.update(fields)
    return wrap(
        key,
        NormalizedEvent(
            source_kind="cloudtrail",
            source_event_id=event_id(key),
            event_time=at,
            category=category,
            action=action,
            outcome=values.pop("outcome", "success"),
            resource=resource,
            attrs=merged,
            **values,
        ),
    )


def issued_attrs(s: Session, method_attrs: dict[str, Any] | None = None) -> dict[str, Any]:
    attrs = {
        "role_arn": s.role_arn,
        "role_session_name": s.name,
        "assumed_role_id": s.principal_id,
        "credential_expiration": iso(s.created + timedelta(hours=1)),
    }
    attrs.update(method_attrs or {})
    return attrs


def assume_role(key: str, by: dict[str, Any], new: Session, **extra: Any) -> EngineEvent:
    """AssumeRole made with ``by``'s key, handing out ``new``."""
    attrs = issued_attrs(new, extra.pop("attrs", None))
    return cloudtrail(
        key,
        extra.pop("at", new.created),
        "sts:AssumeRole",
        by,
        category=CREDENTIAL_ISSUE,
        credential_issued=extra.pop("credential_issued", new.key),
        issued_principal=new.arn,
        issue_method="assume-role",
        attrs=attrs,
        resource=new.role_arn,
        **extra,
    )


def saml_login(key: str, new: Session, subject: str, issuer: str, **extra: Any) -> EngineEvent:
    attrs = issued_attrs(
        new,
        {
            "federation_subject": subject,
            "federation_subject_type": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            "federation_issuer": issuer,
            "federation_audience": "https://signin.aws.amazon.com/saml",
            **extra.pop("attrs", {}),
        },
    )
    attrs.pop("role_session_name")
    actor = {
        "actor_principal": f"Jl0mEXAMPLEhashd1iKaF0=:{subject}",
        "actor_kind": "federated_session",
        "actor_account": new.account,
        "attrs": {
            "identity_type": "SAMLUser",
            "principal_id": f"Jl0mEXAMPLEhashd1iKaF0=:{subject}",
            "user_name": subject,
            "identity_provider": "Jl0mEXAMPLEhashd1iKaF0=",
        },
    }
    return cloudtrail(
        key,
        new.created,
        "sts:AssumeRoleWithSAML",
        actor,
        category=CREDENTIAL_ISSUE,
        credential_issued=new.key,
        issued_principal=new.arn,
        issue_method="saml-federation",
        attrs=attrs,
        resource=new.role_arn,
        **extra,
    )


def web_identity_login(key: str, new: Session, subject: str, provider: str) -> EngineEvent:
    attrs = issued_attrs(
        new,
        {
            "federation_subject": subject,
            "federation_issuer": provider,
            "federation_audience": "sts.amazonaws.com",
        },
    )
    actor = {
        "actor_principal": f"{provider}:sts.amazonaws.com:{subject}",
        "actor_kind": "federated_session",
        "actor_account": new.account,
        "attrs": {
            "identity_type": "WebIdentityUser",
            "principal_id": f"{provider}:sts.amazonaws.com:{subject}",
            "user_name": subject,
            "identity_provider": provider,
        },
    }
    return cloudtrail(
        key,
        new.created,
        "sts:AssumeRoleWithWebIdentity",
        actor,
        category=CREDENTIAL_ISSUE,
        credential_issued=new.key,
        issued_principal=new.arn,
        issue_method="web-identity",
        attrs=attrs,
        resource=new.role_arn,
    )


def get_object(
    key: str, at: datetime, actor: dict[str, Any], obj: str, **extra: Any
) -> EngineEvent:
    return cloudtrail(
        key,
        at,
        "s3:GetObject",
        actor,
        category=DATA_ACCESS,
        resource=obj,
        resource_type="AWS::S3::Object",
        **extra,
    )


# --- running ---------------------------------------------------------------------------------


def run(
    events: list[EngineEvent],
    directory: Directory | None = None,
    *,
    now: datetime = LATER,
    grace: timedelta = GRACE,
) -> dict[str, Attribution]:
    """Attribute every event with all of them indexed; results by key."""
    index = MemoryIndex(events)
    results = attribute_all(events, index, directory or Directory(), now=now, grace=grace)
    return {a.event_key: a for a in results}


def evidence(attribution: Attribution) -> list[tuple[str, str, str]]:
    return [(h.method, h.evidence, h.via_event) for h in attribution.hops]


def aliases(attribution: Attribution) -> set[str]:
    assert attribution.origin is not None
    return {str(a) for a in attribution.origin.aliases}


def normalized(source_kind: str, key: str, at: datetime, **fields: Any) -> EngineEvent:
    """Any other producer's event, with the few required fields defaulted."""
    values: dict[str, Any] = {
        "source_kind": source_kind,
        "source_event_id": event_id(key),
        "event_time": at,
        "category": OTHER,
        "action": "",
        "outcome": "success",
        "actor_principal": "",
        "actor_kind": "unknown",
    }
    values.update(fields)
    return wrap(key, NormalizedEvent(**values))
