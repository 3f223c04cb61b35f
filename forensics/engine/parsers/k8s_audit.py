"""Kubernetes audit events (audit.k8s.io/v1 Event), as the API server's log backend writes them.

The log backend writes one Event per line; the webhook backend posts EventList batches whose
``items`` are the same Events. Identity lives in ``user``: the authenticated username and
groups, and in ``user.extra`` the credential id of the token or certificate, the pod a
service-account token is bound to, and on EKS the IAM principal behind the Kubernetes user.
A request made with ``--as`` is recorded under the impersonator, with ``impersonatedUser``
naming whom it acted as.

AKS hands its audit log to Azure Monitor: a diagnostic export record of category
``kube-audit`` (every request) or ``kube-audit-admin`` (all but get and list) carries one Event
as JSON text in ``properties.log``, and the Log Analytics tables AKSAudit and AKSAuditAdmin
hold the Event's members as PascalCase columns. Both are read as the Event they carry.
"""

from __future__ import annotations

import json
from typing import Any

from forensics.engine.model import (
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
    opt_str,
    parse_time,
    str_list,
)
from forensics.engine.parsers.microsoft import log_analytics_row

API_VERSIONS = {"audit.k8s.io/v1", "audit.k8s.io/v1beta1"}

CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
ISSUED_CREDENTIAL_ID = "authentication.kubernetes.io/issued-credential-id"
_ISSUED_CREDENTIAL_ID_1_29 = "authentication.k8s.io/issued-credential-id"
_EXTRA_ATTRS = {
    "authentication.kubernetes.io/pod-name": "pod_name",
    "authentication.kubernetes.io/pod-uid": "pod_uid",
    "authentication.kubernetes.io/node-name": "node_name",
    # EKS: the IAM principal aws-iam-authenticator mapped to the Kubernetes user.
    "arn": "eks_arn",
    "canonicalArn": "eks_canonical_arn",
    "sessionName": "eks_session_name",
    "accessKeyId": "eks_access_key_id",
    "principalId": "eks_principal_id",
}

_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
_ANONYMOUS = "system:anonymous"
_READ_VERBS = {"get", "list", "watch"}
_WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
_DATA_RESOURCES = {"secrets", "configmaps"}
# Pod subresources that read a container's output or run commands in it.
_POD_DATA_SUBRESOURCES = {"log", "exec", "attach", "portforward"}
_RBAC_RESOURCES = {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}
_RBAC_GROUP = "rbac.authorization.k8s.io"


_MANAGED_CONTROL_PLANE = frozenset({"aksService"})
_ADMIN_CERTIFICATE = "system:admin"


def k8s_actor_kind(username: str) -> str:
    """The ACTOR_KINDS value for a Kubernetes username."""
    if not username:
        return "unknown"
    if username.startswith(_SERVICE_ACCOUNT_PREFIX):
        return "service_account"
    if username == _ANONYMOUS:
        return "anonymous"
    if username == _ADMIN_CERTIFICATE:
        return "user"  # k3s' and OpenShift's cluster-admin certificate, held by people
    # system:kube-*, system:node:<node>, system:apiserver and the like are cluster components;
    # eks:* users are the control-plane components EKS runs for the cluster, aksService the
    # identity of AKS's own control plane.
    if username.startswith(("system:", "eks:")) or username in _MANAGED_CONTROL_PLANE:
        return "service"
    return "user"


def k8s_category(verb: str, resource: str, subresource: str, api_group: str) -> str:
    """The event category of a request by verb and objectRef."""
    if resource == "serviceaccounts" and subresource == "token" and verb == "create":
        return CREDENTIAL_ISSUE
    if resource in _DATA_RESOURCES and not subresource and verb in _READ_VERBS:
        return DATA_ACCESS
    if resource == "pods" and subresource in _POD_DATA_SUBRESOURCES and verb in {"get", "create"}:
        return DATA_ACCESS
    if verb in _WRITE_VERBS and not subresource:
        if resource in _RBAC_RESOURCES and api_group in {_RBAC_GROUP, ""}:
            return PERMISSION_CHANGE
        if resource == "serviceaccounts" and not api_group:
            return PERMISSION_CHANGE
    return OTHER


def k8s_resource(namespace: str, resource: str, subresource: str, name: str) -> str:
    """k8s://<namespace or _cluster>/<resource>[/<subresource>]/<name> ("" without a resource)."""
    if not resource:
        return ""
    parts = [namespace or "_cluster", resource]
    if subresource:
        parts.append(subresource)
    if name:
        parts.append(name)
    return "k8s://" + "/".join(parts)


