"""Microsoft Graph activity logs: every request an application or a user made to Microsoft
Graph, with the token's identifiers.

Records come from an Azure Monitor diagnostic export of the ``MicrosoftGraphActivityLogs``
category (``time``, ``category``, the request under ``properties``) or as rows of the Log
Analytics table of that name (PascalCase columns, ``Type``). ``signInActivityId`` is the
``uti`` of the token the request carried, which the Entra sign-in that issued it records as
``uniqueTokenIdentifier``: the two link exactly. Without that sign-in, the ids the token
named (the user's object id for a delegated call, the service principal's for an app-only
one) are the asserted caller; Graph writes no sign-in name.
"""

from __future__ import annotations

import re
from typing import Any

from forensics.engine.model import (
    AUTHENTICATION,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
)
from forensics.engine.parsers.common import column_names, url_parts
from forensics.engine.parsers.microsoft import (
    first,
    log_analytics_row,
    monitor_fields,
    projected_row,
    record_object,
)

CATEGORY = "MicrosoftGraphActivityLogs"
_PLACEHOLDERS = frozenset({"", "null", "<null>", "n/a"})
# Log Analytics columns -> the export's field names.
_LOG_ANALYTICS_COLUMNS = {
    "TimeGenerated": "timeGenerated",
    "RequestId": "requestId",
    "OperationId": "operationId",
    "ClientRequestId": "clientRequestId",
    "ApiVersion": "apiVersion",
    "RequestMethod": "requestMethod",
    "ResponseStatusCode": "responseStatusCode",
    "AadTenantId": "tenantId",
    "IPAddress": "ipAddress",
    "UserAgent": "userAgent",
    "RequestUri": "requestUri",
    "DurationMs": "durationMs",
    "ResponseSizeBytes": "responseSizeBytes",
    "SignInActivityId": "signInActivityId",
    "Roles": "roles",
    "TokenIssuedAt": "tokenIssuedAt",
    "AppId": "appId",
    "UserId": "userId",
    "ServicePrincipalId": "servicePrincipalId",
    "Scopes": "scopes",
    "IdentityProvider": "identityProvider",
    "ClientAuthMethod": "clientAuthMethod",
    "DeviceId": "deviceId",
    "SessionId": "sessionId",
    "Location": "location",
}
_CLIENT_AUTH = {"0": "public client", "1": "client secret", "2": "client certificate"}
_READ_METHODS = frozenset({"GET", "HEAD"})
# Requests that grant access: credentials, role and permission assignments, ownership.
_GRANTS = re.compile(
    r"/(addPassword|addKey|federatedIdentityCredentials|appRoleAssignments|appRoleAssignedTo|"
    r"oauth2PermissionGrants|"
    r"roleAssignments|roleEligibilityScheduleRequests|roleAssignmentScheduleRequests|"
    r"owners|members)(/|\$|\?|$)",
    re.IGNORECASE,
)
# A user's authentication methods: /users/{id}/authentication/...
_SIGN_IN_FACTORS = re.compile(r"/authentication/", re.IGNORECASE)
_ID_SEGMENT = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[^/@]+@[^/]+|"
    r"[A-Za-z0-9_=-]{40,})$",
    re.IGNORECASE,
)


def _first(record: Any, *paths: str) -> str:
    return first(record, paths, _PLACEHOLDERS)


def _is_log_analytics_row(record: dict[str, Any]) -> bool:
    return record.get("Type") == CATEGORY and "TimeGenerated" in record


class GraphActivityParser:
    kind = "graph_activity"
    label = "Microsoft Graph activity logs"

    def sniff(self, record: dict[str, Any]) -> bool:
        if not isinstance(record, dict):
            return False
        if _is_log_analytics_row(record):
            return True
        category = record.get("category")
        return (
            isinstance(category, str)
            and category.lower() == CATEGORY.lower()
            and isinstance(record.get("properties"), dict)
        )

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        record = record_object(record)
        if _is_log_analytics_row(record) or projected_row(record):
            with column_names(_LOG_ANALYTICS_COLUMNS):
                return _normalize(log_analytics_row(record, _LOG_ANALYTICS_COLUMNS), False)
        return _normalize(record, True)


