"""Google Cloud Audit Logs: LogEntry objects whose protoPayload is a google.cloud.audit.AuditLog.

Cloud Logging exports them as JSON Lines from sinks and as a JSON array from
``gcloud logging read --format=json``; both use the camelCase JSON names of the LogEntry and
AuditLog messages. A sink to BigQuery renames the payload ``protopayload_auditlog`` and turns
its request, response and metadata into JSON text (``requestJson`` ...); rows exported from
there (``bq extract``, a saved query result) are read as the entries they were. Identity
lives in ``protoPayload.authenticationInfo``: the authenticated principal, the long-lived
service-account key it used, and the delegation history of a service account that was
impersonated.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from forensics.engine.model import (
    AUTHENTICATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers.common import (
    column_names,
    get,
    opt_dict,
    opt_list,
    opt_str,
    parse_time,
    unmasked,
)
from forensics.engine.parsers.k8s_audit import k8s_actor_kind, k8s_category, k8s_resource

AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
_AUDIT_LOG_ID = "cloudaudit.googleapis.com/"

# Redaction markers and placeholders: they say the log hid the value, never who acted.
_REDACTED = frozenset({"redacted", "hidden_due_to_security_reasons", "unknown", "null", "none"})
_ANONYMOUS = {"allusers"}

_SA_DOMAIN = ".gserviceaccount.com"
# Google-managed service agents: Google creates them and acts through them for a service.
_AGENT_DOMAINS = {"system.gserviceaccount.com", "cloudservices.gserviceaccount.com"}
_AGENT_LOCAL = re.compile(r"^service-(?:org-|folder-)?\d+$")
_K8S_PREFIX = "system:"

# IAM Service Account Credentials methods: each mints a credential (token or signature) that
# lets the caller act as the target service account.
_IMPERSONATION_METHODS = {"GenerateAccessToken", "GenerateIdToken", "SignBlob", "SignJwt"}
_EXCHANGE_METHODS = {"ExchangeToken"}
_IAM_V1_SIGNING = {"SignBlob", "SignJwt"}
# What callerIp holds in place of an address (AuditLog reference, RequestMetadata): a call
# from inside Google's network, or from a VM without an external address in another project.
_REDACTED_CALLER_IPS = frozenset({"private", "gce-internal-ip"})
_SIGN_IN_METHODS = {"WebSignIn"}

_PERMISSION_METHODS = {"setiampolicy", "setiampermissions"}
# IAM custom roles and deny policies change what principals may do as well.
_VPC_SC_METADATA = "type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata"
# The calls that make a service account key, whose response names it.
_KEY_CREATIONS = {"createserviceaccountkey", "uploadserviceaccountkey"}
_IAM_POLICY_METHODS = {
    # Service accounts and their long-lived keys, as AWS's IAM users and access keys.
    "createserviceaccount",
    "deleteserviceaccount",
    "createserviceaccountkey",
    "uploadserviceaccountkey",
    "deleteserviceaccountkey",
    "disableserviceaccountkey",
    "enableserviceaccountkey",
    "createrole",
    "updaterole",
    "deleterole",
    "undeleterole",
    "createpolicy",
    "updatepolicy",
    "deletepolicy",
}

# Reads and writes of user data when the entry does not say its permission type.
_DATA_METHODS = {
    "storage.objects.get",
    "storage.objects.create",
    "storage.objects.update",
    "storage.objects.delete",
    "storage.objects.compose",
    "storage.objects.rewrite",
    "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
    "google.cloud.bigquery.v2.TableDataService.List",
    "google.cloud.bigquery.storage.v1.BigQueryRead.CreateReadSession",
}
_DATA_PERMISSIONS = {
    "storage.objects.get",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.objects.update",
    "bigquery.tables.getData",
    "bigquery.tables.updateData",
    "secretmanager.versions.access",
}
_DATA_PERMISSION_TYPES = {"DATA_READ", "DATA_WRITE"}
_BQ_DATA_METADATA = ("tableDataRead", "tableDataChange", "modelDataRead", "modelDataChange")

_GCS_NAME = re.compile(r"^projects/_/buckets/([^/]+)(?:/objects/(.+))?$", re.DOTALL)
_BQ_NAME = re.compile(r"^projects/([^/]+)/datasets/([^/]+)(?:/tables/([^/]+))?$")
_GKE_METHOD = re.compile(r"^io\.k8s\.(?:(.+?)\.)?(v\d+(?:(?:alpha|beta)\d*)?)\.(.+)$")


def _record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
    return record


def _clean(value: str) -> str:
    """The value, or "" when the log redacted it ("*****", "REDACTED", ...)."""
    return unmasked(value, _REDACTED)


def _text(value: Any) -> str:
    """A member of a nested array or object as text; "" for objects, arrays and null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _bare(principal: str) -> str:
    """The principal without an IAM member prefix ("serviceAccount:", "user:")."""
    head, sep, rest = principal.partition(":")
    return rest if sep and head in {"serviceAccount", "user", "group", "domain"} else principal


