"""Microsoft 365 unified audit log records: who read which SharePoint / OneDrive file and which
mailbox, and with which Entra token.

Records come from the Office 365 Management Activity API (content blobs: arrays of records
in the common schema, ``CreationTime``, ``Workload``, ``Operation``, ``UserId``...), from
``Search-UnifiedAuditLog`` as PowerShell writes it out (the record as JSON text under
``AuditData``; an object there is read the same way).

``AppAccessContext.UniqueTokenId`` is the ``uti`` of the Entra token the request carried,
which an Entra sign-in records as ``uniqueTokenIdentifier``: the two link exactly, as an
Azure Activity event links to its sign-in. Without it, the record's own ``UserId`` (the UPN
Microsoft 365 authenticated) or the application it names is the asserted caller. Accounts
the service itself acts as (``UserType`` System, a Microsoft datacenter operator) name no
one in the organisation and are never turned into a person.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from forensics.engine.model import (
    AUTHENTICATION,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers import entra_audit
from forensics.engine.parsers.common import (
    fields_under,
    host_of,
    opt_dict,
    opt_str,
    parse_time,
)
from forensics.engine.parsers.microsoft import first

_PLACEHOLDERS = frozenset({"", "null", "<null>", "n/a", "unknown"})
_ACCESS = "AppAccessContext."

# UserType, as a number (the Management Activity API) or by name (some exports).
_USER_TYPES = {
    0: "Regular",
    1: "Reserved",
    2: "Admin",
    3: "DcAdmin",
    4: "System",
    5: "Application",
    6: "ServicePrincipal",
    7: "CustomPolicy",
    8: "SystemPolicy",
}
_PEOPLE = {"Regular", "Reserved", "Admin"}
_APPS = {"Application", "ServicePrincipal"}
# Exchange LogonType: how the mailbox was opened.
_LOGON_TYPES = {
    0: "Owner",
    1: "Admin",
    2: "Delegated",
    3: "Transport",
    4: "SystemService",
    5: "BestAccess",
    6: "DelegatedAdmin",
}
# SharePoint's name for whoever used an "anyone with the link" sharing link.
_ANONYMOUS_LINK = "urn:spo:anon#"
# SharePoint's name for an app acting with tenant-wide permissions.
_SHAREPOINT_APP = "app@sharepoint"

# Operations that read content (the accesses personal-data rules are matched against).
_READS = frozenset(
    {
        "FileAccessed",
        "FileAccessedExtended",
        "FileDownloaded",
        "FilePreviewed",
        "FileSyncDownloadedFull",
        "FileCopied",
        "SensitivityLabeledFileOpened",
        "MailItemsAccessed",
        "AttachmentAccess",
        "MessageBind",
        "SearchQueryInitiatedExchange",
        "SearchQueryInitiatedSharePoint",
        "ListItemViewed",
        "PageViewed",
    }
)
_SIGN_INS = frozenset({"UserLoggedIn", "UserLoginFailed", "MailboxLogin"})
_DIRECTORY = "AzureActiveDirectory"
_LOGIN_FAILED = "UserLoginFailed"
_PERMISSION_CHANGES = frozenset(
    {
        "Add-MailboxPermission",
        "Add-RecipientPermission",
        "Set-MailboxFolderPermission",
        "Add-MailboxFolderPermission",
        # The mailbox audit actions of the same changes, made in Outlook.
        "AddFolderPermissions",
        "ModifyFolderPermissions",
        "RemoveFolderPermissions",
        "UpdateFolderPermissions",
        "AddedToGroup",
        "SharingSet",
        "SharingInvitationCreated",
        "AnonymousLinkCreated",
        "CompanyLinkCreated",
        "SecureLinkCreated",
        "AddedToSecureLink",
        "SiteCollectionAdminAdded",
        "Add member to role.",
        "Add app role assignment to service principal.",
        "Consent to application.",
    }
)
_FAILED = {"failed", "false", "failure"}
_SUCCEEDED = {"succeeded", "success", "true", "partiallysucceeded"}


def _first(record: Any, *paths: str) -> str:
    return first(record, paths, _PLACEHOLDERS)


def _name(value: Any, names: dict[int, str]) -> str:
    """An enum given as its number or its name."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, str) and value.strip().isdigit():
        return names.get(int(value.strip()), value.strip())
    return value.strip() if isinstance(value, str) else ""


