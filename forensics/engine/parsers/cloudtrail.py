"""AWS CloudTrail records: trail files, CloudTrail Lake rows and EventBridge deliveries.

Attribution in AWS rests on two things CloudTrail records: ``userIdentity`` (who signed the
request, with which access key, and how that session was obtained) and the credential-issuing
calls whose ``responseElements`` name the new access key that later requests are signed with.
This module reads both as the record carries them and never fills a gap with a guess.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import field
from typing import Any

import orjson

from forensics.engine.model import (
    AUTHENTICATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers import cloudtrail_calls as calls
from forensics.engine.parsers.cloudtrail_fields import (
    _account,
    _bool_text,
    _clean,
    _dict,
    _event_time,
    _expiration,
    _obj,
    _put,
    _str,
    _text,
    _time_text,
    _truth,
    _yes_no,
)
from forensics.engine.parsers.common import (
    opt_dict,
    opt_str,
    req_str,
)
from forensics.engine.values import record_type

_SERVICE_SUFFIXES = (".amazonaws.com.cn", ".amazonaws.com", ".api.aws")
_ANONYMOUS = {"anonymous", "anonymous_principal"}
_EVENTBRIDGE_SUFFIX = "via CloudTrail"
# Event history exports and LookupEvents carry the record as a JSON string under these keys.
_EMBEDDED_KEYS = ("eventJson", "CloudTrailEvent")

# Lambda records versioned operation names, e.g. "AddPermission20150331v2".
_API_VERSION_SUFFIX = re.compile(r"\d{8}(v\d+)?$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@record_type
class _Actor:
    principal: str
    kind: str
    account: str
    credential: str
    session_name: str
    source_identity: str
    mfa: bool | None
    partition: str
    attrs: dict[str, Any] = field(default_factory=dict)


@record_type
class _Issue:
    method: str
    credential: str = ""
    principal: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


class CloudTrailParser:
    """Normalizes one CloudTrail record, however it was delivered."""

    kind = "cloudtrail"
    label = "AWS CloudTrail"

    def sniff(self, record: dict[str, Any]) -> bool:
        """True for a CloudTrail event, an EventBridge CloudTrail envelope or a Lake row."""
        if not isinstance(record, dict):
            return False
        if _is_eventbridge(record):
            return True
        try:
            event, _prefix = unwrap(record)
        except RecordError:
            return False
        return _looks_like_event(event)

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one record; RecordError names the field when it cannot be."""
        event, prefix = unwrap(record)
        try:
            return _normalize(event)
        except RecordError as exc:
            if not prefix:
                raise
            raise RecordError(str(exc).replace("field '", f"field '{prefix}", 1)) from exc


PARSER = CloudTrailParser()


def unwrap(record: Any) -> tuple[dict[str, Any], str]:
    """The CloudTrail event inside a delivery, and the path prefix it sits under ("" if none)."""
    if not isinstance(record, dict):
        raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
    if _is_eventbridge(record):
        detail = opt_dict(record, "detail")
        if not detail:
            raise RecordError("required field 'detail' is missing or empty")
        return detail, "detail."
    for key in _EMBEDDED_KEYS:
        if key in record and not _looks_like_event(record):
            return _embedded(record, key), f"{key}."
    return record, ""


