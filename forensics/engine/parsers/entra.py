"""Microsoft Entra sign-in logs and the Azure Activity log, in the shapes their producers emit.

Sign-ins come from Microsoft Graph (``auditLogs/signIns``: one signIn resource per record, or
the same with PascalCase members as Graph PowerShell's ``Get-MgAuditLogSignIn`` returns it),
from an Azure Monitor diagnostic export (``time``, ``category`` and the same fields under
``properties``) or from a Log Analytics / Microsoft Sentinel export of the sign-in tables
(``SigninLogs`` and the AAD*SignInLogs tables: PascalCase columns). Activity events come from
an Azure Monitor export (``identity.claims``), from the Activity Log REST API (``claims``,
``eventDataId``) or from a Log Analytics export of the ``AzureActivity`` table. A sign-in's
``uniqueTokenIdentifier`` is the ``uti`` claim Azure Resource Manager records on every
Activity event made with that token, which links the two exactly.
"""

from __future__ import annotations

from typing import Any

from forensics.engine.model import (
    AUTHENTICATION,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
)
from forensics.engine.parsers.common import (
    column_names,
    get,
    opt_dict,
    opt_str,
    parse_time,
    str_list,
)
from forensics.engine.parsers.microsoft import (
    CLAIM_OID,
    CLAIM_TID,
    CLAIM_UPN,
    clean,
    first,
    graph_powershell_object,
    log_analytics_row,
    monitor_fields,
    projected_row,
    record_object,
    table_shaped,
)

# Azure Monitor diagnostic categories of the Entra sign-in logs, and the sign-in kind of each.
SIGNIN_CATEGORIES: dict[str, str] = {
    "SignInLogs": "interactive",
    "NonInteractiveUserSignInLogs": "non_interactive",
    "ServicePrincipalSignInLogs": "service_principal",
    "ManagedIdentitySignInLogs": "managed_identity",
    # Sign-ins of Microsoft's own first-party applications' service principals.
    "MicrosoftServicePrincipalSignInLogs": "service_principal",
    # AD FS sign-ins (through Connect Health): users, interactive or not by the record.
    "ADFSSignInLogs": "",
}

# Log Analytics tables of the sign-in logs, and the Graph signInEventTypes value of each.
LOG_ANALYTICS_SIGNIN_TABLES: dict[str, str] = {
    "SigninLogs": "interactiveUser",
    "AADNonInteractiveUserSignInLogs": "nonInteractiveUser",
    "AADServicePrincipalSignInLogs": "servicePrincipal",
    "AADManagedIdentitySignInLogs": "managedIdentity",
}
# The sign-in tables' columns this parser reads, by the Graph field each one holds. The
# service-principal and managed-identity tables have no CreatedDateTime: TimeGenerated is
# the sign-in's time there. Category is left out (Type says the same), and so is TenantId,
# the workspace's tenant: AADTenantId is the directory's.
_SIGNIN_COLUMNS = {
    "Id": "id",
    "CreatedDateTime": "createdDateTime",
    "TimeGenerated": "createdDateTime",
    "OperationName": "operationName",
    "ResultType": "resultType",
    "Status": "status",
    "UserPrincipalName": "userPrincipalName",
    "UserId": "userId",
    "AppId": "appId",
    "AppDisplayName": "appDisplayName",
    "ServicePrincipalId": "servicePrincipalId",
    "ServicePrincipalName": "servicePrincipalName",
    "ServicePrincipalCredentialKeyId": "servicePrincipalCredentialKeyId",
    "ServicePrincipalCredentialThumbprint": "servicePrincipalCredentialThumbprint",
    "ManagedIdentityType": "managedIdentityType",
    "IsInteractive": "isInteractive",
    "UniqueTokenIdentifier": "uniqueTokenIdentifier",
    "SessionId": "sessionId",
    "CrossTenantAccessType": "crossTenantAccessType",
    "OriginalTransferMethod": "originalTransferMethod",
    "AuthenticationProtocol": "authenticationProtocol",
    "AADTenantId": "tenantId",
    "ResourceTenantId": "resourceTenantId",
    "HomeTenantId": "homeTenantId",
    "OriginalRequestId": "originalRequestId",
    "CorrelationId": "correlationId",
    "IPAddress": "ipAddress",
    "UserAgent": "userAgent",
    "ResourceDisplayName": "resourceDisplayName",
    "ResourceIdentity": "resourceId",
    "AuthenticationRequirement": "authenticationRequirement",
    "MfaDetail": "mfaDetail",
}