def is_service_account(principal: str) -> bool:
    """True for a Google service account email (with or without "serviceAccount:")."""
    return _bare(principal).lower().endswith(_SA_DOMAIN)


def actor_kind(principal: str) -> str:
    """The ACTOR_KINDS value for a principal string as Cloud Audit Logs records it."""
    if not principal:
        return "unknown"
    if principal.startswith(_K8S_PREFIX):
        # GKE's own audit entries name Kubernetes users in principalEmail.
        return k8s_actor_kind(principal)
    if principal.startswith(("principal://", "principalSet://")):
        # Workload Identity Federation for GKE pools (PROJECT.svc.id.goog) name Kubernetes
        # service accounts; every other pool holds identities federated from another IdP.
        if ".svc.id.goog/" in principal:
            return "service_account"
        if "/workloadIdentityPools/" in principal or "/workforcePools/" in principal:
            return "federated_session"
        return "user"
    bare = _bare(principal)
    if principal.startswith("serviceAccount:") and ".svc.id.goog[" in bare:
        return "service_account"  # legacy GKE form "serviceAccount:PROJECT.svc.id.goog[ns/ksa]"
    local, _, domain = bare.lower().rpartition("@")
    if domain.endswith(_SA_DOMAIN):
        if domain in _AGENT_DOMAINS or domain.startswith("gcp-sa-") or _AGENT_LOCAL.match(local):
            return "service"
        return "service_account"
    return "user"


def log_kind(log_name: str) -> str:
    """The audit log a logName belongs to (activity, data_access, system_event, policy)."""
    decoded = unquote(log_name)
    _, sep, kind = decoded.partition(_AUDIT_LOG_ID)
    return kind if sep else ""


def _delegator(entry: Any) -> str:
    """The principal one serviceAccountDelegationInfo entry names; "" when it names none."""
    if not isinstance(entry, dict):
        return ""
    first = entry.get("firstPartyPrincipal")
    first = first if isinstance(first, dict) else {}
    for value in (
        first.get("principalEmail"),
        entry.get("principalSubject"),
        first.get("principalSubject"),
    ):
        text = _clean(_text(value))
        if text:
            return text
    return ""


# The payloads of log entries other than audit logs (LogEntry reference).
_OTHER_PAYLOADS = ("jsonPayload", "textPayload")


def _service_delegation(record: dict[str, Any]) -> dict[str, Any]:
    """Whom a Google service acted for: ``serviceDelegationHistory`` records that the
    caller (a service's own account, such as a BigQuery connection's service agent) did the
    work for ``originalPrincipal``, through the services of its ``serviceMetadata``."""
    history = opt_dict(record, "protoPayload.authenticationInfo.serviceDelegationHistory")
    original = _clean(_text(history.get("originalPrincipal")))
    if not original:
        return {}
    services = [
        domain
        for item in history.get("serviceMetadata") or []
        if isinstance(item, dict) and (domain := _clean(_text(item.get("serviceDomain"))))
    ]
    return {
        "original_principal": original,
        **({"delegating_services": services} if services else {}),
    }