def _embedded(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record[key]
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"field '{key}' is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise RecordError(f"field '{key}' should hold a JSON object, found {type(value).__name__}")
    return value


def _is_eventbridge(record: dict[str, Any]) -> bool:
    detail_type = record.get("detail-type")
    return (
        isinstance(detail_type, str)
        and detail_type.endswith(_EVENTBRIDGE_SUFFIX)
        and "detail" in record
    )


def _looks_like_event(record: dict[str, Any]) -> bool:
    source, name = record.get("eventSource"), record.get("eventName")
    if not (isinstance(source, str) and source and isinstance(name, str) and name):
        return _is_insight(record)
    return "eventVersion" in record or (
        isinstance(record.get("userIdentity"), dict) and "eventTime" in record
    )


def _normalize(ev: dict[str, Any]) -> NormalizedEvent:
    # The order of reads is part of the output: when several fields are malformed, the error
    # names the first one read.
    if ev.get("eventType") == _INSIGHT:
        return _insight(ev)
    event_time = _event_time(ev.get("eventTime"))
    source = req_str(ev, "eventSource")
    name = req_str(ev, "eventName")
    service = service_name(source)
    actor = _actor(ev)
    error_code = _str(ev, "errorCode")
    # Beside an error code the message does not decide the outcome; it is read with the attrs.
    error_message = "" if error_code else _str(ev, "errorMessage")
    outcome = _outcome(ev, service, name, bool(error_code or error_message))
    method = calls.ISSUING.get((service, name), "")
    request = _obj(ev, "requestParameters")
    issue = _issue(ev, service, name, method, actor, outcome, request) if method else None
    resource, resource_type = _resource(ev, service, name, actor, request)
    copied = _s3_copy_source(request) if service == "s3" else None

    attrs: dict[str, Any] = {"event_source": source, **actor.attrs}
    _put(attrs, "shared_event_id", _str(ev, "sharedEventID"))
    recipient = _account(ev, "recipientAccountId")
    _put(attrs, "recipient_account_id", recipient)
    _put(attrs, "error_code", error_code)
    if copied is not None:
        # CopyObject and UploadPartCopy read the object named in x-amz-copy-source: that
        # read is the access; the object written is kept beside it.
        _put(attrs, "copy_destination", resource)
        _put(attrs, "copy_source_version_id", copied[1])
        resource, resource_type = copied[0], "AWS::S3::Object"
    _put(attrs, "error_message", _str(ev, "errorMessage") if error_code else error_message)
    if issue is not None:
        attrs.update(issue.attrs)
    elif name == "CreateAccessKey":
        # A long-lived key, for the user the request names: its later uses carry its id.
        key = _obj(_obj(ev, "responseElements"), "accessKey")
        _put(attrs, "created_key_id", _clean(_text(key, "accessKeyId")))
    network = _str(ev, "eventCategory").lower() == _NETWORK_ACTIVITY
    if network:
        # What a VPC endpoint let through (or refused) on its way to the service, logged
        # apart from the call's own management or data event: "success" is the endpoint
        # policy's answer, not the service's, so it is not counted as the access itself.
        _put(attrs, "event_category", _str(ev, "eventCategory"))
        _put(attrs, "event_type", _str(ev, "eventType"))
        _put(attrs, "vpc_endpoint_id", _str(ev, "vpcEndpointId"))
        _put(attrs, "vpc_endpoint_account_id", _account(ev, "vpcEndpointAccountId"))

    mfa = actor.mfa
    if service in calls.SIGNIN_SERVICES:
        more = _obj(ev, "additionalEventData")
        if mfa is None:
            mfa = _yes_no(_text(more, "MFAUsed"))
        # The user name a sign-in was tried with: a failed one's caller may be unnamed.
        _put(attrs, "signin_user_name", _clean(_text(more, "UserName")))
        _put(attrs, "credential_type", _text(more, "CredentialType"))
    return NormalizedEvent(
        source_kind=PARSER.kind,
        source_event_id=_str(ev, "eventID"),
        event_time=event_time,
        category=OTHER if network else _category(ev, service, name, issue),
        action=f"{service}:{name}",
        outcome=outcome,
        actor_principal=actor.principal,
        actor_kind=actor.kind,
        actor_account=actor.account or recipient,
        credential_used=actor.credential,
        credential_issued=issue.credential if issue else "",
        issued_principal=issue.principal if issue else "",
        issue_method=issue.method if issue else "",
        session_name=actor.session_name,
        # The caller's own session's: a source identity an issuing call sets is the new
        # session's (kept as requested_source_identity), not a claim about the caller.
        source_identity=actor.source_identity,
        request_id=_str(ev, "requestID"),
        correlation_id="",
        source_address=_str(ev, "sourceIPAddress"),
        user_agent=_str(ev, "userAgent"),
        resource=resource,
        resource_type=resource_type,
        mfa=mfa,
        attrs=attrs,
    )


_NETWORK_ACTIVITY = "networkactivity"


def not_a_log(record: Any) -> str:
    """Why a file whose first record this is holds no events, for files a trail delivers
    beside its logs; "" when it is not one of those."""
    from forensics.engine.trail_digest import is_digest

    if is_digest(record):
        return (
            "a CloudTrail digest file (the hashes of the log files a trail delivered in one "
            "hour): it holds no events; check the log files against it with validate_trail"
        )
    return ""


# --- CloudTrail Insights ----------------------------------------------------------------

_INSIGHT = "AwsCloudTrailInsight"
_INSIGHTS_SERVICE = "cloudtrail.amazonaws.com"
_INSIGHT_DETAILS = "insightDetails."
_MAX_CONTRIBUTORS = 20


def _is_insight(record: dict[str, Any]) -> bool:
    """An Insights event, as a trail delivers it under CloudTrail-Insight/: no eventSource or
    userIdentity of its own, the API it concerns inside ``insightDetails``."""
    return (
        record.get("eventType") == _INSIGHT
        and isinstance(record.get("insightDetails"), dict)
        and "eventTime" in record
    )


def _insight(ev: dict[str, Any]) -> NormalizedEvent:
    """CloudTrail reporting an unusual rate of calls to one API, or of its errors.

    Nobody made the call the record stands for: CloudTrail itself wrote it, so CloudTrail is
    the actor. The API it concerns and the principals it names as contributing are kept as
    attributes, never as the actor, the resource or the credential, so an Insight neither
    counts as an access nor attributes one. Its start and end share ``sharedEventID``; that
    is kept as the insight's id, not as the cross-account twin id other events carry.
    """
    event_time = _event_time(ev.get("eventTime"))
    details = _obj(ev, "insightDetails")
    insight_type = _str(details, "insightType", _INSIGHT_DETAILS)
    recipient = _account(ev, "recipientAccountId")
    attrs: dict[str, Any] = {
        "event_source": _INSIGHTS_SERVICE,
        "identity_type": "AWSService",
        "invoked_by": _INSIGHTS_SERVICE,
    }
    _put(attrs, "insight_state", _str(details, "state", _INSIGHT_DETAILS))
    _put(attrs, "insight_event_source", _str(details, "eventSource", _INSIGHT_DETAILS))
    _put(attrs, "insight_event_name", _str(details, "eventName", _INSIGHT_DETAILS))
    _put(attrs, "insight_error_code", _str(details, "errorCode", _INSIGHT_DETAILS))
    _put(attrs, "insight_id", _str(ev, "sharedEventID"))
    _put(attrs, "recipient_account_id", recipient)
    _put(attrs, "event_category", _str(ev, "eventCategory"))
    context = _obj(details, "insightContext")
    statistics = _obj(context, "statistics")
    for key, value in (
        ("insight_baseline_average", _obj(statistics, "baseline").get("average")),
        ("insight_average", _obj(statistics, "insight").get("average")),
        ("insight_duration_minutes", statistics.get("insightDuration")),
        ("insight_baseline_duration_minutes", statistics.get("baselineDuration")),
    ):
        if isinstance(value, int | float) and not isinstance(value, bool):
            attrs[key] = f"{value:g}"
    contributors = _insight_contributors(context)
    if contributors:
        attrs["insight_principals"] = contributors
    return NormalizedEvent(
        source_kind=PARSER.kind,
        source_event_id=_str(ev, "eventID"),
        event_time=event_time,
        category=OTHER,
        action=f"cloudtrail:{insight_type or 'Insight'}",
        outcome="unknown",
        actor_principal=_INSIGHTS_SERVICE,
        actor_kind=calls.ACTOR_KINDS["AWSService"],
        actor_account=recipient,
        attrs=attrs,  # no credential, address or resource: nobody made a request
    )


def _insight_contributors(context: dict[str, Any]) -> list[str]:
    """The caller ARNs the Insight names as contributing to the unusual activity, in order."""
    found: list[str] = []
    attributions = context.get("attributions")
    for attribution in attributions if isinstance(attributions, list) else []:
        if not isinstance(attribution, dict) or attribution.get("attribute") != "userIdentityArn":
            continue
        values = attribution.get("insight")
        for entry in values if isinstance(values, list) else []:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, str) and value and value not in found:
                found.append(value)
    return found[:_MAX_CONTRIBUTORS]


