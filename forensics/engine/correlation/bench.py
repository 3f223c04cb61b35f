"""A synthetic estate of many chain kinds, and a benchmark of correlating it.

The estate mixes what a real one holds: SAML and Identity Center people behind role chains,
CI and Kubernetes workloads on web identity, IAM user keys, federation tokens, instance
profiles, cross-account calls recorded twice, issuing calls that never arrived or arrived
without their key, GCP impersonation, Kubernetes impersonation, Okta sessions and Entra
tokens; most events are data reads made with the resulting credentials.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.engine.correlation.attribution import Alias
from forensics.engine.correlation.closure import close_over
from forensics.engine.correlation.directory import Directory, DirectoryIdentity
from forensics.engine.correlation.index import EngineEvent, MemoryIndex
from forensics.engine.correlation.resolve import attribute_all
from forensics.engine.model import (
    AUTHENTICATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    NormalizedEvent,
)
from forensics.engine.parsers.common import iso

START = datetime(2026, 1, 5, tzinfo=UTC)
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
SHARED_USER = "arn:aws:iam::111122223333:user/ops-shared"
SHARED_SA = "legacy-etl@analytics-example.iam.gserviceaccount.com"
SAML_ISSUER = "https://idp.example.com/saml2"


class _Estate:
    """Builds events story by story with fresh ids from one random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[EngineEvent] = []
        self.serial = 0

    def next_id(self, prefix: str, width: int = 16) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:0{width}d}"

    def when(self) -> datetime:
        return START + timedelta(seconds=self.rng.randrange(0, 7 * 86400))

    def add(self, source: str, at: datetime, **fields: Any) -> EngineEvent:
        key = self.next_id("ev-", 9)
        values: dict[str, Any] = {
            "source_kind": source,
            "source_event_id": key,
            "event_time": at,
            "category": DATA_ACCESS,
            "action": "",
            "outcome": "success",
            "actor_principal": "",
            "actor_kind": "unknown",
        }
        values.update(fields)
        item = EngineEvent(key, NormalizedEvent(**values))
        self.events.append(item)
        return item

    # --- AWS pieces -----------------------------------------------------------------------

    def session(self, account: str, role: str, name: str, at: datetime) -> dict[str, Any]:
        role_id = self.next_id("AROA")
        return {
            "account": account,
            "role": role,
            "name": name,
            "key": self.next_id("ASIA"),
            "role_id": role_id,
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{name}",
            "role_arn": f"arn:aws:iam::{account}:role/{role}",
            "principal_id": f"{role_id}:{name}",
            "created": at,
        }

    def session_actor(self, s: dict[str, Any], **attrs: Any) -> dict[str, Any]:
        return {
            "actor_principal": s["arn"],
            "actor_kind": "role_session",
            "actor_account": s["account"],
            "credential_used": s["key"],
            "session_name": s["name"],
            "attrs": {
                "identity_type": "AssumedRole",
                "principal_id": s["principal_id"],
                "session_issuer_arn": s["role_arn"],
                "session_issuer_type": "Role",
                "session_created": iso(s["created"]),
                **attrs,
            },
        }

    def issue(
        self, actor: dict[str, Any], s: dict[str, Any], action: str, method: str, **attrs: Any
    ) -> None:
        issued = attrs.pop("credential_issued", s["key"])
        merged = dict(actor.get("attrs", {}))
        merged.update(
            {
                "event_source": "sts.amazonaws.com",
                "role_arn": s["role_arn"],
                "assumed_role_id": s["principal_id"],
                "credential_expiration": iso(s["created"] + timedelta(hours=1)),
                **attrs,
            }
        )
        fields = {k: v for k, v in actor.items() if k != "attrs"}
        self.add(
            "cloudtrail",
            s["created"],
            category=CREDENTIAL_ISSUE,
            action=f"sts:{action}",
            credential_issued=issued,
            issued_principal=s["arn"],
            issue_method=method,
            attrs=merged,
            **fields,
        )

    def reads(self, actor: dict[str, Any], after: datetime, count: int) -> None:
        fields = {k: v for k, v in actor.items() if k != "attrs"}
        attrs = {"event_source": "s3.amazonaws.com", **actor.get("attrs", {})}
        for _ in range(count):
            at = after + timedelta(seconds=self.rng.randrange(1, 3000))
            obj = f"s3://customer-pii-example/records/{self.rng.randrange(100000)}.json"
            self.add("cloudtrail", at, action="s3:GetObject", resource=obj, attrs=attrs, **fields)

    def count(self) -> int:
        return self.rng.randint(3, 20)


