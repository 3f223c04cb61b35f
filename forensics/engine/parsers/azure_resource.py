"""Azure data-plane resource logs: who read or wrote a Key Vault secret, key or certificate,
or a Storage blob.

Both arrive through a diagnostic setting, as storage-account exports (``PT1H.json``, one record
per line) or Event Hubs batches (``{"records": [...]}``), in the common resource log shape:
``time``, ``resourceId``, ``category``, ``operationName``, ``callerIpAddress``,
``correlationId``, ``identity`` and ``properties``.

Key Vault (category ``AuditEvent``) records the claims of the Entra token the caller presented
under ``identity.claim``. Storage (categories ``StorageRead``, ``StorageWrite``,
``StorageDelete``) records how the request was authenticated under ``identity.type``: only an
OAuth (or Kerberos) request names a caller, in ``identity.requester``. An account key or a
shared access signature is a secret anyone holding it can present, and an anonymous request
presents nothing: those name no one, and nothing here pretends they do.

Categories. ``data_access``: operations that read, write, use or destroy the content of a
secret, key, certificate or blob (``SecretGet``, ``KeySign``, ``GetBlob``, ``PutBlob``,
``DeleteBlob``, ...). ``permission_change``: vault updates, which carry access policies and
network rules (``VaultPut``, ``VaultPatch``), container ACLs (anonymous access) and Data Lake
ACLs. ``authentication``: Key Vault's ``Authentication`` records (requests refused before a
token was accepted). ``other``: listings, properties and metadata, policies, notifications.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote

from forensics.engine.model import (
    AUTHENTICATION,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers.common import (
    get,
    host_of,
    object_list,
    opt_dict,
    opt_str,
    parse_time,
    url_parts,
)
from forensics.engine.parsers.microsoft import (
    CLAIM_OID,
    CLAIM_TID,
    CLAIM_UPN,
    clean,
    first,
    record_object,
)

KEYVAULT_CATEGORY = "AuditEvent"
STORAGE_CATEGORIES = frozenset({"StorageRead", "StorageWrite", "StorageDelete"})

# Written where the log hides or lacks a value; not identifiers or addresses.
_PLACEHOLDERS = frozenset({"<redacted>", "redacted", "<null>", "null", "not available", "unknown"})

# --- shared -------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return clean(value, _PLACEHOLDERS)


def _first(record: Any, *paths: str) -> str:
    return first(record, paths, _PLACEHOLDERS)


def _resource_log(record: Any, categories: Collection[str], provider: str) -> bool:
    """A resource log record (``time``, ``category``, ``resourceId``) of one of these
    categories, written by a resource of this provider namespace (lower case)."""
    if not isinstance(record, dict):
        return False
    category = record.get("category")
    resource_id = record.get("resourceId")
    return (
        isinstance(category, str)
        and category in categories
        and "time" in record
        and isinstance(resource_id, str)
        and f"/providers/{provider}/" in resource_id.lower()
    )


def _record(record: Any) -> dict[str, Any]:
    return record_object(record)


def _address(value: str, with_port: bool) -> str:
    """The caller's address without its port (Storage appends one to every address, an IPv6
    one sometimes without brackets). A redacted address keeps its port: "<Redacted>:62289"
    names no one."""
    return _clean(host_of(_clean(value), always_port=with_port))


def _http_outcome(status: str) -> str:
    """success for 1xx-3xx, failure for 4xx-5xx, "" when the text is no HTTP status."""
    code = status.strip()
    if not (code.isdigit() and len(code) == 3):
        return ""
    return "failure" if code[0] in "45" else "success"


def _boolean_text(record: Any, path: str) -> str:
    value = get(record, path)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = _clean(opt_str(record, path)).lower()
    return text if text in {"true", "false"} else ""


def _attrs(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {key: value for key, value in pairs if value}


# --- Key Vault ----------------------------------------------------------------------------

_CLAIM_SCOPE = ("http://schemas.microsoft.com/identity/claims/scope", "scp")

# Object collections of a vault URI, and the resource type of each.
_VAULT_COLLECTIONS = {
    "secrets": "keyvault_secret",
    "deletedsecrets": "keyvault_secret",
    "keys": "keyvault_key",
    "deletedkeys": "keyvault_key",
    "certificates": "keyvault_certificate",
    "deletedcertificates": "keyvault_certificate",
}
_VERSION = re.compile(r"^[0-9a-fA-F]{32}$")

# Operation prefix -> the verbs that read, write, use or destroy the object's content.
_VAULT_DATA_VERBS: dict[str, frozenset[str]] = {
    "Secret": frozenset({"Get", "Set", "Backup", "Restore", "Delete", "Purge", "Recover"}),
    "Key": frozenset(
        {
            "Get",
            "Create",
            "Import",
            "Delete",
            "Purge",
            "Backup",
            "Restore",
            "Recover",
            "Sign",
            "Verify",
            "Wrap",
            "Unwrap",
            "Encrypt",
            "Decrypt",
            "Rotate",
            "RotateIfDue",
            "Release",
        }
    ),
    "Certificate": frozenset(
        {
            "Get",
            "Create",
            "Import",
            "Delete",
            "Purge",
            "Backup",
            "Restore",
            "Recover",
            "Enroll",
            "Renew",
            "PendingMerge",
        }
    ),
}
# Vault updates carry access policies and network rules; Managed HSM has its own role model.
_VAULT_PERMISSION_OPERATIONS = frozenset({"VaultPut", "VaultPatch"})
_VAULT_PERMISSION_PREFIXES = ("RoleAssignment", "RoleDefinition")

_HTTP_REASONS_OK = frozenset({"ok", "created", "accepted", "nocontent", "no content"})


def _claim(claims: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise RecordError(
                f"field 'identity.claim.{name}' should be text, found {type(value).__name__}"
            )
        text = _clean(str(value))
        if text:
            return text
    return ""


def _vault_category(operation: str) -> str:
    if operation == "Authentication":
        return AUTHENTICATION
    if operation in _VAULT_PERMISSION_OPERATIONS or operation.startswith(
        _VAULT_PERMISSION_PREFIXES
    ):
        return PERMISSION_CHANGE
    # "Certificate" before "Key" does not matter: no operation starts with both.
    for prefix, verbs in _VAULT_DATA_VERBS.items():
        if operation.startswith(prefix) and operation[len(prefix) :] in verbs:
            return DATA_ACCESS
    return OTHER


def _vault_outcome(record: dict[str, Any]) -> tuple[str, str]:
    """(outcome, HTTP status): the recorded status decides; resultType only without one."""
    status = _first(record, "properties.httpStatusCode")
    outcome = _http_outcome(status)
    if outcome:
        return outcome, status
    signature = _first(record, "resultSignature")
    outcome = _http_outcome(signature)
    if outcome:
        return outcome, signature
    reason = signature.lower()
    if reason in _HTTP_REASONS_OK:
        return "success", ""
    if reason in {"unauthorized", "forbidden", "notfound", "badrequest", "conflict"}:
        return "failure", ""
    result = _first(record, "resultType").lower()
    if result in {"success", "succeeded"}:
        return "success", ""
    if result in {"failure", "failed"}:
        return "failure", ""
    return "unknown", ""


def _vault_object(uri: str) -> tuple[str, str, str]:
    """(object URI without version, resource type, version) of a vault URI; "" when none."""
    text = _clean(uri)
    if not text:
        return "", "", ""
    parts = url_parts(text)
    if not parts.scheme or not parts.netloc:
        return "", "", ""
    base = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return base, "keyvault_vault", ""
    kind = _VAULT_COLLECTIONS.get(segments[0].lower())
    if kind is None:
        return base + "/" + "/".join(segments), "keyvault_vault", ""
    if len(segments) == 1:
        return f"{base}/{segments[0]}", "keyvault_vault", ""  # a listing of the collection
    version = segments[2] if len(segments) > 2 and _VERSION.match(segments[2]) else ""
    return f"{base}/{segments[0]}/{segments[1]}", kind, version


class KeyVaultParser:
    """Azure Key Vault audit logs (diagnostic category AuditEvent)."""

    kind = "azure_keyvault"
    label = "Azure Key Vault audit logs"

    def sniff(self, record: dict[str, Any]) -> bool:
        """A resource log record of category AuditEvent from a Microsoft.KeyVault resource."""
        return _resource_log(record, {KEYVAULT_CATEGORY}, "microsoft.keyvault")

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one Key Vault record; RecordError names the field when it cannot be."""
        record = _record(record)
        event_time = parse_time(get(record, "time"), "time")
        opt_dict(record, "properties")
        opt_dict(record, "identity")
        claims = opt_dict(record, "identity.claim")
        operation = _first(record, "operationName")

        upn = _claim(claims, CLAIM_UPN)
        object_id = _claim(claims, CLAIM_OID)
        app_id = _claim(claims, ("appid", "azp"))
        id_type = _claim(claims, ("idtyp",)).lower()
        mi_resource = _claim(claims, ("xms_mirid",))
        delegated = bool(_claim(claims, _CLAIM_SCOPE))
        if upn:
            principal, actor_kind = upn, "user"
        elif mi_resource and object_id:
            principal, actor_kind = object_id, "managed_identity"
        elif object_id and (id_type == "user" or (delegated and id_type != "app")):
            # A delegated token without a sign-in name: the user's object id is all there is.
            principal, actor_kind = object_id, "user"
        elif app_id or object_id:
            principal, actor_kind = app_id or object_id, "service_principal"
        else:
            principal, actor_kind = "", "unknown"

        outcome, status = _vault_outcome(record)
        resource, resource_type, version = _vault_object(_first(record, "properties.id"))
        if not resource or resource_type == "keyvault_vault":
            # The id names only what a request returned; the request URI names what was asked.
            requested = _vault_object(_first(record, "properties.requestUri"))
            if requested[0] and (not resource or requested[1] != "keyvault_vault"):
                resource, resource_type, version = requested
        if not resource:
            resource, resource_type = _first(record, "resourceId"), "keyvault_vault"

        tenant_id = _claim(claims, CLAIM_TID) or _first(record, "tenantId")
        attrs = _attrs(
            (
                ("caller_object_id", object_id),
                ("app_id", app_id),
                ("tenant_id", tenant_id),
                ("managed_identity_resource_id", mi_resource),
                ("object_version", version),
                ("http_status", status),
                ("access_policy_match", _boolean_text(record, "properties.isAccessPolicyMatch")),
                ("rbac_authorized", _boolean_text(record, "properties.isRbacAuthorized")),
                ("role_assignment_id", _first(record, "properties.appliedAssignmentId")),
            )
        )
        if outcome == "failure":
            attrs |= _attrs(
                (
                    ("error_code", _first(record, "resultSignature")),
                    ("error_message", _first(record, "resultDescription")),
                )
            )

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id="",
            event_time=event_time,
            category=_vault_category(operation),
            action="keyvault:" + (operation or "unknown operation"),
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=tenant_id,
            correlation_id=_first(record, "correlationId"),
            source_address=_address(opt_str(record, "callerIpAddress"), with_port=False),
            user_agent=_first(record, "properties.clientInfo"),
            resource=resource,
            resource_type=resource_type,
            attrs=attrs,
        )


