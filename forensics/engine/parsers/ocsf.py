"""OCSF 1.x events (and the 1.0 release candidates AWS Security Lake first wrote).

The actor is ``actor.user`` with its ``actor.session``: the session's ``uid`` is what related
events share, its ``issuer`` the role or user that issued it and its ``credential_uid`` the
key the request was signed with. Producers differ in where they put the AWS identifiers:
Security Lake 1.1 writes the ARN to ``user.uid`` and the principal id to ``user.uid_alt``;
the 1.0 release candidate wrote the principal id to ``uid`` and the ARN to ``uuid``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forensics.engine.model import (
    AUTHENTICATION,
    AUTHORIZATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
    is_placeholder_id,
)
from forensics.engine.parsers import cloudtrail
from forensics.engine.parsers.common import (
    get,
    iso,
    object_list,
    opt_dict,
    opt_str,
    parse_time,
    unmasked,
)

ACCOUNT_CHANGE = 3001
AUTHENTICATION_CLASS = 3002
AUTHORIZE_SESSION = 3003
USER_ACCESS = 3005  # API Activity in the 1.0 release candidates; told apart by its ``api``
GROUP_MANAGEMENT = 3006
USER_MANAGEMENT = 3007
ROLE_MANAGEMENT = 3008
WEB_RESOURCES = 6001
API_ACTIVITY = 6003
DATASTORE = 6005
FILE_HOSTING = 6006

_PERMISSION_CLASSES = {
    ACCOUNT_CHANGE,
    USER_ACCESS,
    GROUP_MANAGEMENT,
    USER_MANAGEMENT,
    ROLE_MANAGEMENT,
}
# activity_id values that read data, per class.
_READ_ACTIVITIES: dict[int, set[int]] = {
    API_ACTIVITY: {2},  # Read
    WEB_RESOURCES: {2, 7},  # Read, Export
    DATASTORE: {1, 4, 8},  # Read, Query, List
    FILE_HOSTING: {2, 9, 14},  # Download, Preview, Open
}

# AWS STS and IAM Identity Center operations whose response carries new credentials.
_ISSUE_METHODS = {
    "AssumeRole": "assume-role",
    "AssumeRoleWithSAML": "saml-federation",
    "AssumeRoleWithWebIdentity": "web-identity",
    "GetSessionToken": "session-token",
    "GetFederationToken": "federation-token",
    "GetRoleCredentials": "sso",
}

# AWS userIdentity.type values, which Security Lake keeps in actor.user.type.
_AWS_USER_TYPES = {
    "iamuser": "user",
    "root": "root",
    "assumedrole": "role_session",
    "federateduser": "federated_session",
    "samluser": "federated_session",
    "webidentityuser": "federated_session",
    "identitycenteruser": "identity_center_user",
    "awsservice": "service",
}
_GENERIC_USER_TYPES = {
    "user": "user",
    "admin": "user",
    "system": "service",
    "service": "service_account",
}
_USER_TYPE_IDS = {1: "user", 2: "user", 3: "service", 4: "service_account"}

_REDACTED = frozenset({"hidden_due_to_security_reasons", "redacted"})


def _clean(value: str) -> str:
    return unmasked(value, _REDACTED)


def _first(record: Any, *paths: str) -> str:
    for path in paths:
        value = _clean(opt_str(record, path))
        if value:
            return value
    return ""


def _int(record: dict[str, Any], path: str) -> int | None:
    """An integer field; numeric text is accepted, anything else is a malformed record."""
    value = get(record, path)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"field '{path}' should be an integer, found boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise RecordError(f"field '{path}' should be an integer, found {value!r}")


def _bool(record: dict[str, Any], path: str) -> bool | None:
    value = get(record, path)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


def _json_object(value: Any) -> dict[str, Any]:
    """``json_t`` data as an object: producers write it as an object or as JSON text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _is_aws(record: dict[str, Any]) -> bool:
    vendor = opt_str(record, "metadata.product.vendor_name").lower()
    return vendor.startswith(("aws", "amazon"))


def _outcome(record: dict[str, Any]) -> str:
    status_id = _int(record, "status_id")
    if status_id == 1:
        return "success"
    if status_id == 2:
        return "failure"
    status = opt_str(record, "status").lower()
    if status in {"success", "succeeded"}:
        return "success"
    if status in {"failure", "failed"}:
        return "failure"
    return "unknown"