def service_name(event_source: str) -> str:
    """The service part of an eventSource: "s3.amazonaws.com" -> "s3"."""
    for suffix in _SERVICE_SUFFIXES:
        if event_source.endswith(suffix):
            return event_source[: -len(suffix)]
    return event_source


# --- who acted -----------------------------------------------------------------------------

_UI = "userIdentity."
_SC = "userIdentity.sessionContext."
_ISSUER = "userIdentity.sessionContext.sessionIssuer."


def _actor(ev: dict[str, Any]) -> _Actor:
    ui = _dict(ev, "userIdentity")
    if not ui:
        return _Actor("", "unknown", "", "", "", "", None, "aws")
    itype = _str(ui, "type", _UI)
    arn = _clean(_str(ui, "arn", _UI))
    principal_id = _clean(_str(ui, "principalId", _UI))
    user_name = _clean(_str(ui, "userName", _UI))
    account = _account(ui, "accountId", _UI)
    invoked_by = _str(ui, "invokedBy", _UI)
    credential_id = _clean(_str(ui, "credentialId", _UI))
    access_key = _clean(_str(ui, "accessKeyId", _UI))
    on_behalf = ui.get("onBehalfOf")
    behalf_user = (
        _str(on_behalf, "userId", _UI + "onBehalfOf.") if isinstance(on_behalf, dict) else ""
    )

    # Unauthenticated requests (public S3 objects) are recorded as an AWSAccount with an
    # empty principalId and "anonymous" for the account.
    if itype == "AWSAccount" and (
        principal_id.lower() in _ANONYMOUS or account.lower() in _ANONYMOUS
    ):
        principal, kind, account = "anonymous", "anonymous", ""
    else:
        principal = arn or _fallback_principal(
            itype, principal_id, user_name, invoked_by, behalf_user
        )
        kind = calls.ACTOR_KINDS.get(itype) or _kind_from_arn(arn)
        if not principal and not itype and invoked_by:
            # A service event (AwsServiceEvent) may name nothing but the service that acted:
            # {"accountId": ..., "invokedBy": "AWS Internal"} for a KMS key rotation.
            principal, kind = invoked_by, "service"

    attrs: dict[str, Any] = {}
    _put(attrs, "identity_type", itype)
    _put(attrs, "principal_id", principal_id)
    _put(attrs, "user_name", user_name)
    _put(attrs, "identity_provider", _str(ui, "identityProvider", _UI))
    _put(attrs, "invoked_by", invoked_by)
    _put(attrs, "credential_id", credential_id)
    delegate = ui.get("invokedByDelegate")
    if isinstance(delegate, dict):
        _put(
            attrs,
            "invoked_by_delegate_account",
            _account(delegate, "accountId", _UI + "invokedByDelegate."),
        )
    behalf = _dict(ui, "onBehalfOf", _UI)
    if behalf:
        _put(attrs, "on_behalf_of_user_id", behalf_user)
        _put(
            attrs,
            "on_behalf_of_identity_store_arn",
            _str(behalf, "identityStoreArn", _UI + "onBehalfOf."),
        )
    scope = _dict(ui, "inScopeOf", _UI)
    if scope:
        prefix = _UI + "inScopeOf."
        _put(attrs, "in_scope_of_issued_to", _str(scope, "credentialsIssuedTo", prefix))
        _put(attrs, "in_scope_of_source_arn", _str(scope, "sourceArn", prefix))
        _put(attrs, "in_scope_of_issuer_type", _str(scope, "issuerType", prefix))
    mfa: bool | None = None
    source_identity = _str(ui, "sourceIdentity", _UI)
    issuer_arn = ""
    context = _dict(ui, "sessionContext", _UI)
    if context:
        mfa, source_identity, issuer_arn = _session_context(context, attrs, source_identity)

    return _Actor(
        principal=principal,
        kind=kind,
        account=account,
        credential=access_key or credential_id,
        session_name=_session_name(arn),
        source_identity=source_identity,
        mfa=mfa,
        partition=_partition(arn) or _partition(issuer_arn),
        attrs=attrs,
    )