def delegation_chain(entries: list[Any]) -> list[str]:
    """The delegation history as principals from the original caller to the last delegate.

    An entry the log does not name stays as "" so the origin is never silently shifted.
    """
    names = [_delegator(entry) for entry in entries]
    # The AuditLog reference says only that the entries keep "the original ordering of the
    # identity delegation events". Entries for chained impersonation, as Cloud Logging writes
    # them, list the principal that impersonated the authenticated service account directly
    # first and the original caller last, so the list is reversed here. Only service accounts
    # can be impersonated, so a named principal that is not one can only be the original
    # caller: when such a principal comes first and a service account last, the entries
    # already run from the origin and keep their order.
    first, last = (names[0], names[-1]) if names else ("", "")
    if len(names) > 1 and first and not is_service_account(first) and is_service_account(last):
        return names
    return names[::-1]


def mapped_principal(record: dict[str, Any]) -> str:
    """The IAM principal an STS token exchange mapped its subject to: ``mapped_principal``
    in the exchange's ``AuditData`` metadata (``mappedPrincipal`` in a web sign-in's)."""
    return _clean(
        opt_str(record, "protoPayload.metadata.mapped_principal")
        or opt_str(record, "protoPayload.metadata.mappedPrincipal")
    )


def _service_account_name(resource_name: str) -> str:
    """The account part of "projects/-/serviceAccounts/<email or unique id>"."""
    _, sep, account = resource_name.rpartition("/serviceAccounts/")
    return account.split("/", 1)[0] if sep else resource_name


def _target_service_account(record: dict[str, Any]) -> str:
    """The service account an iamcredentials call acts as: its email when the log has it."""
    candidates = [
        _service_account_name(opt_str(record, "protoPayload.request.name")),
        opt_str(record, "resource.labels.email_id"),
        _service_account_name(opt_str(record, "protoPayload.resourceName")),
    ]
    present = [c for c in candidates if c]
    for account in present:
        if "@" in account:
            return account
    return present[0] if present else ""


def _key_id(key_name: str) -> str:
    """The key id of ".../serviceAccounts/<sa>/keys/<key id>"."""
    _, sep, key = key_name.rpartition("/keys/")
    return key if sep and key else key_name


def canonical_resource(service: str, resource_name: str) -> str:
    """gs://bucket/object for Cloud Storage, bq://project/dataset/table for BigQuery."""
    m = _GCS_NAME.match(resource_name)
    if m:
        bucket, obj = m.group(1), m.group(2)
        return f"gs://{bucket}/{obj}" if obj else f"gs://{bucket}"
    m = _BQ_NAME.match(resource_name)
    if m and service.startswith("bigquery"):
        return "bq://" + "/".join(part for part in m.groups() if part)
    return resource_name


def _perimeter_violation(
    metadata: dict[str, Any],
    resource_name: str,
    method: str,
    category: str,
    outcome: str,
    attrs: dict[str, Any],
) -> tuple[str, str, str]:
    """A request VPC Service Controls refused (the policy log): the resource it was for
    (``resourceNames``; ``resourceName`` is the project), what the call would have been, and
    its outcome. In dry-run mode the perimeter only says it would have refused: whether the
    request then succeeded, the entry does not say."""
    names = metadata.get("resourceNames")
    if isinstance(names, list) and names and isinstance(names[0], str) and names[0]:
        resource_name = names[0]
    reason = metadata.get("violationReason")
    if isinstance(reason, str) and reason:
        attrs["vpc_sc_violation"] = reason
    if category == OTHER and method.removeprefix("google.") in _DATA_METHODS:
        category = DATA_ACCESS
    if metadata.get("dryRun") is True:
        attrs["vpc_sc_dry_run"] = "true"
        outcome = "unknown"
    return resource_name, category, outcome


def _short_method(method: str) -> str:
    return method.rsplit(".", 1)[-1]