def _inner(record: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The audit record a search result or Graph record wraps, and the path it sits under."""
    for key in ("AuditData", "auditData"):
        value = record.get(key)
        if value is None or key not in record:
            continue
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise RecordError(f"field '{key}' is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise RecordError(f"field '{key}' should hold a JSON object")
        return value, f"{key}."
    return record, ""


def _is_record(record: dict[str, Any]) -> bool:
    return (
        "CreationTime" in record
        and isinstance(record.get("Operation"), str)
        and "RecordType" in record
        and ("Workload" in record or "OrganizationId" in record)
    )


class M365AuditParser:
    kind = "m365_audit"
    label = "Microsoft 365 unified audit log"

    def sniff(self, record: dict[str, Any]) -> bool:
        if not isinstance(record, dict):
            return False
        if _is_record(record):
            return True
        inner = record.get("AuditData", record.get("auditData"))
        if isinstance(inner, str) and inner.lstrip().startswith("{"):
            try:
                inner = orjson.loads(inner)
            except orjson.JSONDecodeError:
                return False
        return isinstance(inner, dict) and _is_record(inner)

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        if not isinstance(record, dict):
            raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
        inner, prefix = _inner(record)
        if not prefix:
            return _normalize(inner)
        with fields_under(prefix):
            return _normalize(inner)


PARSER = M365AuditParser()


def _normalize(rec: dict[str, Any]) -> NormalizedEvent:
    event_time = parse_time(rec.get("CreationTime"), "CreationTime")
    operation = opt_str(rec, "Operation").strip()
    if not operation:
        raise RecordError("required field 'Operation' is missing or empty")
    workload = _first(rec, "Workload")
    user_type = _name(rec.get("UserType"), _USER_TYPES)
    user_id = _first(rec, "UserId")
    opt_dict(rec, "AppAccessContext")  # an object when present: odd values are named
    app_id = _first(
        rec, _ACCESS + "ClientAppId", "ClientAppId", "AppId", "ApplicationId", "ActorAppId"
    )
    app_name = _first(rec, _ACCESS + "ClientAppName", "ApplicationDisplayName", "AppDisplayName")
    principal, actor_kind = _actor(user_type, user_id, app_id, app_name)
    resource, resource_type = _resource(rec, workload)

    attrs: dict[str, Any] = {}
    for key, value in (
        ("workload", workload),
        ("record_type", _name(rec.get("RecordType"), {})),
        ("user_type", user_type),
        ("user_key", _first(rec, "UserKey")),
        ("app_id", app_id),
        ("app_display_name", app_name),
        ("aad_session_id", _first(rec, _ACCESS + "AADSessionId")),
        ("token_issued_at", _first(rec, _ACCESS + "IssuedAtTime")),
        ("logon_type", _name(rec.get("LogonType"), _LOGON_TYPES)),
        ("logon_user", _first(rec, "LogonUserDisplayName")),
        ("logon_user_sid", _first(rec, "LogonUserSid")),
        ("mailbox_owner", _first(rec, "MailboxOwnerUPN")),
        ("site_url", _first(rec, "SiteUrl")),
        ("source_file_name", _first(rec, "SourceFileName")),
        ("result_status", _first(rec, "ResultStatus")),
        ("error_code", _first(rec, "LogonError")),
    ):
        if value:
            attrs[key] = value
    # How MailItemsAccessed read: one item (Bind) or a folder synced whole (Sync), and
    # whether the mailbox was throttled (no such record is then written for 24 hours).
    for key, name in (("mail_access_type", "MailAccessType"), ("is_throttled", "IsThrottled")):
        value = _extended(rec, name, "OperationProperties")
        if value:
            attrs[key] = value.lower() if key == "is_throttled" else value
    count = rec.get("OperationCount")
    if isinstance(count, int) and not isinstance(count, bool):
        attrs["operation_count"] = str(count)
    external = rec.get("ExternalAccess")
    if isinstance(external, bool):
        attrs["external_access"] = "true" if external else "false"
    return NormalizedEvent(
        source_kind=PARSER.kind,
        source_event_id=_first(rec, "Id"),
        event_time=event_time,
        category=_category(operation, workload),
        action=f"{workload}:{operation}" if workload else operation,
        # A failed sign-in is one whatever status it carries beside the operation's name.
        outcome="failure" if operation == _LOGIN_FAILED else _outcome(_first(rec, "ResultStatus")),
        actor_principal=principal,
        actor_kind=actor_kind,
        actor_account=_first(rec, "OrganizationId"),
        credential_used=_first(rec, _ACCESS + "UniqueTokenId"),
        correlation_id=_first(rec, _ACCESS + "CorrelationId", "CorrelationId"),
        source_address=host_of(_first(rec, "ClientIP", "ClientIPAddress", "ActorIpAddress")),
        user_agent=_first(rec, "UserAgent", "ClientInfoString") or _extended(rec, "UserAgent"),
        resource=resource,
        resource_type=resource_type,
        mfa=None,
        attrs=attrs,
    )


# Windows' well-known service accounts: LocalSystem, LocalService and NetworkService, by SID
# or by name ("NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)").
_WINDOWS_SERVICE_ACCOUNT = re.compile(
    r"S-1-5-(?:18|19|20)|NT AUTHORITY\\(?:SYSTEM|LOCAL SERVICE|NETWORK SERVICE)(?: \(.*\))?",
    re.IGNORECASE,
)


def _actor(user_type: str, user_id: str, app_id: str, app_name: str) -> tuple[str, str]:
    """(principal, actor kind): a person only when the record says a user acted."""
    if user_id.lower().startswith(_ANONYMOUS_LINK):
        return user_id, "anonymous"  # whoever held an "anyone" sharing link
    if user_type in _APPS or user_id.lower() == _SHAREPOINT_APP:
        return (app_name or app_id or user_id), ("service_principal" if app_id else "unknown")
    if _WINDOWS_SERVICE_ACCOUNT.fullmatch(user_id.strip()):
        # Exchange records its own work as Windows' service accounts, typed Admin or not.
        return user_id, "service"
    if user_type in _PEOPLE or (not user_type and "@" in user_id):
        return user_id, ("user" if user_id else "unknown")
    # System accounts, datacenter operators and policies: the service acting as itself.
    return user_id, "service" if user_id else "unknown"


def _resource(rec: dict[str, Any], workload: str) -> tuple[str, str]:
    owner = _first(rec, "MailboxOwnerUPN")
    if workload == "Exchange" and owner:
        return f"mailbox:{owner.lower()}", "mailbox"
    target = _first(rec, "ObjectId")
    if not target:
        return "", ""
    item_type = _first(rec, "ItemType")
    return target, (item_type.lower() if item_type else workload.lower())


def _category(operation: str, workload: str) -> str:
    if operation in _SIGN_INS:
        return AUTHENTICATION
    if workload == _DIRECTORY:
        # Entra's own audit activities: categorized as the directory audit log's are.
        return entra_audit.activity_category(operation)
    if operation in _PERMISSION_CHANGES:
        return PERMISSION_CHANGE
    if operation in _READS:
        return DATA_ACCESS
    return OTHER


def _extended(rec: dict[str, Any], name: str, member: str = "ExtendedProperties") -> str:
    """A value of ``ExtendedProperties``, the list of {"Name", "Value"} pairs Entra's records
    in the audit log carry (the sign-in's UserAgent, RequestType, ResultStatusDetail), or of
    another such list (Exchange's ``OperationProperties``)."""
    pairs = rec.get(member)
    for pair in pairs if isinstance(pairs, list) else ():
        if isinstance(pair, dict) and pair.get("Name") == name:
            value = pair.get("Value")
            return value.strip() if isinstance(value, str) else ""
    return ""


def _outcome(status: str) -> str:
    text = status.lower().replace(" ", "")
    if text in _FAILED:
        return "failure"
    if text in _SUCCEEDED:
        return "success"
    return "unknown"