def _session_context(
    context: dict[str, Any], attrs: dict[str, Any], source_identity: str
) -> tuple[bool | None, str, str]:
    """Fill the sessionContext attrs; return (mfa, source identity, session issuer ARN)."""
    issuer = _dict(context, "sessionIssuer", _SC)
    issuer_arn = ""
    if issuer:
        issuer_arn = _str(issuer, "arn", _ISSUER)
        _put(attrs, "session_issuer_arn", issuer_arn)
        _put(attrs, "session_issuer_type", _str(issuer, "type", _ISSUER))
        _put(attrs, "session_issuer_principal_id", _str(issuer, "principalId", _ISSUER))
    session = context.get("attributes")
    if not isinstance(session, dict):
        session = {}
    _put(attrs, "session_created", _time_text(session.get("creationDate")))
    web = context.get("webIdFederationData")
    if isinstance(web, dict):
        _put(attrs, "web_id_federation_provider", _text(web, "federatedProvider"))
    _put(attrs, "ec2_role_delivery", _str(context, "ec2RoleDelivery", _SC))
    _put(attrs, "assumed_root", _bool_text(context.get("assumedRoot")))
    _put(attrs, "sign_in_session_arn", _str(context, "signInSessionArn", _SC))
    mfa = _truth(session.get("mfaAuthenticated"))
    return mfa, _str(context, "sourceIdentity", _SC) or source_identity, issuer_arn