def _gke_call(method: str) -> tuple[str, str, str, str] | None:
    """(verb, resource, subresource, api group) of a GKE method such as io.k8s.core.v1.pods.get."""
    m = _GKE_METHOD.match(method)
    if not m:
        return None
    group = m.group(1) or ""
    parts = m.group(3).split(".")
    if len(parts) < 2:
        return None
    verb, resource = parts[-1], parts[0]
    sub = "/".join(parts[1:-1])
    if group == "core":
        group = ""
    elif group.startswith("authorization.rbac"):
        group = "rbac.authorization.k8s.io"
    return verb, resource, sub, group


def _gke_object(method: str, resource_name: str) -> tuple[str, str] | None:
    """(k8s://<namespace or _cluster>/<resource>[/<subresource>]/<name>, resource) of a GKE
    entry's ``resourceName`` ("core/v1/namespaces/prod/secrets/db"), as the Kubernetes audit
    parser names objects; None when the name does not hold the method's resource."""
    call = _gke_call(method)
    if call is None:
        return None
    resource = call[1]
    parts = resource_name.strip("/").split("/")[2:]  # past the group and the version
    namespace = ""
    if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] == resource:
        namespace, rest = parts[1], parts[3:]
    elif parts and parts[0] == resource:
        rest = parts[1:]
    else:
        return None
    name = rest[0] if rest else ""
    return k8s_resource(namespace, resource, "/".join(rest[1:]), name), resource


def _category(
    service: str,
    method: str,
    kind: str,
    permission_types: set[str],
    permissions: list[str],
    metadata: dict[str, Any],
) -> str:
    short = _short_method(method)
    if service == "iamcredentials.googleapis.com" and short in _IMPERSONATION_METHODS:
        return CREDENTIAL_ISSUE
    if service == "iam.googleapis.com" and short in _IAM_V1_SIGNING:
        return CREDENTIAL_ISSUE  # the IAM API's older signBlob / signJwt, as the account
    if service == "sts.googleapis.com" and short in _EXCHANGE_METHODS:
        return CREDENTIAL_ISSUE
    if service == "sts.googleapis.com" and short in _SIGN_IN_METHODS:
        return AUTHENTICATION
    if short.lower() in _PERMISSION_METHODS:
        return PERMISSION_CHANGE
    if service == "iam.googleapis.com" and short.lower() in _IAM_POLICY_METHODS:
        return PERMISSION_CHANGE
    gke = _gke_call(method) if service == "k8s.io" else None
    if gke is not None:
        return k8s_category(*gke)
    if permission_types & _DATA_PERMISSION_TYPES:
        return DATA_ACCESS
    if kind == "data_access" and (
        method in _DATA_METHODS
        or any(p in _DATA_PERMISSIONS for p in permissions)
        or any(key in metadata for key in _BQ_DATA_METADATA)
    ):
        return DATA_ACCESS
    return OTHER


def _authorization(record: dict[str, Any]) -> tuple[list[str], bool | None, set[str]]:
    """(permissions checked, whether all were granted, permission types) from authorizationInfo."""
    permissions: list[str] = []
    types: set[str] = set()
    granted: bool | None = None
    for entry in opt_list(record, "protoPayload.authorizationInfo"):
        if not isinstance(entry, dict):
            continue
        permission = _text(entry.get("permission"))
        kind = _text(entry.get("permissionType"))
        if kind:
            types.add(kind)
        if not permission:
            continue
        if permission not in permissions:
            permissions.append(permission)
        # proto3 JSON leaves out a false "granted", so an absent value means not granted.
        ok = entry.get("granted") is True
        granted = ok if granted is None else granted and ok
    return permissions, granted, types


def _is_anonymous(principal: str, status_message: str) -> bool:
    return principal.lower() in _ANONYMOUS or status_message.startswith("Anonymous caller")


def _gke_token_subject(resource_name: str) -> str:
    """system:serviceaccount:<ns>:<name> from core/v1/namespaces/<ns>/serviceaccounts/<name>/..."""
    m = re.search(r"namespaces/([^/]+)/serviceaccounts/([^/]+)", resource_name)
    return f"system:serviceaccount:{m.group(1)}:{m.group(2)}" if m else ""


