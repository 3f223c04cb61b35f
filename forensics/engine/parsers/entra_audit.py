"""Microsoft Entra directory audit logs, in the shapes their producers emit.

Records come from Microsoft Graph (``auditLogs/directoryAudits``: one directoryAudit resource
per record), from an Azure Monitor diagnostic export of category ``AuditLogs`` (``time``,
``operationName``, ``callerIpAddress`` ... with the same directoryAudit fields under
``properties``) or from a Log Analytics / Microsoft Sentinel export of the ``AuditLogs`` table
(PascalCase columns). They say who changed the directory (``initiatedBy.user`` or
``initiatedBy.app``) and what they changed (``targetResources``): role assignments, consents,
application and service principal credentials, owners, policies, passwords.

The event's resource is the *first* target as recorded (a user's sign-in name, else the
target's display name, else its id); every target's id, type and name stay in attrs, in
record order, because which target is the object and which the subject differs by activity.
A credential change records the key ids it added, as ``servicePrincipalCredentialKeyId`` of
later service principal sign-ins names them; nothing here links the two.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

from forensics.engine.model import (
    AUTHENTICATION,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers.common import column_names, object_list, opt_dict, opt_str
from forensics.engine.parsers.microsoft import (
    clean,
    first,
    graph_powershell_object,
    log_analytics_row,
    monitor_fields,
    projected_row,
    table_shaped,
)

# The Azure Monitor diagnostic category of the directory audit log.
AUDIT_CATEGORY = "AuditLogs"

# Written where the log has no value; not identifiers or addresses.
_PLACEHOLDERS = frozenset({"<null>", "null", "<redacted>", "redacted", "not available"})

# Audit categories whose every activity changes who may do what.
_PERMISSION_CATEGORIES = frozenset({"RoleManagement", "Policy"})
# Activity name fragments (lower case) of credential, role, consent, owner and grant changes.
_PERMISSION_WORDS = (
    "role",
    "consent",
    "credential",
    "certificates and secrets",
    "secret",
    "owner",
    "permission grant",
    "policy",
)
# A user's own sign-in factors: passwords, MFA and authentication methods.
_AUTHENTICATION_WORDS = (
    "password",
    "security info",
    "authentication method",
    "strongauthentication",
    "mfa",
    "multi-factor",
    "multifactor",
    "fido",
    "passwordless",
    "temporary access pass",
)
_AUTHENTICATION_SERVICES = frozenset({"Authentication Methods", "Self-service Password Management"})

_KEY_ID = re.compile(r"KeyIdentifier=\s*([^,\]\s\"\\]+)")
_KEY_TYPE = re.compile(r"KeyType=\s*([^,\]\s\"\\]+)")


def _clean(value: str) -> str:
    return clean(value, _PLACEHOLDERS)


def _first(record: Any, *paths: str) -> str:
    return first(record, paths, _PLACEHOLDERS)


def _text_in(item: dict[str, Any], key: str, where: str) -> str:
    """A text member of an array element; the error names the element's full path."""
    value = item.get(key)
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise RecordError(f"field '{where}.{key}' should be text, found {type(value).__name__}")


def _decoded(text: str) -> Any:
    """A modifiedProperties value: JSON-encoded text, or plain text when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key_ids(value: str) -> list[tuple[str, str]]:
    """(KeyIdentifier, KeyType) of each key a KeyDescription value lists, in order."""
    keys = []
    starts = [m.start() for m in _KEY_ID.finditer(value)] + [len(value)]
    for start, end in pairwise(starts):
        entry = value[start:end]
        key_id = _KEY_ID.match(entry)
        key_type = _KEY_TYPE.search(entry)
        if key_id:
            keys.append((key_id.group(1), key_type.group(1) if key_type else ""))
    return keys


def activity_category(activity: str) -> str:
    """The category of a directory activity by its name alone, as the Microsoft 365 audit
    log's Entra records give it ("Add service principal credentials.")."""
    return _category("", activity, "")


def _category(audit_category: str, activity: str, service: str) -> str:
    name = activity.lower()
    if audit_category in _PERMISSION_CATEGORIES:
        return PERMISSION_CHANGE
    # Sign-in factors first: "Update authentication methods policy" aside (category Policy),
    # no credential or role activity names a password or MFA.
    if service in _AUTHENTICATION_SERVICES or any(w in name for w in _AUTHENTICATION_WORDS):
        return AUTHENTICATION
    if any(w in name for w in _PERMISSION_WORDS):
        return PERMISSION_CHANGE
    return OTHER