def _event_time(record: dict[str, Any]) -> datetime:
    """``time``; ``time_dt`` (the datetime profile's same instant) when ``time`` is absent or
    unreadable."""
    has_dt = get(record, "time_dt") not in (None, "")
    if get(record, "time") not in (None, ""):
        try:
            return parse_time(get(record, "time"), "time")
        except RecordError:
            if not has_dt:
                raise
    if has_dt:
        return parse_time(get(record, "time_dt"), "time_dt")
    raise RecordError("required field 'time' (event time) is missing")


_IDENTIFIERS = ("uid", "uid_alt", "uuid", "email_addr", "name")


def _subject(subject: dict[str, Any], actor_user: dict[str, Any]) -> dict[str, Any]:
    """The subject of a sign-in or session event, completed from ``actor.user`` when that
    is the same identity: Security Lake writes only the subject's ids to ``user`` and keeps
    its type, name and account in ``actor.user``. The subject's own values come first; an
    actor that is another identity (the service that reported the sign-in) adds nothing."""
    ids = {v for k in _IDENTIFIERS if (v := _first(subject, k))}
    if not ids or not any(_first(actor_user, k) in ids for k in _IDENTIFIERS):
        return subject
    return {**actor_user, **{k: v for k, v in subject.items() if v not in (None, "", {}, [])}}


def _principal(user: dict[str, Any]) -> str:
    """The recorded actor string: an ARN when the producer has one, else email, name, uid."""
    for key in ("uid", "uuid", "uid_alt"):
        value = _first(user, key)
        if value.startswith("arn:"):
            return value
    return _first(user, "email_addr", "name", "uid")


def _actor_kind(user: dict[str, Any], session: dict[str, Any], principal: str) -> str:
    if not principal:
        return "unknown"
    user_type = opt_str(user, "type").replace(" ", "").lower()
    if ":assumed-role/" in principal or user_type == "assumedrole":
        return "role_session"
    if user_type in _AWS_USER_TYPES:
        return _AWS_USER_TYPES[user_type]
    if ":role/" in opt_str(session, "issuer"):
        return "role_session"
    if user_type in _GENERIC_USER_TYPES:
        return _GENERIC_USER_TYPES[user_type]
    type_id = _int(user, "type_id")
    if type_id in _USER_TYPE_IDS:
        return _USER_TYPE_IDS[type_id]
    if principal.startswith("arn:aws:iam::") and ":user/" in principal:
        return "user"
    return "unknown"


def _session_name(session: dict[str, Any], principal: str) -> str:
    alt = _first(session, "uid_alt")
    for arn in (alt, principal):
        if ":assumed-role/" in arn:
            return arn.rsplit("/", 1)[-1]
    return alt or _first(session, "name")


def _resource(record: dict[str, Any], class_uid: int) -> tuple[str, str]:
    for _where, item in object_list(record, "resources"):
        name = _first(item, "uid", "name")
        if name:
            return name, _first(item, "type")
    if class_uid in _PERMISSION_CLASSES:
        target = _first(record, "user.uid", "user.name", "user.email_addr")
        if target:
            return target, "user"
    endpoint = _first(record, "dst_endpoint.hostname", "dst_endpoint.svc_name", "dst_endpoint.ip")
    if endpoint:
        return endpoint, "endpoint"
    service = _first(record, "service.name", "api.service.name")
    return (service, "service") if service else ("", "")


def _source_address(record: dict[str, Any]) -> str:
    """The source endpoint's address, domain or host name; "-" and other placeholders (what
    Windows writes for no value) name no address."""
    for path in ("src_endpoint.ip", "src_endpoint.domain", "src_endpoint.hostname"):
        value = _first(record, path)
        if value and not is_placeholder_id(value):
            return value
    return ""


# Activity names of the identity classes by activity_id (OCSF schema), for producers that
# leave activity_name out.
_ACTIVITIES = {
    3001: {
        1: "Create",
        2: "Enable",
        3: "Password Change",
        4: "Password Reset",
        5: "Disable",
        6: "Delete",
        7: "Attach Policy",
        8: "Detach Policy",
        9: "Lock",
        10: "MFA Factor Enable",
        11: "MFA Factor Disable",
        12: "Unlock",
    },
    3002: {
        1: "Logon",
        2: "Logoff",
        3: "Authentication Ticket",
        4: "Service Ticket Request",
        5: "Service Ticket Renew",
        6: "Preauth",
    },
    3003: {1: "Assign Privileges", 2: "Assign Groups"},
    6003: {1: "Create", 2: "Read", 3: "Update", 4: "Delete"},
}