PARSER = GraphActivityParser()


def _normalize(record: dict[str, Any], monitor: bool) -> NormalizedEvent:
    p, event_time = monitor_fields(record, monitor, "timeGenerated")
    method = _first(record, p + "requestMethod").upper()
    uri = _first(record, p + "requestUri")
    status = _first(record, p + "responseStatusCode", "resultSignature")
    user_id = _first(record, p + "userId")
    sp_id = _first(record, p + "servicePrincipalId")
    app_id = _first(record, p + "appId")
    tenant_id = _first(record, p + "tenantId", "tenantId")
    # A delegated call carries the user's object id; an app-only call the service principal's.
    if user_id:
        principal, actor_kind, caller = user_id, "user", user_id
    elif sp_id or app_id:
        principal, actor_kind, caller = sp_id or app_id, "service_principal", sp_id
    else:
        principal, actor_kind, caller = "", "unknown", ""
    attrs: dict[str, Any] = {}
    for key, value in (
        ("caller_object_id", caller),
        ("user_id", user_id),
        ("service_principal_id", sp_id),
        ("app_id", app_id),
        ("tenant_id", tenant_id),
        ("roles", _first(record, p + "roles")),
        ("scopes", _first(record, p + "scopes")),
        ("client_auth_method", _client_auth(_first(record, p + "clientAuthMethod"))),
        ("identity_provider", _first(record, p + "identityProvider")),
        ("token_issued_at", _first(record, p + "tokenIssuedAt")),
        ("sign_in_session_id", _first(record, p + "sessionId")),
        ("device_id", _first(record, p + "deviceId")),
        ("api_version", _first(record, p + "apiVersion", "operationVersion")),
        ("http_status", status),
        ("operation_id", _first(record, p + "operationId")),
        ("client_request_id", _first(record, p + "clientRequestId")),
    ):
        if value:
            attrs[key] = value
    return NormalizedEvent(
        source_kind=PARSER.kind,
        source_event_id=_first(record, p + "requestId", "correlationId"),
        event_time=event_time,
        category=_category(method, uri),
        action=f"{method} {_route(uri)}".strip() or "Microsoft Graph request",
        outcome=_outcome(status),
        actor_principal=principal,
        actor_kind=actor_kind,
        actor_account=tenant_id,
        credential_used=_first(record, p + "signInActivityId"),
        # The service's id of the request; the client's own (client-request-id, the
        # operation id when the client sent none) is kept beside it.
        request_id=_first(record, p + "requestId"),
        correlation_id=_first(record, p + "operationId"),
        source_address=_first(record, p + "ipAddress", "callerIpAddress"),
        user_agent=_first(record, p + "userAgent"),
        resource=uri,
        resource_type="graph" if uri else "",
        attrs=attrs,
    )


def _route(uri: str) -> str:
    """The request's path with object ids, sign-in names and long keys as ``{id}``, so that
    requests to the same API read as one action: "/v1.0/users/{id}/messages"."""
    path = url_parts(uri).path if "://" in uri else uri.split("?", 1)[0]
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def _client_auth(value: str) -> str:
    return _CLIENT_AUTH.get(value, value)


def _category(method: str, uri: str) -> str:
    path = url_parts(uri).path if uri else ""
    if method not in _READ_METHODS and _GRANTS.search(path):
        return PERMISSION_CHANGE
    if method not in _READ_METHODS and _SIGN_IN_FACTORS.search(path):
        # A user's sign-in factors (a Temporary Access Pass, a phone, a password reset), as
        # the directory audit log files the same changes.
        return AUTHENTICATION
    if method in _READ_METHODS:
        return DATA_ACCESS
    return OTHER


def _outcome(status: str) -> str:
    if status.isdigit():
        return "success" if int(status) < 400 else "failure"
    return "unknown"