def _record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
    return record


def _first(extra: dict[str, Any], key: str) -> str:
    """The first non-empty value of a user.extra entry (an array of strings)."""
    value = extra.get(key)
    values = value if isinstance(value, list) else [value]
    for item in values:
        if isinstance(item, str) and item:
            return item
        if isinstance(item, int | float) and not isinstance(item, bool):
            return str(item)
    return ""


def _outcome(code: str) -> str:
    if not code:
        return "unknown"
    try:
        number = int(float(code))
    except ValueError:
        return "unknown"
    # 101 Switching Protocols is how exec, attach and port-forward streams are granted.
    return "success" if 200 <= number < 300 or number == 101 else "failure"


def _event_time(record: dict[str, Any]) -> Any:
    """stageTimestamp, or requestReceivedTimestamp when the stage time is missing, or the
    request's ``timestamp`` that audit.k8s.io/v1alpha1 and v1beta1 wrote before either."""
    stage = get(record, "stageTimestamp")
    if stage in (None, ""):
        for name in ("requestReceivedTimestamp", "timestamp"):
            value = get(record, name)
            if value not in (None, ""):
                return parse_time(value, name)
    return parse_time(stage, "stageTimestamp")


def _source_address(ips: list[str]) -> tuple[str, dict[str, Any]]:
    """The address the API server saw the request come from, and the client's own claims.

    ``sourceIPs`` lists the X-Forwarded-For addresses, then X-Real-Ip, then the request's
    remote address; all but the last can be set by the client (audit.k8s.io/v1). The last
    is the source; the list, as recorded, stays in the attrs for what it may be worth.
    """
    if not ips:
        return "", {}
    return ips[-1], ({"source_ips": list(ips)} if len(ips) > 1 else {})