# --- Storage ------------------------------------------------------------------------------

# identity.type values, lower case without spaces, that name no one.
SHARED_KEY_AUTH = frozenset({"accountkey", "sharedkey"})
SAS_AUTH = frozenset({"sas", "saskey", "delegationsas", "userdelegationsas", "servicesas"})
ANONYMOUS_AUTH = frozenset({"anonymous", "anonymouspreflight"})
_TOKEN_AUTH = frozenset({"oauth", "kerberos"})

# Operations that read, write or destroy stored content (blobs, files, messages, entities).
_STORAGE_DATA_OPERATIONS = frozenset(
    {
        # Blob
        "GetBlob",
        "QueryBlobContents",
        "PutBlob",
        "PutBlock",
        "PutBlockList",
        "PutBlockFromURL",
        "PutPage",
        "PutPageFromURL",
        "AppendBlock",
        "AppendBlockFromURL",
        "CopyBlob",
        "CopyBlobSource",
        "CopyBlobDestination",
        "StartCopyBlobFromURL",
        "CopyBlobFromURL",
        "SnapshotBlob",
        "DeleteBlob",
        "UndeleteBlob",
        "DeleteContainer",
        # Data Lake Storage
        "ReadFile",
        "AppendFile",
        "FlushFile",
        "CreatePathFile",
        "DeleteFile",
        "DeleteDirectory",
        "RenamePathFile",
        # Files
        "GetFile",
        "PutRange",
        "PutRangeFromURL",
        "CreateFile",
        "CopyFile",
        "CopyFileSource",
        "CopyFileDestination",
        # Queue
        "GetMessage",
        "GetMessages",
        "PeekMessage",
        "PeekMessages",
        "PutMessage",
        "UpdateMessage",
        "DeleteMessage",
        "ClearMessages",
        # Table
        "QueryEntity",
        "QueryEntities",
        "InsertEntity",
        "UpdateEntity",
        "MergeEntity",
        "DeleteEntity",
        "InsertOrReplaceEntity",
        "InsertOrMergeEntity",
    }
)
# Container ACLs open or close anonymous access; Data Lake ACLs grant POSIX permissions.
_STORAGE_PERMISSION_OPERATIONS = frozenset(
    {
        "SetContainerACL",
        "SetFileACL",
        "SetPathAccessControl",
        "SetPathAccessControlRecursive",
        "SetTableACL",
        "SetQueueACL",
        "SetShareACL",
    }
)
# serviceType -> (account, first level, object) resource types.
_STORAGE_TYPES = {
    "blob": ("storage_account", "storage_container", "storage_blob"),
    "file": ("storage_account", "storage_share", "storage_file"),
    "queue": ("storage_account", "storage_queue", "storage_queue"),
    "table": ("storage_account", "storage_table", "storage_table"),
}
_SERVICE_NAMES = {"files": "file", "dfs": "blob"}