def _issued(
    record: dict[str, Any], service: str, resource_name: str, attrs: dict[str, Any]
) -> tuple[str, str]:
    """(issued principal, issue method) of a credential-issuing call; adds its attrs."""
    if service == "sts.googleapis.com":
        subject = attrs.get("principal_subject", "")
        if subject:
            attrs["federation_subject"] = subject
        audience = opt_str(record, "protoPayload.request.audience")
        if audience:
            attrs["federation_audience"] = audience
        return mapped_principal(record), "token-exchange"
    if service == "k8s.io":
        return _gke_token_subject(resource_name), "token-exchange"
    delegates = [
        _service_account_name(_text(d)) for d in opt_list(record, "protoPayload.request.delegates")
    ]
    if delegates:
        attrs["delegates"] = delegates
    return _target_service_account(record), "impersonation"


# A BigQuery sink's names for the AuditLog members it stores as JSON text.
_BIGQUERY_JSON_MEMBERS = (
    ("requestJson", "request"),
    ("responseJson", "response"),
    ("metadataJson", "metadata"),
)


_BIGQUERY_NAMES = {"protopayload_auditlog": "protoPayload"}


def _from_bigquery(row: dict[str, Any]) -> dict[str, Any]:
    """A row of a BigQuery sink's audit table as the LogEntry it was made from.

    JSON text that does not decode to an object is left out: the member is unreadable, and
    everything that names the caller lies outside it.
    """
    payload = dict(row["protopayload_auditlog"])
    for text_name, name in _BIGQUERY_JSON_MEMBERS:
        text = payload.pop(text_name, None)
        if isinstance(text, str) and text.strip():
            try:
                value = json.loads(text)
            except ValueError:
                continue
            if isinstance(value, dict):
                payload[name] = value
    entry = {k: v for k, v in row.items() if k != "protopayload_auditlog"}
    entry["protoPayload"] = payload
    return entry


