"""Kubernetes audit events (audit.k8s.io/v1), one JSON object per line of audit.log.

Stages of one request share its auditID. Service-account users carry the bound token's
credential id and pod in ``user.extra``; EKS users carry the IAM session behind them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forensics.estate.cloudtrail import RoleSession
from forensics.estate.emission import micros_z
from forensics.estate.ids import Ids
from forensics.estate.org import Pod

KUBECTL_UA = "kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46"
CLIENT_GO_UA = "{app}/v0.0.0 (linux/amd64) kubernetes/$Format"


def pod_user(pod: Pod, jti: str) -> dict[str, Any]:
    return {
        "username": pod.username,
        "uid": pod.sa_uid,
        "groups": [
            "system:serviceaccounts",
            f"system:serviceaccounts:{pod.namespace}",
            "system:authenticated",
        ],
        "extra": {
            "authentication.kubernetes.io/credential-id": [f"JTI={jti}"],
            "authentication.kubernetes.io/node-name": [pod.node_name],
            "authentication.kubernetes.io/node-uid": [pod.node_uid],
            "authentication.kubernetes.io/pod-name": [pod.pod_name],
            "authentication.kubernetes.io/pod-uid": [pod.pod_uid],
        },
    }


def secret_reader_reason(pod: Pod) -> str:
    sa, ns = pod.service_account, pod.namespace
    return (
        f'RBAC: allowed by RoleBinding "{sa}-secrets/{ns}" of Role "secret-reader" '
        f'to ServiceAccount "{sa}/{ns}"'
    )


def eks_user(session: RoleSession, group: str) -> dict[str, Any]:
    """An IAM role session mapped to a Kubernetes user by an EKS access entry."""
    account = session.role.account
    return {
        "username": session.arn,
        "uid": f"aws-iam-authenticator:{account}:{session.role.role_id}",
        "groups": [group, "system:authenticated"],
        "extra": {
            "accessKeyId": [session.key],
            "arn": [session.arn],
            "canonicalArn": [session.role.arn],
            "principalId": [session.role.role_id],
            "sessionName": [session.name],
            "sigs.k8s.io/aws-iam-authenticator/principalId": [session.role.role_id],
        },
    }


def oidc_user(username: str, groups: list[str]) -> dict[str, Any]:
    return {"username": username, "groups": [*groups, "system:authenticated"]}


class K8sAudit:
    """Builds audit events; every id comes from the given factory."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids

    def request(
        self,
        *,
        t: datetime,
        user: dict[str, Any],
        verb: str,
        resource: str,
        namespace: str,
        name: str,
        source_ip: str,
        ua: str,
        reason: str,
        impersonated: dict[str, Any] | None = None,
        stages: tuple[str, ...] = ("ResponseComplete",),
        code: int = 200,
    ) -> list[dict[str, Any]]:
        """The audit events of one request, one per stage, sharing an auditID."""
        audit_id = self.ids.uuid()
        uri = f"/api/v1/namespaces/{namespace}/{resource}"
        uri = f"{uri}/{name}" if name else f"{uri}?limit=500"
        done = t + timedelta(microseconds=self.ids.rng.randrange(900, 40000))
        events = []
        for stage in stages:
            ev: dict[str, Any] = {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "level": "Metadata",
                "auditID": audit_id,
                "stage": stage,
                "requestURI": uri,
                "verb": verb,
                "user": user,
            }
            if impersonated is not None:
                ev["impersonatedUser"] = impersonated
            ev["sourceIPs"] = [source_ip]
            ev["userAgent"] = ua
            ref: dict[str, Any] = {"resource": resource, "namespace": namespace}
            if name:
                ref["name"] = name
            ref["apiVersion"] = "v1"
            ev["objectRef"] = ref
            if stage != "RequestReceived":
                ev["responseStatus"] = {"metadata": {}, "code": code}
            ev["requestReceivedTimestamp"] = micros_z(t)
            ev["stageTimestamp"] = micros_z(t if stage == "RequestReceived" else done)
            if stage != "RequestReceived":
                ev["annotations"] = {
                    "authorization.k8s.io/decision": "allow",
                    "authorization.k8s.io/reason": reason,
                }
            events.append(ev)
        return events