def _storage_outcome(record: dict[str, Any]) -> tuple[str, str]:
    """(outcome, HTTP status) from statusCode, else statusText; "Unknown" says nothing."""
    status = _first(record, "statusCode")
    outcome = _http_outcome(status)
    if outcome:
        return outcome, status
    text = _first(record, "statusText").lower()
    if text.endswith("success"):  # Success, SASSuccess, AnonymousSuccess, ...
        return "success", ""
    if text in {"failure", "failed"}:
        return "failure", ""
    return "unknown", ""


def _unquoted(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].strip()
    return text


def _storage_resource(record: dict[str, Any], account: str, service: str) -> tuple[str, str]:
    """(https://<account>.<service>.<suffix>/<container>/<blob>, resource type)."""
    uri = url_parts(_first(record, "uri"))
    key = _first(record, "properties.objectKey")
    if key.lower().startswith(("https://", "http://")):
        # CopyBlobSource names the copy's source by its URL, a SAS token and all: the blob
        # is the URL's account and path; its query (the token's signature) is no name.
        uri, key = url_parts(key), ""
        account = (uri.hostname or "").split(".", 1)[0] or account
    host = (uri.hostname or "").lower()
    if key:
        segments = [s for s in key.split("/") if s]
        if segments and account and segments[0].lower() == account.lower():
            segments = segments[1:]
        elif segments and not account:
            account, segments = segments[0], segments[1:]
    else:
        segments = [unquote(s) for s in uri.path.split("/") if s]
    if not account and host:
        account = host.split(".", 1)[0]
    if not account:
        return _first(record, "resourceId"), ""
    service = service or (host.split(".")[1] if host.count(".") >= 2 else "blob")
    service = _SERVICE_NAMES.get(service, service)
    # The account's endpoint suffix as requested (sovereign clouds differ), whichever
    # endpoint (blob or dfs) carried the request: the same blob has one name.
    suffix = "core.windows.net"
    if host.startswith(account.lower() + ".") and host.count(".") >= 3:
        suffix = host.split(".", 2)[2]
    base = f"https://{account.lower()}.{service}.{suffix}"
    types = _STORAGE_TYPES.get(service, ("storage_account", "storage_" + service, "storage_object"))
    if not segments:
        return base, types[0]
    return base + "/" + "/".join(segments), types[1] if len(segments) == 1 else types[2]