def _is_graph_powershell_signin(record: dict[str, Any]) -> bool:
    """A signIn as Microsoft Graph PowerShell returns it (PascalCase), not a table row."""
    return (
        "CreatedDateTime" in record
        and "CorrelationId" in record
        and ("UserPrincipalName" in record or "ServicePrincipalId" in record)
        and not table_shaped(record)
    )


def _is_log_analytics_signin(record: dict[str, Any]) -> bool:
    kind = record.get("Type")
    return isinstance(kind, str) and kind in LOG_ANALYTICS_SIGNIN_TABLES and "Id" in record


def _from_log_analytics_signin(row: dict[str, Any]) -> dict[str, Any]:
    """A sign-in table row as the Graph signIn it was made from."""
    record = log_analytics_row(row, _SIGNIN_COLUMNS)
    event_type = LOG_ANALYTICS_SIGNIN_TABLES.get(str(row.get("Type")))
    if event_type:
        record["signInEventTypes"] = [event_type]
    return record


# Graph signInEventTypes values, most specific first.
_EVENT_TYPES = (
    ("managedIdentity", "managed_identity"),
    ("servicePrincipal", "service_principal"),
    ("nonInteractiveUser", "non_interactive"),
    ("interactiveUser", "interactive"),
)

ACTIVITY_CATEGORIES = frozenset(
    {
        "Administrative",
        "Security",
        "Policy",
        "ServiceHealth",
        "Alert",
        "Recommendation",
        "Autoscale",
        "ResourceHealth",
    }
)
# Older storage-account exports put the operation type where the category now goes.
_LEGACY_EXPORT_CATEGORIES = frozenset({"Write", "Delete", "Action"})

_REDACTED = frozenset({"hidden_due_to_security_reasons", "redacted", "not available"})

_CLAIM_AMR = ("http://schemas.microsoft.com/claims/authnmethodsreferences", "amr")

_PERMISSION_OPERATIONS = (
    "microsoft.authorization/roleassignments/",
    "microsoft.authorization/roledefinitions/",
    "microsoft.authorization/elevateaccess/",
    "microsoft.authorization/roleassignmentschedulerequests/",
    "microsoft.authorization/roleeligibilityschedulerequests/",
)
# Operations that hand out secrets or read stored data.
_DATA_OPERATION_PARTS = (
    "/listkeys/",
    "/listaccountsas/",
    "/listservicesas/",
    "/listcredentials/",
    "/listcredential/",
    "/listconnectionstrings/",
    "/secrets/read",
    "/secrets/getsecret/",
    "/secrets/readsecret/",
    "/blobs/read",
    "/files/read",
    "/messages/read",
    "/entities/read",
    "microsoft.web/sites/config/list/",
    "microsoft.web/sites/publishxml/",
)


def _clean(value: str) -> str:
    """The value without redaction markers and the all-zero GUID Entra writes for "none"."""
    return clean(value, _REDACTED)


def _record(record: Any) -> dict[str, Any]:
    return record_object(record)


def _first(record: dict[str, Any], *paths: str) -> str:
    return first(record, paths, _REDACTED)


def _is_zero(code: str) -> bool:
    return code.strip().lstrip("+-").isdigit() and int(code) == 0


# --- sign-ins ---------------------------------------------------------------------------


def _signin_outcome(record: dict[str, Any], p: str) -> tuple[str, str]:
    """(outcome, error code) from status.errorCode, else the export's resultType."""
    code = opt_str(record, p + "status.errorCode").strip()
    if not code:
        code = opt_str(record, "resultType").strip()
    if not code:
        return "unknown", ""
    if _is_zero(code) or code.lower() in {"success", "succeeded"}:
        return "success", ""
    if code.lstrip("+-").isdigit() or code.lower() in {"failure", "failed"}:
        return "failure", code
    return "unknown", ""


def _signin_kind(record: dict[str, Any], p: str, category: str) -> str:
    if SIGNIN_CATEGORIES.get(category):
        return SIGNIN_CATEGORIES[category]
    types = set(str_list(record, p + "signInEventTypes"))
    for name, kind in _EVENT_TYPES:
        if name in types:
            return kind
    if _msi_type(record, p):
        return "managed_identity"
    has_user = bool(_first(record, p + "userPrincipalName", p + "userId"))
    if has_user:
        interactive = opt_str(record, p + "isInteractive").lower()
        if interactive == "true":
            return "interactive"
        if interactive == "false":
            return "non_interactive"
        return ""
    if _first(record, p + "servicePrincipalId"):
        return "service_principal"
    return ""