class GcpAuditParser:
    kind = "gcp_audit"
    label = "Google Cloud Audit Logs"

    def sniff(self, record: dict[str, Any]) -> bool:
        if not isinstance(record, dict):
            return False
        payload = record.get("protoPayload")
        if isinstance(payload, dict) and payload.get("@type") == AUDIT_LOG_TYPE:
            return True
        log_name = record.get("logName")
        return isinstance(log_name, str) and "cloudaudit.googleapis.com" in log_name

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        record = _record(record)
        if "protoPayload" not in record and isinstance(record.get("protopayload_auditlog"), dict):
            with column_names(_BIGQUERY_NAMES):
                return self._parse(_from_bigquery(record))
        return self._parse(record)

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        if not opt_dict(record, "protoPayload"):
            other = next((k for k in _OTHER_PAYLOADS if record.get(k) not in (None, "", {})), "")
            if other:
                # Another log's entry in a mixed export: an application's or a platform's.
                log = opt_str(record, "logName")
                raise RecordError(
                    f"not an audit log entry: it has {other}, not protoPayload"
                    + (f" (log {unquote(log)!r})" if log else "")
                )
            raise RecordError("required field 'protoPayload' is missing or empty")
        payload_type = opt_str(record, "protoPayload.@type")
        if payload_type and payload_type != AUDIT_LOG_TYPE:
            # Another log's entry in the same export (a request log, an application's own
            # payload): its status and principal do not mean what an audit log's do.
            raise RecordError(
                f"protoPayload.@type is {payload_type!r}, not an audit log entry ({AUDIT_LOG_TYPE})"
            )
        event_time = parse_time(get(record, "timestamp"), "timestamp")
        # Objects read below by path must be objects: a wrong type fails here, named.
        opt_dict(record, "protoPayload.authenticationInfo")
        opt_dict(record, "protoPayload.requestMetadata")
        metadata = opt_dict(record, "protoPayload.metadata")
        service = opt_str(record, "protoPayload.serviceName")
        method = opt_str(record, "protoPayload.methodName")
        resource_name = opt_str(record, "protoPayload.resourceName")
        kind = log_kind(opt_str(record, "logName"))
        attrs: dict[str, Any] = {}
        if service:
            attrs["event_source"] = service
        if kind:
            attrs["log_name"] = kind

        code = opt_str(record, "protoPayload.status.code")
        message = opt_str(record, "protoPayload.status.message")
        outcome = "success" if code in {"", "0"} else "failure"
        if outcome == "failure":
            attrs["error_code"] = code
            if message:
                attrs["error_message"] = message

        email = _clean(opt_str(record, "protoPayload.authenticationInfo.principalEmail"))
        subject = _clean(opt_str(record, "protoPayload.authenticationInfo.principalSubject"))
        principal = email or subject
        if _is_anonymous(principal, message):
            principal, actor = "", "anonymous"
        else:
            actor = actor_kind(principal)
            if actor == "user" and subject.startswith("serviceAccount:"):
                actor = "service_account"  # typed by the log, whatever its domain reads
        if subject:
            attrs["principal_subject"] = subject
        selector = opt_str(record, "protoPayload.authenticationInfo.authoritySelector")
        if selector:
            attrs["authority_selector"] = selector
        key_name = opt_str(record, "protoPayload.authenticationInfo.serviceAccountKeyName")
        if key_name:
            attrs["service_account_key_name"] = key_name
        delegations = opt_list(
            record, "protoPayload.authenticationInfo.serviceAccountDelegationInfo"
        )
        if delegations:
            attrs["delegation_chain"] = delegation_chain(delegations)
        attrs.update(_service_delegation(record))
        if _short_method(method).lower() in _KEY_CREATIONS:
            created = opt_str(record, "protoPayload.response.name")
            if "/keys/" in created:
                attrs["created_key_id"] = _key_id(created)

        permissions, granted, permission_types = _authorization(record)
        if permissions:
            attrs["permissions"] = permissions
        if granted is not None:
            attrs["granted"] = "true" if granted else "false"

        category = _category(service, method, kind, permission_types, permissions, metadata)
        if metadata.get("@type") == _VPC_SC_METADATA:
            resource_name, category, outcome = _perimeter_violation(
                metadata, resource_name, method, category, outcome, attrs
            )
        resource = canonical_resource(service, resource_name)
        resource_type = opt_str(record, "resource.type")
        gke_object = _gke_object(method, resource_name) if service == "k8s.io" else None
        if gke_object is not None:
            # The object as the cluster's own audit log names it, so a search for a secret
            # finds its reads whichever log carried them.
            resource, resource_type = gke_object
            cluster = opt_str(record, "resource.labels.cluster_name")
            if cluster:
                attrs["cluster_name"] = cluster
        caller_ip = opt_str(record, "protoPayload.requestMetadata.callerIp")
        if caller_ip in _REDACTED_CALLER_IPS:
            attrs["caller_ip"] = caller_ip
        issued_principal = issue_method = ""
        if category == CREDENTIAL_ISSUE:
            issued_principal, issue_method = _issued(record, service, resource_name, attrs)
            if issue_method == "token-exchange" and actor == "user" and "@" not in principal:
                actor = "federated_session"  # an STS token subject from an external IdP
            if service == "sts.googleapis.com" and not principal and issued_principal:
                # An exchange of an mTLS certificate or other token with no subject claim
                # logs no caller: the principal its credential maps to is the one it names.
                principal, actor = issued_principal, "federated_session"
                attrs["principal_from"] = "mapped_principal"

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=opt_str(record, "insertId"),
            event_time=event_time,
            category=category,
            action=method,
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor,
            actor_account=opt_str(record, "resource.labels.project_id"),
            credential_used=_key_id(key_name) if key_name else "",
            issued_principal=issued_principal,
            issue_method=issue_method,
            request_id=opt_str(record, "operation.id"),
            source_address=caller_ip if caller_ip not in _REDACTED_CALLER_IPS else "",
            user_agent=opt_str(record, "protoPayload.requestMetadata.callerSuppliedUserAgent"),
            resource=resource,
            resource_type=resource_type,
            attrs=attrs,
        )


PARSER = GcpAuditParser()