def _action(record: dict[str, Any], class_uid: int) -> str:
    operation = _first(record, "api.operation")
    if operation and _is_aws(record):
        # A CloudTrail call Security Lake mapped: named as the trail's record of it is.
        source = _first(record, "api.service.name")
        service = cloudtrail.service_name(source)
        if service != source:
            return f"{service}:{operation}"
    action = operation or _first(record, "activity_name")
    if action:
        return action
    activity_id = _int(record, "activity_id")
    known = _ACTIVITIES.get(class_uid, {}).get(activity_id) if activity_id is not None else None
    if known:
        return known
    class_name = _first(record, "class_name") or str(class_uid)
    activity = _first(record, "activity_id")
    return f"{class_name}: {activity}" if activity else class_name


def _expiration(value: str) -> str:
    """An expiration as ISO UTC; producers write ISO, epoch ms or "Mar 25, 2024, 5:35:29 PM"."""
    if not value:
        return ""
    if value.isdigit():  # Identity Center writes epoch milliseconds
        return iso(parse_time(int(value), "expiration"))
    try:
        return iso(parse_time(value, "expiration"))
    except RecordError:
        pass
    for fmt in ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p"):
        try:
            return iso(datetime.strptime(value, fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    return ""


def _issued(record: dict[str, Any], operation: str) -> dict[str, str]:
    """What a credential-issuing call handed out, read only from mapped response data."""
    response = _json_object(get(record, "api.response.data")) or _json_object(
        get(record, "unmapped.responseElements")
    )
    # STS answers with "credentials", Identity Center's GetRoleCredentials with "roleCredentials".
    creds = (
        "roleCredentials" if isinstance(response.get("roleCredentials"), dict) else "credentials"
    )
    key = _first(response, creds + ".accessKeyId")
    if not key:
        return {}
    request = _json_object(get(record, "api.request.data")) or _json_object(
        get(record, "unmapped.requestParameters")
    )
    return {
        "credential_issued": key,
        "issue_method": _ISSUE_METHODS[operation],
        "issued_principal": _first(response, "assumedRoleUser.arn", "federatedUser.arn"),
        "role_arn": _first(request, "roleArn"),
        "role_session_name": _first(request, "roleSessionName"),
        "requested_source_identity": _first(request, "sourceIdentity"),
        "assumed_role_id": _first(response, "assumedRoleUser.assumedRoleId"),
        "federated_user_arn": _first(response, "federatedUser.arn"),
        "credential_expiration": _expiration(_first(response, creds + ".expiration")),
        "federation_subject": _first(response, "subject", "subjectFromWebIdentityToken"),
        "federation_subject_type": _first(response, "subjectType"),
        "federation_issuer": _first(response, "issuer", "provider"),
        "federation_audience": _first(response, "audience"),
        "sso_role_name": _first(request, "roleName") if operation == "GetRoleCredentials" else "",
        "sso_account_id": _first(request, "accountId") if operation == "GetRoleCredentials" else "",
    }


def _category(record: dict[str, Any], class_uid: int, activity_id: int | None) -> str:
    if class_uid == AUTHENTICATION_CLASS:
        return AUTHENTICATION
    if class_uid == AUTHORIZE_SESSION:
        return AUTHORIZATION
    source, operation = _first(record, "api.service.name"), _first(record, "api.operation")
    if class_uid in (API_ACTIVITY, USER_ACCESS) and operation and _is_aws(record):
        # A CloudTrail event Security Lake mapped: its activity says Read for every call
        # that changes nothing (Describe*, GetCallerIdentity), so the call itself decides,
        # as it does for the same event read from the trail.
        service = cloudtrail.service_name(source)
        if service != source:  # an AWS endpoint ("s3.amazonaws.com")
            feature = _first(record, "metadata.product.feature.name").lower()
            return cloudtrail.call_category(service, operation, data_event=feature == "data")
    if class_uid == USER_ACCESS and isinstance(get(record, "api"), dict):
        return DATA_ACCESS if activity_id == 2 else OTHER
    if class_uid in _PERMISSION_CLASSES:
        return PERMISSION_CHANGE
    if activity_id is not None and activity_id in _READ_ACTIVITIES.get(class_uid, set()):
        return DATA_ACCESS
    return OTHER


class OcsfParser:
    """OCSF events of any class; the IAM and API classes get their identity meaning."""

    kind = "ocsf"
    label = "OCSF"

    def sniff(self, record: dict[str, Any]) -> bool:
        """An integer class_uid, metadata naming a version or product, and an event time."""
        if not isinstance(record, dict):
            return False
        class_uid = record.get("class_uid")
        if not isinstance(class_uid, int) or isinstance(class_uid, bool):
            return False
        metadata = record.get("metadata")
        if not isinstance(metadata, dict) or not ("version" in metadata or "product" in metadata):
            return False
        return "time" in record or "time_dt" in record

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one OCSF event; RecordError names the field when it cannot be."""
        if not isinstance(record, dict):
            raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
        class_uid = _int(record, "class_uid")
        if class_uid is None:
            raise RecordError("required field 'class_uid' is missing or empty")
        activity_id = _int(record, "activity_id")
        event_time = _event_time(record)

        actor = opt_dict(record, "actor")
        user = opt_dict(record, "actor.user")
        if class_uid in (AUTHENTICATION_CLASS, AUTHORIZE_SESSION) and opt_dict(record, "user"):
            # In these classes ``user`` is the subject that signed in or got the privileges;
            # ``actor`` is whatever process or service reported it.
            user = _subject(opt_dict(record, "user"), user)
        if not user:
            user = opt_dict(record, "actor.process.user")
        session = opt_dict(record, "actor.session")
        if not session and class_uid in (AUTHENTICATION_CLASS, AUTHORIZE_SESSION):
            session = opt_dict(record, "session")

        principal = _principal(user)
        invoked_by = _first(actor, "app_name", "invoked_by", "app_uid")
        if principal:
            actor_kind = _actor_kind(user, session, principal)
        elif invoked_by:
            principal, actor_kind = invoked_by, "service"
        else:
            actor_kind = "unknown"

        credential = _first(session, "credential_uid") or _first(user, "credential_uid")
        session_uid = _first(session, "uid")
        issuer = _first(session, "issuer")
        aws = _is_aws(record)

        attrs: dict[str, Any] = {"class_uid": str(class_uid)}
        for key, value in (
            ("session_uid", session_uid),
            ("session_issuer", issuer),
            ("credential_uid", credential),
            ("idp_name", _first(actor, "idp.name")),
            ("invoked_by_app", invoked_by),
            ("actor_id", _first(user, "uid")),
            ("event_source", _first(record, "api.service.name")),
            ("error_code", _first(record, "api.response.error")),
            ("error_message", _first(record, "api.response.message")),
        ):
            if value:
                attrs[key] = value
        if aws:
            user_type = _first(user, "type")
            if user_type:
                attrs["identity_type"] = user_type
            principal_id = _aws_principal_id(user)
            if principal_id:
                attrs["principal_id"] = principal_id

        category = _category(record, class_uid, activity_id)
        operation = _first(record, "api.operation")
        issue: dict[str, str] = {}
        if operation in _ISSUE_METHODS and _outcome(record) == "success":
            issue = _issued(record, operation)
            if issue:
                category = CREDENTIAL_ISSUE
                if not issue["issued_principal"] and operation == "GetSessionToken":
                    issue["issued_principal"] = principal
                attrs.update(
                    (k, v)
                    for k, v in issue.items()
                    if v and k not in {"credential_issued", "issue_method", "issued_principal"}
                )

        mfa = _bool(record, "is_mfa")
        if mfa is None:
            mfa = _bool(session, "is_mfa")
        if mfa is None:
            mfa = _bool(session, "mfa")  # the 1.0 release candidates' name
        resource, resource_type = _resource(record, class_uid)
        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=_first(record, "metadata.uid"),
            event_time=event_time,
            category=category,
            action=_action(record, class_uid),
            outcome=_outcome(record),
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=_first(user, "account.uid", "account_uid")
            or _first(record, "cloud.account.uid"),
            credential_used=credential,
            credential_issued=issue.get("credential_issued", ""),
            issued_principal=issue.get("issued_principal", ""),
            issue_method=issue.get("issue_method", ""),
            session_name=_session_name(session, principal),
            request_id=_first(record, "api.request.uid"),
            correlation_id=session_uid,
            source_address=_source_address(record),
            user_agent=_first(record, "http_request.user_agent"),
            resource=resource,
            resource_type=resource_type,
            mfa=mfa,
            attrs=attrs,
        )


def _aws_principal_id(user: dict[str, Any]) -> str:
    """CloudTrail's principalId: uid_alt beside an ARN uid (1.1), or uid beside an ARN uuid."""
    uid, uid_alt, uuid = _first(user, "uid"), _first(user, "uid_alt"), _first(user, "uuid")
    if uid.startswith("arn:"):
        return uid_alt
    if uuid.startswith("arn:"):
        return uid
    return ""


PARSER = OcsfParser()