def _identity_attrs(record: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Groups, user.extra facts (pod, node, EKS principal) and whom the request impersonated."""
    attrs: dict[str, Any] = {}
    groups = str_list(record, "user.groups")
    if groups:
        attrs["user_groups"] = groups
    for key, attr in _EXTRA_ATTRS.items():
        value = _first(extra, key)
        if value:
            attrs[attr] = value
    opt_dict(record, "impersonatedUser")
    impersonated = opt_str(record, "impersonatedUser.username")
    if impersonated:
        attrs["impersonated_user"] = impersonated
    impersonated_groups = str_list(record, "impersonatedUser.groups")
    if impersonated_groups:
        attrs["impersonated_groups"] = impersonated_groups
    return attrs


AKS_CATEGORIES = frozenset({"kube-audit", "kube-audit-admin"})
AKS_TABLES = frozenset({"AKSAudit", "AKSAuditAdmin"})
# The AKSAudit / AKSAuditAdmin columns this parser reads, by the Event member each one holds.
_AKS_COLUMNS = {
    "AuditId": "auditID",
    "Level": "level",
    "Stage": "stage",
    "StageReceivedTime": "stageTimestamp",
    "TimeGenerated": "stageTimestamp",
    "RequestReceivedTime": "requestReceivedTimestamp",
    "Verb": "verb",
    "RequestUri": "requestURI",
    "User": "user",
    "ImpersonatedUser": "impersonatedUser",
    "SourceIps": "sourceIPs",
    "UserAgent": "userAgent",
    "ObjectRef": "objectRef",
    "ResponseStatus": "responseStatus",
    "Annotations": "annotations",
}


def _aks_export_log(record: dict[str, Any]) -> Any:
    """The Event text (or object) of an AKS diagnostic export record, else None."""
    category = record.get("category")
    if not isinstance(category, str) or category not in AKS_CATEGORIES:
        return None
    return get(record, "properties.log")


def _is_aks_row(record: dict[str, Any]) -> bool:
    table = record.get("Type")
    return isinstance(table, str) and table in AKS_TABLES


def _unwrapped(record: dict[str, Any]) -> dict[str, Any]:
    """The audit Event an AKS export record or AKSAudit row carries; the record otherwise."""
    log = _aks_export_log(record)
    if log is not None:
        if isinstance(log, str):
            try:
                log = json.loads(log)
            except ValueError as exc:
                raise RecordError(
                    f"field 'properties.log' should be a Kubernetes audit Event as JSON: {exc}"
                ) from exc
        if not isinstance(log, dict):
            raise RecordError(
                f"field 'properties.log' should be a Kubernetes audit Event, "
                f"found {type(log).__name__}"
            )
        return log
    if _is_aks_row(record):
        event = log_analytics_row(record, _AKS_COLUMNS)
        event.update(kind="Event", apiVersion="audit.k8s.io/v1")
        return event
    return record


class K8sAuditParser:
    kind = "k8s_audit"
    label = "Kubernetes audit"

    def sniff(self, record: dict[str, Any]) -> bool:
        if not isinstance(record, dict):
            return False
        if _is_aks_row(record) and "AuditId" in record:
            return True
        if isinstance(_aks_export_log(record), str | dict):
            return True
        # An EventList is claimed too, so a webhook batch the reader did not unwrap is
        # quarantined with a clear reason instead of going unrecognized.
        version, kind = record.get("apiVersion"), record.get("kind")
        if isinstance(version, str):
            return version in API_VERSIONS and kind in ("Event", "EventList")
        # The webhook backend writes the items of its EventList without apiVersion or kind:
        # an Event is told by its own members then.
        return (
            kind in (None, "Event")
            and isinstance(record.get("auditID"), str)
            and isinstance(record.get("stage"), str)
            and isinstance(record.get("verb"), str)
            and isinstance(record.get("user"), dict)
        )

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        record = _record(record)
        if _is_aks_row(record):
            with column_names(_AKS_COLUMNS):
                return self._parse(_unwrapped(record))
        return self._parse(_unwrapped(record))

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        if record.get("kind") == "EventList":
            raise RecordError(
                "field 'items': an EventList holds many events; each of its 'items' must be "
                "read as a record of its own"
            )
        event_time = _event_time(record)
        # Objects read below by path must be objects: a wrong type fails here, named.
        opt_dict(record, "user")
        extra = opt_dict(record, "user.extra")
        username = opt_str(record, "user.username")
        verb = opt_str(record, "verb")
        opt_dict(record, "objectRef")
        resource = opt_str(record, "objectRef.resource")
        subresource = opt_str(record, "objectRef.subresource")
        namespace = opt_str(record, "objectRef.namespace")
        name = opt_str(record, "objectRef.name")
        api_group = opt_str(record, "objectRef.apiGroup")
        audit_id = opt_str(record, "auditID")

        if resource:
            target = f"{resource}/{subresource}" if subresource else resource
            action = f"{verb} {target}".strip()
        else:
            # Non-resource requests (/healthz, /version) have no objectRef, only a path.
            path = opt_str(record, "requestURI").split("?", 1)[0]
            action = f"{verb} {path}".strip()

        attrs: dict[str, Any] = {}
        stage = opt_str(record, "stage")
        if stage:
            attrs["audit_stage"] = stage
        if verb:
            attrs["verb"] = verb
        code = opt_str(record, "responseStatus.code")
        outcome = _outcome(code)
        if code:
            attrs["response_code"] = code
        if outcome == "failure":
            attrs["error_code"] = opt_str(record, "responseStatus.reason") or code
            message = opt_str(record, "responseStatus.message")
            if message:
                attrs["error_message"] = message
        attrs.update(_identity_attrs(record, extra))

        category = k8s_category(verb, resource, subresource, api_group)
        issued_principal = issue_method = credential_issued = session_name = ""
        if category == CREDENTIAL_ISSUE:
            issue_method = "token-exchange"
            if namespace and name:
                issued_principal = f"{_SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"
            # The key holds dots, so it is read from the annotations object, not by path.
            # Kubernetes 1.29 (its alpha) wrote it under authentication.k8s.io/.
            annotations = opt_dict(record, "annotations")
            issued = annotations.get(ISSUED_CREDENTIAL_ID) or annotations.get(
                _ISSUED_CREDENTIAL_ID_1_29
            )
            credential_issued = issued if isinstance(issued, str) else ""
            if opt_str(record, "requestObject.spec.boundObjectRef.kind") == "Pod":
                session_name = opt_str(record, "requestObject.spec.boundObjectRef.name")
        else:
            session_name = attrs.get("pod_name", "")
        source_address, forwarded = _source_address(str_list(record, "sourceIPs"))
        attrs.update(forwarded)

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=audit_id,
            event_time=event_time,
            category=category,
            action=action,
            outcome=outcome,
            actor_principal=username,
            actor_kind=k8s_actor_kind(username),
            credential_used=_first(extra, CREDENTIAL_ID),
            credential_issued=credential_issued,
            issued_principal=issued_principal,
            issue_method=issue_method,
            session_name=session_name,
            request_id=audit_id,
            source_address=source_address,
            user_agent=opt_str(record, "userAgent"),
            resource=k8s_resource(namespace, resource, subresource, name),
            resource_type=resource,
            attrs=attrs,
        )


PARSER = K8sAuditParser()