def _outcome(result: str) -> str:
    result = result.strip().lower()
    if result in {"success", "succeeded", "0"}:
        return "success"
    if result in {"failure", "failed"}:
        return "failure"
    # "timeout" and "unknownFutureValue": the log does not say whether the change was made.
    return "unknown"


def _tenant_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "tenants":
        return _clean(parts[1])
    return ""


# The Log Analytics AuditLogs table's columns this parser reads, by the directoryAudit
# field each one holds. TenantId is the workspace's and is left out; AADTenantId is the
# directory's.
_LOG_ANALYTICS_COLUMNS = {
    "Id": "id",
    "ActivityDateTime": "activityDateTime",
    "TimeGenerated": "activityDateTime",
    "ActivityDisplayName": "activityDisplayName",
    "OperationName": "activityDisplayName",
    "Category": "category",
    "CorrelationId": "correlationId",
    "Result": "result",
    "ResultReason": "resultReason",
    "LoggedByService": "loggedByService",
    "OperationType": "operationType",
    "InitiatedBy": "initiatedBy",
    "TargetResources": "targetResources",
    "AdditionalDetails": "additionalDetails",
    "AADTenantId": "tenantId",
}


def _is_graph_powershell_audit(record: dict[str, Any]) -> bool:
    """A directoryAudit as Microsoft Graph PowerShell returns it (PascalCase members)."""
    return (
        "ActivityDateTime" in record
        and "ActivityDisplayName" in record
        and ("InitiatedBy" in record or "TargetResources" in record)
        and not table_shaped(record)
    )


def _is_log_analytics_row(record: dict[str, Any]) -> bool:
    return record.get("Type") == AUDIT_CATEGORY and "TimeGenerated" in record


def _from_log_analytics(row: dict[str, Any]) -> dict[str, Any]:
    record = log_analytics_row(row, _LOG_ANALYTICS_COLUMNS)
    if record.get("category") == AUDIT_CATEGORY:
        del record["category"]  # the table's name, not the audit category
    return record