def _saml_chain(e: _Estate) -> None:
    at = e.when()
    person = f"user{e.rng.randrange(400)}@example.com"
    entry = e.session(ACCOUNTS[0], "SSOEntry", person, at)
    saml_actor = {
        "actor_principal": f"EXAMPLEhash=:{person}",
        "actor_kind": "federated_session",
        "attrs": {"identity_type": "SAMLUser", "user_name": person},
    }
    e.issue(
        saml_actor,
        entry,
        "AssumeRoleWithSAML",
        "saml-federation",
        federation_subject=person,
        federation_issuer=SAML_ISSUER,
    )
    last = entry
    for depth in range(e.rng.randint(0, 2)):
        later = last["created"] + timedelta(minutes=1)
        account = ACCOUNTS[(depth + 1) % len(ACCOUNTS)]
        nxt = e.session(account, f"Data{depth}", person.split("@")[0], later)
        e.issue(
            e.session_actor(last), nxt, "AssumeRole", "assume-role", role_session_name=nxt["name"]
        )
        last = nxt
    e.reads(e.session_actor(last), last["created"], e.count())


def _web_identity(e: _Estate) -> None:
    at = e.when()
    if e.rng.random() < 0.5:
        issuer = "token.actions.githubusercontent.com"
        subject = f"repo:example-org/app{e.rng.randrange(30)}:ref:refs/heads/main"
    else:
        issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789"
        subject = f"system:serviceaccount:apps:worker{e.rng.randrange(30)}"
    s = e.session(ACCOUNTS[1], "ci-deploy", f"run-{e.serial}", at)
    actor = {
        "actor_principal": f"{issuer}:sts.amazonaws.com:{subject}",
        "actor_kind": "federated_session",
        "attrs": {"identity_type": "WebIdentityUser", "user_name": subject},
    }
    e.issue(
        actor,
        s,
        "AssumeRoleWithWebIdentity",
        "web-identity",
        federation_subject=subject,
        federation_issuer=issuer,
    )
    e.reads(e.session_actor(s), at, e.count())


def _iam_user(e: _Estate) -> None:
    at = e.when()
    arn = (
        SHARED_USER
        if e.rng.random() < 0.3
        else f"arn:aws:iam::{ACCOUNTS[0]}:user/u{e.rng.randrange(50)}"
    )
    user = {
        "actor_principal": arn,
        "actor_kind": "user",
        "credential_used": e.next_id("AKIA"),
        "attrs": {"identity_type": "IAMUser"},
    }
    roll = e.rng.random()
    if roll < 0.34:
        e.reads(user, at, e.count())
        return
    if roll < 0.67:
        # GetSessionToken: the temporary key keeps the user's own identity.
        key = e.next_id("ASIA")
        if e.rng.random() < 0.7:
            e.add(
                "cloudtrail",
                at,
                category=CREDENTIAL_ISSUE,
                action="sts:GetSessionToken",
                credential_issued=key,
                issued_principal=arn,
                issue_method="session-token",
                actor_principal=arn,
                actor_kind="user",
                credential_used=user["credential_used"],
                attrs={"identity_type": "IAMUser"},
            )
        e.reads({**user, "credential_used": key}, at, e.count())
        return
    fed = f"arn:aws:sts::{ACCOUNTS[0]}:federated-user/report{e.serial}"
    key = e.next_id("ASIA")
    e.add(
        "cloudtrail",
        at,
        category=CREDENTIAL_ISSUE,
        action="sts:GetFederationToken",
        credential_issued=key,
        issued_principal=fed,
        issue_method="federation-token",
        actor_principal=arn,
        actor_kind="user",
        credential_used=user["credential_used"],
        attrs={"identity_type": "IAMUser", "federated_user_arn": fed},
    )
    federated = {
        "actor_principal": fed,
        "actor_kind": "federated_session",
        "credential_used": key,
        "attrs": {
            "identity_type": "FederatedUser",
            "session_issuer_arn": arn,
            "session_issuer_type": "IAMUser",
            "session_created": iso(at),
        },
    }
    e.reads(federated, at, e.count())


def _gaps(e: _Estate) -> None:
    # A role session whose issuing call never arrived, or arrived without its key.
    at = e.when()
    s = e.session(ACCOUNTS[2], "Analyst", f"analyst{e.rng.randrange(40)}", at)
    keyless = e.rng.choice((0, 1, 1, 2))  # issuing calls recorded without their key
    for _ in range(keyless):
        user = {
            "actor_principal": f"arn:aws:iam::{ACCOUNTS[2]}:user/a{e.serial}",
            "actor_kind": "user",
            "credential_used": e.next_id("AKIA"),
            "attrs": {"identity_type": "IAMUser"},
        }
        e.issue(user, s, "AssumeRole", "assume-role", credential_issued="")
    e.reads(e.session_actor(s), at, e.count())