def _fallback_principal(
    itype: str, principal_id: str, user_name: str, invoked_by: str, behalf_user: str
) -> str:
    """The most specific recorded name when userIdentity has no ARN."""
    if itype == "AWSService":
        return invoked_by or principal_id
    if itype == "IdentityCenterUser":
        return behalf_user or principal_id or user_name
    if itype in ("Unknown", "Directory"):
        # For these the principalId is often only the account id; the user name says more.
        return user_name or principal_id
    return principal_id or user_name


def _kind_from_arn(arn: str) -> str:
    """The actor kind an ARN itself states, for records without a recognized type."""
    if ":assumed-role/" in arn:
        return "role_session"
    if ":federated-user/" in arn:
        return "federated_session"
    if ":user/" in arn:
        return "user"
    if arn.endswith(":root"):
        return "root"
    return "unknown"


def _session_name(arn: str) -> str:
    if ":assumed-role/" in arn or ":federated-user/" in arn:
        return arn.rsplit("/", 1)[1]
    return ""


def _partition(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else ""


# --- credential-issuing calls ----------------------------------------------------------------


def _issue(
    ev: dict[str, Any],
    service: str,
    name: str,
    method: str,
    actor: _Actor,
    outcome: str,
    request: dict[str, Any],
) -> _Issue:
    response = _obj(ev, "responseElements")
    if service == "sso-oauth":
        return _sso_token_issue(ev, method)
    if name == "GetRoleCredentials":
        return _sso_role_issue(ev, method, request, response)

    credentials = _obj(response, "credentials")
    attrs: dict[str, Any] = {}
    _put(attrs, "role_arn", _text(request, "roleArn"))
    _put(attrs, "role_session_name", _text(request, "roleSessionName"))
    _put(attrs, "assumed_role_id", _text(_obj(response, "assumedRoleUser"), "assumedRoleId"))
    _put(attrs, "credential_expiration", _expiration(credentials.get("expiration")))
    _put(
        attrs,
        "requested_source_identity",
        _text(request, "sourceIdentity") or _text(response, "sourceIdentity"),
    )
    if name == "AssumeRole":
        _pod_identity(request, attrs)
    credential = _clean(_text(credentials, "accessKeyId"))

    principal = _clean(_text(_obj(response, "assumedRoleUser"), "arn"))
    if name == "GetFederationToken":
        principal = _clean(_text(_obj(response, "federatedUser"), "arn"))
        _put(attrs, "federated_user_arn", principal)
    elif name == "GetSessionToken" and outcome == "success" and actor.principal.startswith("arn:"):
        # The session keeps the caller's identity: later calls show the same user ARN.
        principal = actor.principal
    elif name == "AssumeRoot" and outcome == "success":
        principal = _root_arn(_text(request, "targetPrincipal"), actor.partition or "aws")
    elif name == "AssumeRoleWithSAML":
        _federation(attrs, ev, response, "subject", "issuer")
        _put(attrs, "federation_subject_type", _text(response, "subjectType"))
    elif name == "AssumeRoleWithWebIdentity":
        _federation(attrs, ev, response, "subjectFromWebIdentityToken", "provider")

    return _Issue(method, credential, principal, attrs)


# The session tags EKS Pod Identity sets on the role session it makes for a pod.
_POD_IDENTITY_TAGS = {
    "eks-cluster-name": "eks_cluster_name",
    "kubernetes-namespace": "namespace",
    "kubernetes-service-account": "service_account",
    "kubernetes-pod-name": "pod_name",
}


def _pod_identity(request: dict[str, Any], attrs: dict[str, Any]) -> None:
    """The pod an EKS Pod Identity AssumeRole is for, from its session tags: its Kubernetes
    service account, cluster and pod name."""
    tags = request.get("tags")
    found: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict):
            key = _text(tag, "key") or _text(tag, "Key")
            if key in _POD_IDENTITY_TAGS:
                found[_POD_IDENTITY_TAGS[key]] = _text(tag, "value") or _text(tag, "Value")
    namespace, account = found.get("namespace", ""), found.get("service_account", "")
    if namespace and account:
        attrs["pod_service_account"] = f"system:serviceaccount:{namespace}:{account}"
        _put(attrs, "eks_cluster_name", found.get("eks_cluster_name", ""))
        _put(attrs, "pod_name", found.get("pod_name", ""))