class EntraAuditParser:
    """Microsoft Entra directory audits: Graph directoryAudit resources and Monitor exports."""

    kind = "entra_audit"
    label = "Microsoft Entra audit logs"

    def sniff(self, record: dict[str, Any]) -> bool:
        """A Graph directoryAudit, an Azure Monitor record of the AuditLogs category or a row
        of the Log Analytics AuditLogs table."""
        if not isinstance(record, dict):
            return False
        if _is_log_analytics_row(record) or _is_graph_powershell_audit(record):
            return True
        if record.get("category") == AUDIT_CATEGORY:
            return isinstance(record.get("properties"), dict)
        return (
            "activityDateTime" in record
            and "activityDisplayName" in record
            and ("initiatedBy" in record or "targetResources" in record)
        )

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one audit record; RecordError names the field when it cannot be."""
        if not isinstance(record, dict):
            raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
        if _is_log_analytics_row(record) or projected_row(record):
            with column_names(_LOG_ANALYTICS_COLUMNS):
                return self._parse(_from_log_analytics(record))
        if _is_graph_powershell_audit(record):
            return self._parse(graph_powershell_object(record))
        return self._parse(record)

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        monitor = record.get("category") == AUDIT_CATEGORY
        p, event_time = monitor_fields(record, monitor, "activityDateTime")

        activity = _first(record, p + "activityDisplayName", "operationName")
        audit_category = _first(record, p + "category")
        service = _first(record, p + "loggedByService")
        result = _first(record, p + "result") or (_first(record, "resultType") if monitor else "")
        outcome = _outcome(result)

        # Wrong-typed initiators are malformed records; null ones mean "not this kind".
        opt_dict(record, p + "initiatedBy")
        opt_dict(record, p + "initiatedBy.user")
        opt_dict(record, p + "initiatedBy.app")
        u, a = p + "initiatedBy.user.", p + "initiatedBy.app."
        upn = _first(record, u + "userPrincipalName")
        user_id = _first(record, u + "id")
        sp_id = _first(record, a + "servicePrincipalId")
        app_id = _first(record, a + "appId")
        identity = _first(record, "identity") if monitor else ""
        if upn or user_id:
            principal, actor_kind = upn or user_id, "user"
            display_name = _first(record, u + "displayName")
        elif sp_id or app_id:
            principal, actor_kind = sp_id or app_id, "service_principal"
            display_name = ""
        else:
            principal, actor_kind = "", "unknown"
            # The export's identity names whoever acted, even when initiatedBy names no one.
            display_name = identity

        tenant_id = _first(record, "tenantId", p + "tenantId") or _tenant_of(
            opt_str(record, "resourceId")
        )
        home_tenant = _first(record, u + "homeTenantId")

        targets = object_list(record, p + "targetResources")
        target_ids, target_types, target_names = [], [], []
        added: list[tuple[str, str]] = []
        removed: list[str] = []
        role_name = ""
        # A credential given to an object made or changed by an activity not named for it
        # ("Add service principal" with a certificate, as az ad sp create-for-rbac does).
        credential_given = False
        for where, target in targets:
            name = _clean(_text_in(target, "userPrincipalName", where)) or _clean(
                _text_in(target, "displayName", where)
            )
            target_ids.append(_clean(_text_in(target, "id", where)))
            target_types.append(_clean(_text_in(target, "type", where)))
            target_names.append(name)
            for prop_where, prop in object_list(target, "modifiedProperties", where):
                prop_name = _text_in(prop, "displayName", prop_where).strip()
                if prop_name == "KeyDescription":
                    old = _key_ids(_text_in(prop, "oldValue", prop_where))
                    new = _key_ids(_text_in(prop, "newValue", prop_where))
                    old_ids = {key for key, _ in old}
                    new_ids = {key for key, _ in new}
                    added += [(key, kind) for key, kind in new if key not in old_ids]
                    removed += [key for key, _ in old if key not in new_ids]
                elif prop_name == "Credential":
                    given = _decoded(_text_in(prop, "newValue", prop_where))
                    credential_given = credential_given or (isinstance(given, list) and bool(given))
                elif prop_name == "Role.DisplayName" and not role_name:
                    value = _decoded(_text_in(prop, "newValue", prop_where))
                    if isinstance(value, list) and len(value) == 1:
                        value = value[0]
                    role_name = _clean(value) if isinstance(value, str) else ""
        first_type = target_types[0] if target_types else ""
        if not role_name and first_type == "Role":
            role_name = target_names[0]

        user_agent = _first(record, p + "userAgent")
        # Some services (PIM) name the caller's address only among the additional details.
        detail_address = ""
        for where, detail in object_list(record, p + "additionalDetails"):
            key = _text_in(detail, "key", where).strip().lower()
            if key == "user-agent" and not user_agent:
                user_agent = _clean(_text_in(detail, "value", where))
            elif key == "ipaddr" and not detail_address:
                detail_address = _clean(_text_in(detail, "value", where))

        attrs: dict[str, Any] = {}
        for key, value in (
            ("audit_category", audit_category),
            ("operation_type", _first(record, p + "operationType")),
            ("logged_by_service", service),
            ("user_id", user_id),
            ("actor_display_name", display_name),
            ("app_id", app_id),
            ("app_display_name", _first(record, a + "displayName")),
            ("service_principal_id", sp_id),
            ("service_principal_name", _first(record, a + "servicePrincipalName")),
            ("tenant_id", tenant_id),
            ("home_tenant_id", home_tenant),
            ("role_name", role_name),
        ):
            if value:
                attrs[key] = value
        if targets:
            attrs["target_ids"] = target_ids
            attrs["target_types"] = target_types
            attrs["target_names"] = target_names
        if added:
            attrs["credential_key_ids"] = [key for key, _ in added]
            attrs["credential_key_types"] = [kind for _, kind in added]
        if removed:
            attrs["removed_credential_key_ids"] = removed
        if outcome != "success":
            reason = _first(record, p + "resultReason") or (
                _first(record, "resultDescription") if monitor else ""
            )
            if result.lower() == "timeout":
                attrs["error_code"] = "timeout"
            if reason:
                attrs["error_message"] = reason

        category = _category(audit_category, activity, service)
        if category == OTHER and (credential_given or added):
            category = PERMISSION_CHANGE
        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=_first(record, p + "id"),
            event_time=event_time,
            category=category,
            action="entra:" + (activity or "audit activity"),
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=home_tenant or tenant_id,
            correlation_id=_first(record, p + "correlationId", "correlationId"),
            source_address=_first(record, u + "ipAddress", a + "ipAddress", "callerIpAddress")
            or detail_address,
            user_agent=user_agent,
            resource=(target_names[0] or target_ids[0]) if targets else "",
            resource_type=first_type,
            attrs=attrs,
        )


PARSER = EntraAuditParser()