def _compute(e: _Estate) -> None:
    at = e.when()
    instance = f"i-0{e.rng.randrange(16**16):016x}"
    s = e.session(ACCOUNTS[0], "web-server", instance, at)
    ec2 = {
        "actor_principal": "ec2.amazonaws.com",
        "actor_kind": "service",
        "attrs": {"identity_type": "AWSService", "invoked_by": "ec2.amazonaws.com"},
    }
    e.issue(ec2, s, "AssumeRole", "assume-role")
    e.reads(e.session_actor(s, ec2_role_delivery="2.0"), at, e.count())


def _cross_account(e: _Estate) -> None:
    at = e.when()
    caller = f"arn:aws:iam::{ACCOUNTS[0]}:user/auditor{e.rng.randrange(10)}"
    key = e.next_id("AKIA")
    s = e.session(ACCOUNTS[1], "Auditor", f"audit{e.serial}", at)
    shared = e.next_id("shared-")
    user = {
        "actor_principal": caller,
        "actor_kind": "user",
        "credential_used": key,
        "attrs": {"identity_type": "IAMUser"},
    }
    other = {
        "actor_principal": "AIDAEXAMPLE",
        "actor_kind": "unknown",
        "attrs": {"identity_type": "AWSAccount"},
    }
    if e.rng.random() < 0.8:
        e.issue(user, s, "AssumeRole", "assume-role", shared_event_id=shared)
    e.issue(other, s, "AssumeRole", "assume-role", shared_event_id=shared)
    e.reads(e.session_actor(s), at, e.count())


def _identity_center(e: _Estate) -> None:
    at = e.when()
    s = e.session(ACCOUNTS[0], "QAppRole", "q-app", at)
    user_id = f"9448{e.rng.randrange(10**8):08d}-3041-7026-18f3-be45837cd0e4"
    e.reads(e.session_actor(s, on_behalf_of_user_id=user_id), at, e.count())


def _gcp(e: _Estate) -> None:
    at = e.when()
    reader = "pii-reader@analytics-example.iam.gserviceaccount.com"
    attrs: dict[str, Any] = {"event_source": "storage.googleapis.com"}
    principal = reader
    if e.rng.random() < 0.6:
        attrs["delegation_chain"] = [
            f"user{e.rng.randrange(400)}@example.com",
            "etl-loader@analytics-example.iam.gserviceaccount.com",
        ]
    else:
        principal = SHARED_SA
        attrs["service_account_key_name"] = (
            f"projects/analytics-example/serviceAccounts/{SHARED_SA}/keys/0a1b"
        )
    for _ in range(e.count()):
        e.add(
            "gcp_audit",
            at + timedelta(seconds=e.rng.randrange(3000)),
            action="storage.objects.get",
            actor_principal=principal,
            actor_kind="service_account",
            resource=f"gs://crm-exports-example/{e.rng.randrange(10000)}.csv",
            attrs=attrs,
        )


def _k8s(e: _Estate) -> None:
    at = e.when()
    if e.rng.random() < 0.3:
        _eks(e, at)
        return
    user = f"dev{e.rng.randrange(60)}@example.com"
    for _ in range(e.count()):
        attrs: dict[str, Any] = {"verb": "get"}
        principal = user
        kind = "user"
        if e.rng.random() < 0.5:
            attrs["impersonated_user"] = "system:serviceaccount:payments:deployer"
        else:
            principal, kind = "system:serviceaccount:payments:card-sync", "service_account"
            attrs["pod_name"] = "card-sync-7d9f8b6c5-x2x7q"
        e.add(
            "k8s_audit",
            at + timedelta(seconds=e.rng.randrange(3000)),
            action="get secrets",
            actor_principal=principal,
            actor_kind=kind,
            resource="k8s://payments/secrets/card-vault",
            attrs=attrs,
        )


def _eks(e: _Estate, at: datetime) -> None:
    arn = f"arn:aws:iam::{ACCOUNTS[0]}:user/k8s-admin{e.rng.randrange(20)}"
    user = {
        "actor_principal": arn,
        "actor_kind": "user",
        "credential_used": e.next_id("AKIA"),
        "attrs": {"identity_type": "IAMUser"},
    }
    s = e.session(ACCOUNTS[0], "eks-admins", f"admin{e.serial}", at)
    if e.rng.random() < 0.7:
        e.issue(user, s, "AssumeRole", "assume-role")
    for _ in range(e.count()):
        e.add(
            "k8s_audit",
            at + timedelta(seconds=e.rng.randrange(1, 3000)),
            action="get secrets",
            actor_principal="kubernetes-admin",
            actor_kind="user",
            resource="k8s://payments/secrets/card-vault",
            attrs={
                "eks_arn": s["arn"],
                "eks_canonical_arn": s["role_arn"],
                "eks_session_name": s["name"],
                "eks_principal_id": s["principal_id"],
                "eks_access_key_id": s["key"],
            },
        )