def _federation(
    attrs: dict[str, Any], ev: dict[str, Any], response: dict[str, Any], subject: str, issuer: str
) -> None:
    """Who the external IdP vouched for, from the response or the federated userIdentity."""
    itype = opt_str(ev, "userIdentity.type")
    fallback_subject = ""
    fallback_issuer = ""
    if itype in ("SAMLUser", "WebIdentityUser"):
        fallback_subject = _clean(opt_str(ev, "userIdentity.userName"))
    if itype == "WebIdentityUser":
        # For SAMLUser the identityProvider is the name qualifier hash, not the issuer.
        fallback_issuer = opt_str(ev, "userIdentity.identityProvider")
    _put(attrs, "federation_subject", _clean(_text(response, subject)) or fallback_subject)
    _put(attrs, "federation_issuer", _oidc_issuer(_text(response, issuer) or fallback_issuer))
    _put(attrs, "federation_audience", _text(response, "audience"))


def _oidc_issuer(value: str) -> str:
    """An OIDC provider ARN's issuer host and path; other values unchanged."""
    marker = ":oidc-provider/"
    if value.startswith("arn:") and marker in value:
        return value.split(marker, 1)[1]
    return value


def _root_arn(target: str, partition: str) -> str:
    if target.startswith("arn:"):
        return target
    if _ACCOUNT_ID.match(target):
        return f"arn:{partition}:iam::{target}:root"
    return ""


def _sso_token_issue(ev: dict[str, Any], method: str) -> _Issue:
    """IAM Identity Center OIDC tokens: the token's id is in additionalEventData."""
    extra = _obj(ev, "additionalEventData")
    credential = _clean(_text(extra, "identitycenter:CredentialId"))
    user = _clean(_text(extra, "identitystore:UserId"))
    return _Issue(method, credential, user)


def _sso_role_issue(
    ev: dict[str, Any], method: str, request: dict[str, Any], response: dict[str, Any]
) -> _Issue:
    """Portal GetRoleCredentials: CloudTrail usually records no response, so no key id."""
    details = _obj(ev, "serviceEventDetails")
    attrs: dict[str, Any] = {}
    _put(attrs, "sso_role_name", _text(details, "role_name") or _text(request, "roleName"))
    _put(attrs, "sso_account_id", _text(details, "account_id") or _text(request, "accountId"))
    role_credentials = _obj(response, "roleCredentials")
    _put(attrs, "credential_expiration", _expiration(role_credentials.get("expiration")))
    return _Issue(method, _clean(_text(role_credentials, "accessKeyId")), "", attrs)


# --- what happened -------------------------------------------------------------------------


def _outcome(ev: dict[str, Any], service: str, name: str, error: bool) -> str:
    if error:
        return "failure"
    if service in calls.SIGNIN_SERVICES:
        # Sign-in events report failure as {"ConsoleLogin": "Failure"}, often with no errorCode.
        status = _text(_obj(ev, "responseElements"), name).lower()
        if status == "failure":
            return "failure"
    # A service event reports its own result under its name: Identity Center's sign-in
    # steps (CredentialChallenge, CredentialVerification, UserAuthentication) write
    # {"CredentialVerification": "Failure"} there, with no errorCode and no response.
    if _text(_obj(ev, "serviceEventDetails"), name).lower() == "failure":
        return "failure"
    if _str(ev, "eventType") == "AwsCloudTrailInsight":
        return "unknown"
    return "success"


def _category(ev: dict[str, Any], service: str, name: str, issue: _Issue | None) -> str:
    if issue is not None:
        return CREDENTIAL_ISSUE
    if _str(ev, "eventType").lower() == "awsconsolesignin":
        return AUTHENTICATION
    return call_category(service, name, data_event=_is_data_event(ev))