def _named(record: dict[str, Any], path: str) -> str:
    """An enumeration's value, "" for its "none" (what Entra writes when it does not apply)."""
    value = _first(record, path)
    return "" if value.lower() in {"none", "unknownfuturevalue"} else value


def _msi_type(record: dict[str, Any], p: str) -> str:
    value = _first(record, p + "managedIdentityType", p + "managedServiceIdentity.msiType")
    return "" if value.lower() == "none" else value


def _signin_mfa(record: dict[str, Any], p: str, outcome: str) -> bool | None:
    """True when a successful sign-in records a multi-factor requirement or MFA detail."""
    if outcome != "success":
        return None
    if opt_str(record, p + "authenticationRequirement") == "multiFactorAuthentication":
        return True
    # mfaDetail names the method as authMethod, and as mfaAuthMethod in the beta signIn.
    if _first(record, p + "mfaDetail.authMethod", p + "mfaDetail.mfaAuthMethod"):
        return True
    return None


class EntraSignInParser:
    """Microsoft Entra sign-ins: Graph signIn resources and Azure Monitor exports."""

    kind = "entra"
    label = "Microsoft Entra sign-ins"

    def sniff(self, record: dict[str, Any]) -> bool:
        """A Graph signIn (as the API or Graph PowerShell gives it), an Azure Monitor record
        of a sign-in log category or a row of a Log Analytics sign-in table."""
        if not isinstance(record, dict):
            return False
        if _is_log_analytics_signin(record) or _is_graph_powershell_signin(record):
            return True
        category = record.get("category")
        if isinstance(category, str) and category in SIGNIN_CATEGORIES:
            return isinstance(record.get("properties"), dict)
        return (
            "createdDateTime" in record
            and ("userPrincipalName" in record or "servicePrincipalId" in record)
            and "correlationId" in record
        )

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one sign-in; RecordError names the field when it cannot be."""
        record = _record(record)
        if _is_log_analytics_signin(record) or projected_row(record):
            with column_names(_SIGNIN_COLUMNS):
                return self._parse(_from_log_analytics_signin(record))
        if _is_graph_powershell_signin(record):
            return self._parse(graph_powershell_object(record))
        return self._parse(record)

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        raw_category = record.get("category")
        category = raw_category if isinstance(raw_category, str) else ""
        monitor = category in SIGNIN_CATEGORIES
        p, event_time = monitor_fields(record, monitor, "createdDateTime")

        outcome, error_code = _signin_outcome(record, p)
        sign_in_kind = _signin_kind(record, p, category)
        upn = _first(record, p + "userPrincipalName")
        user_id = _first(record, p + "userId")
        app_id = _first(record, p + "appId")
        sp_id = _first(record, p + "servicePrincipalId")
        sp_name = _first(record, p + "servicePrincipalName")
        msi_type = _msi_type(record, p)

        if sign_in_kind in ("service_principal", "managed_identity"):
            principal = sp_name or sp_id or (app_id if sign_in_kind == "service_principal" else "")
            actor_kind = sign_in_kind
        elif upn or user_id:
            principal = upn or user_id
            actor_kind = "user"
        else:
            principal = sp_name or sp_id
            actor_kind = "service_principal" if principal else "unknown"
        if not principal:
            actor_kind = "unknown"

        token_id = _first(record, p + "uniqueTokenIdentifier")
        tenant_id = _first(record, "tenantId", p + "tenantId", p + "resourceTenantId")
        home_tenant = _first(record, p + "homeTenantId")

        attrs: dict[str, Any] = {}
        for key, value in (
            ("sign_in_kind", sign_in_kind),
            ("user_id", user_id),
            ("app_id", app_id),
            ("app_display_name", _first(record, p + "appDisplayName")),
            ("service_principal_id", sp_id),
            ("service_principal_name", sp_name),
            ("managed_identity_type", msi_type),
            ("unique_token_identifier", token_id),
            # The session the sign-in started or renewed: what Graph activity (SessionId)
            # and Microsoft 365 (AADSessionId) records of its tokens' use name.
            ("sign_in_session_id", _first(record, p + "sessionId")),
            # Which of the application's secrets or certificates it signed in with: the
            # key id an audit record's credential change names (entra_audit).
            (
                "service_principal_credential_key_id",
                _first(record, p + "servicePrincipalCredentialKeyId"),
            ),
            (
                "service_principal_credential_thumbprint",
                _first(record, p + "servicePrincipalCredentialThumbprint"),
            ),
            ("tenant_id", tenant_id),
            ("home_tenant_id", home_tenant),
            # Who came in from another tenant and how: Microsoft Support, a partner acting
            # for the customer (serviceProvider), B2B; and a device code's transfer.
            ("cross_tenant_access_type", _named(record, p + "crossTenantAccessType")),
            ("original_transfer_method", _named(record, p + "originalTransferMethod")),
            ("authentication_protocol", _named(record, p + "authenticationProtocol")),
            ("error_code", error_code),
            ("error_message", _first(record, p + "status.failureReason") if error_code else ""),
        ):
            if value:
                attrs[key] = value

        issued = outcome == "success" and bool(token_id)
        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=_first(record, p + "id"),
            event_time=event_time,
            category=AUTHENTICATION,
            action=_first(record, "operationName") or "Sign-in activity",
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=home_tenant or tenant_id,
            credential_issued=token_id if issued else "",
            issued_principal=principal if issued else "",
            issue_method="sign-in" if issued else "",
            request_id=_first(record, p + "originalRequestId"),
            correlation_id=_first(record, p + "correlationId", "correlationId"),
            source_address=_first(record, p + "ipAddress", "callerIpAddress"),
            user_agent=_first(record, p + "userAgent"),
            resource=_first(record, p + "resourceDisplayName", p + "resourceId"),
            mfa=_signin_mfa(record, p, outcome),
            attrs=attrs,
        )


# --- Azure Activity -----------------------------------------------------------------------


def _value(record: dict[str, Any], path: str) -> str:
    """A field that is plain text in one shape and {"value", "localizedValue"} in the other."""
    if isinstance(get(record, path), dict):
        return _clean(opt_str(record, path + ".value"))
    return _clean(opt_str(record, path))


def _claim(claims: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and _clean(value):
            return _clean(value)
    return ""


def _activity_category(operation: str) -> str:
    op = operation.lower()
    if op.startswith(_PERMISSION_OPERATIONS):
        return PERMISSION_CHANGE
    if any(part in op for part in _DATA_OPERATION_PARTS):
        return DATA_ACCESS
    return OTHER


def _activity_outcome(status: str) -> str:
    status = status.lower()
    if status in {"success", "succeeded"}:
        return "success"
    if status in {"failure", "failed"}:
        return "failure"
    return "unknown"


def _amr_has_mfa(claims: dict[str, Any]) -> bool | None:
    for name in _CLAIM_AMR:
        value = claims.get(name)
        methods = value if isinstance(value, list) else str(value or "").split(",")
        if any(str(m).strip().lower() == "mfa" for m in methods):
            return True
    return None


# The AzureActivity table's columns this parser reads, by the Activity Log API field each
# one holds (a ``_d`` column is the dynamic twin of a text one, in older rows). TenantId is
# the workspace's tenant and is left out: the directory's comes from the claims.
_ACTIVITY_COLUMNS = {
    "EventDataId": "eventDataId",
    "TimeGenerated": "eventTimestamp",
    "Caller": "caller",
    "CallerIpAddress": "callerIpAddress",
    "CorrelationId": "correlationId",
    "OperationNameValue": "operationName",
    "ActivityStatusValue": "status",
    "ActivitySubstatusValue": "subStatus",
    "Claims_d": "claims",
    "Claims": "claims",
    "Authorization_d": "authorization",
    "Authorization": "authorization",
    "Properties_d": "properties",
    "Properties": "properties",
    "HTTPRequest": "httpRequest",
    "_ResourceId": "resourceId",
    "ResourceId": "resourceId",
}


def _is_log_analytics_activity(record: dict[str, Any]) -> bool:
    return record.get("Type") == "AzureActivity" and "TimeGenerated" in record


class AzureActivityParser:
    """Azure Activity log events: Azure Monitor exports and Activity Log REST API records."""

    kind = "azure_activity"
    label = "Azure Activity log"

    def sniff(self, record: dict[str, Any]) -> bool:
        """An Activity Log API event, an export record with caller identity and a resource,
        or a row of the Log Analytics AzureActivity table."""
        if not isinstance(record, dict):
            return False
        if _is_log_analytics_activity(record):
            return True
        if "eventDataId" in record and "eventTimestamp" in record:
            return True
        category = record.get("category")
        event_category = get(record, "properties.eventCategory")
        known = (isinstance(category, str) and category in ACTIVITY_CATEGORIES) or (
            isinstance(event_category, str) and event_category in ACTIVITY_CATEGORIES
        )
        if not known and not (isinstance(category, str) and category in _LEGACY_EXPORT_CATEGORIES):
            return False
        identity = record.get("identity")
        if not ("time" in record and "resourceId" in record and "operationName" in record):
            return False
        if identity is None:
            # The platform's own events (ResourceHealth, ServiceHealth, Autoscale...) have
            # no caller: still Activity log events, of a category only it has.
            return known
        return isinstance(identity, dict) and ("claims" in identity or "authorization" in identity)

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one Activity event; RecordError names the field when it cannot be."""
        record = _record(record)
        if _is_log_analytics_activity(record) or projected_row(record):
            with column_names(_ACTIVITY_COLUMNS):
                event = log_analytics_row(record, _ACTIVITY_COLUMNS)
                event.setdefault("eventTimestamp", None)  # the row's shape, even without a time
                return self._parse(event)
        return self._parse(record)

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        time_path = "eventTimestamp" if "eventTimestamp" in record else "time"
        event_time = parse_time(get(record, time_path), time_path)

        claims = opt_dict(record, "claims") or opt_dict(record, "identity.claims")
        authorization = opt_dict(record, "authorization") or opt_dict(
            record, "identity.authorization"
        )
        principal_type = opt_str(authorization, "evidence.principalType").lower()
        operation = _value(record, "operationName")

        upn = _claim(claims, CLAIM_UPN)
        app_id = _claim(claims, ("appid", "azp"))
        caller = _first(record, "caller")
        # Without a caller or user claim the token is an app-only token: its appid is the actor.
        principal = caller or upn or app_id or _claim(claims, ("name",))
        id_type = _claim(claims, ("idtyp",)).lower()
        if not principal:
            actor_kind = "unknown"
        elif _claim(claims, ("xms_mirid",)):
            actor_kind = "managed_identity"
        elif id_type == "app" or principal_type == "serviceprincipal":
            actor_kind = "service_principal"
        elif id_type == "user" or upn or principal_type == "user" or "@" in principal:
            actor_kind = "user"
        elif principal == app_id:
            actor_kind = "service_principal"
        else:
            actor_kind = "unknown"
        # An application is named alike whichever way its event came: exports carry no
        # caller (the token's appid names it), the REST API's caller is an object id.
        object_id = _claim(claims, CLAIM_OID)
        if actor_kind == "service_principal" and app_id:
            principal = app_id
        elif actor_kind == "managed_identity" and object_id:
            principal = object_id  # what its alias, the service principal's id, is

        if "eventTimestamp" in record or isinstance(get(record, "status"), dict):
            status = _value(record, "status")
        else:
            status = _first(record, "resultType")
        outcome = _activity_outcome(status)
        tenant_id = _claim(claims, CLAIM_TID) or _first(record, "tenantId")

        attrs: dict[str, Any] = {}
        for key, value in (
            ("caller_object_id", object_id),
            ("app_id", app_id),
            ("tenant_id", tenant_id),
        ):
            if value:
                attrs[key] = value
        if outcome == "failure":
            code = _first(record, "resultSignature") or _value(record, "subStatus")
            if code:
                attrs["error_code"] = code

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=_first(record, "eventDataId", "properties.eventDataId"),
            event_time=event_time,
            category=_activity_category(operation),
            action=operation,
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=tenant_id,
            credential_used=_claim(claims, ("uti",)),
            request_id=_first(record, "properties.serviceRequestId", "httpRequest.clientRequestId"),
            correlation_id=_first(record, "correlationId"),
            source_address=_first(record, "callerIpAddress", "httpRequest.clientIpAddress"),
            resource=_first(record, "resourceId"),
            resource_type=_value(record, "resourceType"),
            mfa=_amr_has_mfa(claims),
            attrs=attrs,
        )


SIGNIN_PARSER = EntraSignInParser()
ACTIVITY_PARSER = AzureActivityParser()