def _okta(e: _Estate) -> None:
    at = e.when()
    session = e.next_id("102okta")
    user_id = f"00u{e.rng.randrange(10**6):06d}EXAMPLE"
    login = f"user{e.rng.randrange(400)}@example.com"
    user = {
        "actor_principal": login,
        "actor_kind": "user",
        "attrs": {"actor_id": user_id, "actor_type": "User"},
    }
    app = {
        "actor_principal": "crm-example",
        "actor_kind": "service_principal",
        "attrs": {"actor_id": "0oaEXAMPLEclient", "actor_type": "PublicClientApp"},
    }
    if e.rng.random() < 0.8:
        e.add(
            "okta",
            at,
            category=AUTHENTICATION,
            action="user.session.start",
            credential_used=session,
            correlation_id=session,
            **user,
        )
    for _ in range(e.count()):
        by_app = e.rng.random() < 0.6
        e.add(
            "okta",
            at + timedelta(seconds=e.rng.randrange(1, 3000)),
            category=CREDENTIAL_ISSUE if by_app else AUTHENTICATION,
            action="app.oauth2.as.token.grant" if by_app else "user.authentication.sso",
            credential_used=session,
            correlation_id=session,
            **(app if by_app else user),
        )


def _entra(e: _Estate) -> None:
    at = e.when()
    token = e.next_id("uti-")
    user_id = f"4f1e0a9c-2b3d-4c5e-8f70-{e.rng.randrange(10**12):012d}"
    upn = f"user{e.rng.randrange(400)}@example.com"
    if e.rng.random() < 0.8:
        e.add(
            "entra",
            at,
            category=AUTHENTICATION,
            action="Sign-in activity",
            actor_principal=upn,
            actor_kind="user",
            credential_issued=token,
            issued_principal=upn,
            issue_method="sign-in",
            attrs={"sign_in_kind": "interactive", "user_id": user_id},
        )
    for _ in range(e.count()):
        e.add(
            "azure_activity",
            at + timedelta(seconds=e.rng.randrange(3000)),
            action="Microsoft.Storage/storageAccounts/listKeys/action",
            actor_principal=upn,
            actor_kind="user",
            credential_used=token,
            attrs={"caller_object_id": user_id},
        )


_STORIES: tuple[tuple[Callable[[_Estate], None], int], ...] = (
    (_saml_chain, 6),
    (_web_identity, 4),
    (_iam_user, 3),
    (_gaps, 2),
    (_compute, 2),
    (_cross_account, 1),
    (_identity_center, 1),
    (_gcp, 2),
    (_k8s, 2),
    (_okta, 2),
    (_entra, 2),
)


def synthetic_estate(n: int, seed: int = 0) -> list[EngineEvent]:
    """About ``n`` events (never more) from stories of every chain kind, reproducible by seed."""
    estate = _Estate(seed)
    stories = [story for story, weight in _STORIES for _ in range(weight)]
    while len(estate.events) < n:
        estate.rng.choice(stories)(estate)
    return estate.events[:n]


def estate_directory() -> Directory:
    """The directory the synthetic estate assumes: its shared accounts."""
    return Directory(
        [
            DirectoryIdentity(
                "shared-ops",
                "human",
                "ops shared login",
                True,
                "",
                (Alias("aws_iam_user", SHARED_USER),),
            ),
            DirectoryIdentity(
                "shared-etl",
                "workload",
                "legacy ETL",
                True,
                "data-platform",
                (Alias("gcp_service_account", SHARED_SA),),
            ),
        ]
    )


def bench_correlation(n: int, seed: int = 0, batch: int = 5000) -> float:
    """Events per second for correlating ``n`` synthetic events the way the service does:
    per arriving batch, close over the store and attribute the batch."""
    events = synthetic_estate(n, seed)
    store = MemoryIndex(events)
    directory = estate_directory()
    now = START + timedelta(days=30)
    grace = timedelta(hours=6)
    started = time.perf_counter()
    for first in range(0, len(events), batch):
        part = events[first : first + batch]
        index = MemoryIndex(part)
        close_over(index, store.fetch)
        attribute_all(part, index, directory, now=now, grace=grace)
    elapsed = time.perf_counter() - started
    return len(events) / elapsed if elapsed > 0 else float("inf")