def call_category(service: str, name: str, *, data_event: bool) -> str:
    """What an AWS API call is, by its service ("s3") and name: a sign-in, a change of
    permissions, a read of data (every data event, and the management calls that return
    data) or other. Other formats of CloudTrail's events (OCSF) are read by it too, so a
    call gets one category whichever way it arrives."""
    if service in calls.SIGNIN_SERVICES or (service == "sso" and name in calls.SSO_SIGNIN):
        return AUTHENTICATION
    base = _API_VERSION_SUFFIX.sub("", name) if service == "lambda" else name
    if (
        (service == "iam" and base in calls.IAM_PERMISSION)
        or base in calls.PERMISSION.get(service, ())
        or base in calls.ANY_SERVICE_PERMISSION
    ):
        return PERMISSION_CHANGE
    if data_event or base in calls.DATA_READS.get(service, ()):
        return DATA_ACCESS
    return OTHER


def _is_data_event(ev: dict[str, Any]) -> bool:
    if _str(ev, "eventCategory").lower() == "data":
        return True
    return _truth(ev.get("managementEvent")) is False


# --- what was touched ----------------------------------------------------------------------


def _resource(
    ev: dict[str, Any], service: str, name: str, actor: _Actor, request: dict[str, Any]
) -> tuple[str, str]:
    resources = _resources(ev)
    if service == "s3":
        found = _s3_resource(request, resources)
        if found[0]:
            return found
    if service == "ssm" and name == "StartSession":
        target = _text(request, "target")  # an EC2 instance, or a hybrid node (mi-...)
        if target:
            kind = "AWS::EC2::Instance" if target.startswith("i-") else "AWS::SSM::ManagedInstance"
            return target, kind
    if service == "sts" and name == "AssumeRoot":
        target = _root_arn(_text(request, "targetPrincipal"), actor.partition or "aws")
        if target:
            return target, "AWS::IAM::Root"
    for arn, rtype in resources:
        if arn:
            return arn, rtype
    for key, rtype in calls.PARAM_RESOURCES.get(service, ()):
        value = _text(request, key)
        if value:
            return value, rtype
    return "", ""


def _resources(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """(ARN, type) of each resources[] entry; S3 list calls give an ARNPrefix instead."""
    value = ev.get("resources")
    if not isinstance(value, list):
        return []
    found: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, dict):
            arn = _text(item, "ARN") or _text(item, "ARNPrefix")
            found.append((arn, _text(item, "type")))
    return found


def _s3_resource(request: dict[str, Any], resources: list[tuple[str, str]]) -> tuple[str, str]:
    bucket = _text(request, "bucketName")
    key = _text(request, "key")
    if bucket and key:
        return f"s3://{bucket}/{key}", "AWS::S3::Object"
    for arn, rtype in resources:
        if rtype == "AWS::S3::Object" and arn:
            return _s3_url(arn), rtype
    if bucket:
        return f"s3://{bucket}", "AWS::S3::Bucket"
    for arn, rtype in resources:
        if arn.startswith("arn:") and ":s3:::" in arn:
            return _s3_url(arn), rtype
    return "", ""


def _s3_copy_source(request: dict[str, Any]) -> tuple[str, str] | None:
    """The object a copy reads (``x-amz-copy-source``: "bucket/key" or an access point's
    ARN, URL-encoded, maybe with "?versionId=") as a resource, and the version; None when
    the request copies nothing."""
    value = _text(request, "x-amz-copy-source").strip()
    if not value:
        return None
    source, _, query = value.partition("?")
    version = next(
        (v for k, v in urllib.parse.parse_qsl(query) if k == "versionId"),
        "",
    )
    source = urllib.parse.unquote(source).lstrip("/")
    if source.startswith("arn:"):
        return source, version
    bucket, _, key = source.partition("/")
    if not bucket:
        return None
    return (f"s3://{bucket}/{key}" if key else f"s3://{bucket}"), version


def _s3_url(arn: str) -> str:
    """arn:aws:s3:::bucket/key -> s3://bucket/key (other ARNs unchanged)."""
    if ":s3:::" in arn:
        return "s3://" + arn.split(":s3:::", 1)[1]
    return arn
