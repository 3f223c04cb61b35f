"""The AWS principal a record says acted, read the same way from CloudTrail, OCSF and EKS."""

from __future__ import annotations

from forensics.engine.correlation.facts import attr, clean
from forensics.engine.correlation.index import EngineEvent
from forensics.engine.model import NormalizedEvent
from forensics.engine.values import record_type

_TYPES = {
    "iamuser": "IAMUser",
    "root": "Root",
    "assumedrole": "AssumedRole",
    "role": "Role",
    "federateduser": "FederatedUser",
    "samluser": "SAMLUser",
    "webidentityuser": "WebIdentityUser",
    "identitycenteruser": "IdentityCenterUser",
    "awsservice": "AWSService",
    "awsaccount": "AWSAccount",
    "directory": "Unknown",
    "unknown": "Unknown",
}
_TYPES_BY_KIND = {
    "user": "IAMUser",
    "root": "Root",
    "role_session": "AssumedRole",
    "federated_session": "FederatedUser",
    "identity_center_user": "IdentityCenterUser",
    "service": "AWSService",
}


@record_type
class AwsActor:
    """The AWS principal a record says acted, however the record is shaped."""

    item: EngineEvent  # the record that names the actor: hops it asserts point at it
    identity_type: str
    arn: str
    credential: str
    principal_id: str
    session_issuer_arn: str
    session_issuer_type: str
    session_name: str
    session_created: str

    @property
    def holder(self) -> str:
        """How hops name this actor: its ARN, else its principal id."""
        return self.arn or self.principal_id or clean(self.item.event.actor_principal)


def actor_of(item: EngineEvent) -> AwsActor:
    """The actor of a CloudTrail record, or of an OCSF record of an AWS call."""
    ev = item.event
    get = ev.attrs.get  # read directly: this runs for every AWS record
    principal = clean(ev.actor_principal)
    arn = principal if principal.startswith("arn:") else ""
    if not arn:
        actor_id = clean(get("actor_id"))
        arn = actor_id if actor_id.startswith("arn:") else ""
    principal_id = clean(get("principal_id"))
    itype = _TYPES.get(clean(get("identity_type")).lower(), "")
    if not itype:
        itype = _type_from_arn(arn) or _TYPES_BY_KIND.get(ev.actor_kind, "Unknown")
    return AwsActor(
        item,
        itype,
        arn,
        clean(ev.credential_used),
        principal_id,
        clean(get("session_issuer_arn")) or clean(get("session_issuer")),
        clean(get("session_issuer_type")),
        _session_name(arn, principal_id, itype) or clean(ev.session_name),
        clean(get("session_created")),
    )


def eks_actor(item: EngineEvent) -> AwsActor | None:
    """The IAM principal EKS mapped to a Kubernetes user, from the audit record's extra."""
    ev = item.event
    arn = attr(ev, "eks_arn")
    key = attr(ev, "eks_access_key_id")
    if not arn and not key:
        return None
    principal_id = attr(ev, "eks_principal_id")
    itype = _type_from_arn(arn) or "Unknown"
    return AwsActor(
        item=item,
        identity_type=itype,
        arn=arn,
        credential=key,
        principal_id=principal_id,
        session_issuer_arn=attr(ev, "eks_canonical_arn"),
        session_issuer_type="Role" if itype == "AssumedRole" else "",
        session_name=attr(ev, "eks_session_name") or _session_name(arn, principal_id, itype),
        session_created="",
    )


def is_aws_shaped(ev: NormalizedEvent) -> bool:
    """True when an OCSF record describes an AWS principal (AWS user type, role issuer or ARN)."""
    if attr(ev, "identity_type").lower() in _TYPES:
        return True
    issuer = attr(ev, "session_issuer")
    if ":role/" in issuer or ":assumed-role/" in issuer or ":user/" in issuer:
        return True
    return clean(ev.actor_principal).startswith("arn:aws")


def _type_from_arn(arn: str) -> str:
    if ":assumed-role/" in arn:
        return "AssumedRole"
    if ":federated-user/" in arn:
        return "FederatedUser"
    if ":user/" in arn:
        return "IAMUser"
    if arn.startswith("arn:") and arn.endswith(":root"):
        return "Root"
    return ""


def _session_name(arn: str, principal_id: str, itype: str) -> str:
    if ":assumed-role/" in arn or ":federated-user/" in arn:
        return arn.rsplit("/", 1)[-1]
    if itype == "AssumedRole" and ":" in principal_id:
        return principal_id.split(":", 1)[1]
    return ""