def _member(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise RecordError(f"field '{where}.{key}' should be text, found {type(value).__name__}")
    return _clean(str(value))


class StorageParser:
    """Azure Storage resource logs (StorageRead, StorageWrite, StorageDelete)."""

    kind = "azure_storage"
    label = "Azure Storage logs"

    def sniff(self, record: dict[str, Any]) -> bool:
        """A resource log record of a Storage category from a Microsoft.Storage account."""
        return _resource_log(record, STORAGE_CATEGORIES, "microsoft.storage")

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one Storage record; RecordError names the field when it cannot be."""
        record = _record(record)
        event_time = parse_time(get(record, "time"), "time")
        opt_dict(record, "properties")
        opt_dict(record, "identity")
        opt_dict(record, "identity.requester")
        opt_dict(record, "identity.delegatedResource")
        operation = _first(record, "operationName")
        auth_type = _first(record, "identity.type")
        auth = auth_type.lower().replace(" ", "")

        r = "identity.requester."
        upn = _first(record, r + "upn", r + "uniqueName")
        object_id = _first(record, r + "objectId")
        app_id = _first(record, r + "appId")
        authorizations = object_list(record, "identity.authorization")
        principal_types = []
        results = []
        role_assignment = ""
        for where, item in authorizations:
            results.append(_member(item, "result", where))
            role_assignment = role_assignment or _member(item, "roleAssignmentId", where)
            for p_where, principal_item in object_list(item, "principals", where):
                principal_types.append(_member(principal_item, "type", p_where))
        principal_type = next((t for t in principal_types if t), "")

        token = auth in _TOKEN_AUTH or (not auth and bool(upn or object_id or app_id))
        if auth in ANONYMOUS_AUTH:
            principal, actor_kind = "", "anonymous"
        elif not token:
            # An account key, a SAS or an unknown scheme: a secret, not an identity.
            principal, actor_kind = "", "unknown"
        elif upn:
            principal, actor_kind = upn, "user"
        elif object_id and (principal_type.lower() == "user" or auth == "kerberos"):
            principal, actor_kind = object_id, "user"
        elif app_id or object_id:
            principal, actor_kind = app_id or object_id, "service_principal"
        else:
            principal, actor_kind = "", "unknown"

        outcome, status = _storage_outcome(record)
        account = _first(record, "properties.accountName")
        service = _first(record, "properties.serviceType").lower()
        resource, resource_type = _storage_resource(record, account, service)
        if operation in _STORAGE_DATA_OPERATIONS:
            category = DATA_ACCESS
        elif operation in _STORAGE_PERMISSION_OPERATIONS:
            category = PERMISSION_CHANGE
        else:
            category = OTHER
        tenant_id = _first(record, r + "tenantId")

        attrs = _attrs(
            (
                ("auth_type", auth_type),
                ("caller_object_id", object_id),
                ("app_id", app_id),
                ("tenant_id", tenant_id),
                ("principal_type", principal_type),
                ("storage_account", account),
                ("http_status", status),
                ("role_assignment_id", role_assignment),
                ("delegated_resource_id", _first(record, "identity.delegatedResource.resourceId")),
            )
        )
        if any(results):
            attrs["authorization_result"] = next(
                (v for v in results if v.lower() == "denied"), next(v for v in results if v)
            )
        if outcome == "failure":
            attrs |= _attrs((("error_code", _first(record, "statusText")),))

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id="",
            event_time=event_time,
            category=category,
            action="storage:" + (operation or "unknown operation"),
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            actor_account=tenant_id,
            # The hash names the token, key or SAS signature used: the same shared key
            # presented twice has the same hash, though it says nothing of who held it.
            credential_used=_first(record, "identity.tokenHash"),
            correlation_id=_first(record, "correlationId"),
            source_address=_address(opt_str(record, "callerIpAddress"), with_port=True),
            user_agent=_unquoted(_first(record, "properties.userAgentHeader")),
            resource=resource,
            resource_type=resource_type,
            attrs=attrs,
        )


KEYVAULT_PARSER = KeyVaultParser()
STORAGE_PARSER = StorageParser()
