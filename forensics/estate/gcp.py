"""Google Cloud audit log entries: a LogEntry wrapping an AuditLog protoPayload.

Impersonation shows up twice: the IAM Credentials ``GenerateAccessToken`` call that mints a
service account token, and ``authenticationInfo.serviceAccountDelegationInfo`` on every call
made with it, listing the delegating principals from the original caller onwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from forensics.estate.emission import nanos_z
from forensics.estate.ids import Ids
from forensics.estate.org import GcpServiceAccount, GcsBucket

GCLOUD_UA = (
    "google-cloud-sdk gcloud/496.0.0 command/gcloud.storage.cp invocation-id/{inv} "
    "environment/None environment-version/None client-os/MACOSX client-os-ver/23.6.0 "
    "client-pltf-arch/arm interactive/True from-script/False python/3.12.6 term/xterm-256color "
    "(Macintosh; Intel Mac OS X 23.6.0),gzip(gfe)"
)


def subject_of(principal: str) -> str:
    kind = "serviceAccount" if principal.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{principal}"


def _service_account_resource(sa: GcpServiceAccount) -> dict[str, Any]:
    """The monitored resource an entry about service account ``sa`` is logged under."""
    return {
        "type": "service_account",
        "labels": {"email_id": sa.email, "project_id": sa.project, "unique_id": sa.unique_id},
    }


class GcpAudit:
    """Builds Cloud Audit Logs entries; every id comes from the given factory."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids

    def entry(
        self,
        *,
        t: datetime,
        project: str,
        log: str,
        service: str,
        method: str,
        resource_name: str,
        principal: str,
        caller_ip: str,
        ua: str,
        permission: str,
        resource: dict[str, Any],
        delegation: Sequence[str] = (),
        key_name: str = "",
        request: dict[str, Any] | None = None,
        service_data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        location: str = "",
        auth_resource: str = "",
        severity: str = "INFO",
    ) -> dict[str, Any]:
        auth: dict[str, Any] = {"principalEmail": principal}
        if key_name:
            auth["serviceAccountKeyName"] = key_name
        if delegation:
            auth["serviceAccountDelegationInfo"] = [
                {"firstPartyPrincipal": {"principalEmail": p}, "principalSubject": subject_of(p)}
                for p in delegation
            ]
        auth["principalSubject"] = subject_of(principal)
        nanos = self.ids.rng.randrange(1000)
        payload: dict[str, Any] = {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {},
            "authenticationInfo": auth,
            "requestMetadata": {
                "callerIp": caller_ip,
                "callerSuppliedUserAgent": ua,
                "requestAttributes": {"time": nanos_z(t, nanos), "auth": {}},
                "destinationAttributes": {},
            },
            "serviceName": service,
            "methodName": method,
            "authorizationInfo": [
                {
                    "resource": auth_resource or resource_name,
                    "permission": permission,
                    "granted": True,
                    "resourceAttributes": {},
                }
            ],
            "resourceName": resource_name,
        }
        if request is not None:
            payload["request"] = request
        if service_data is not None:
            payload["serviceData"] = service_data
        if metadata is not None:
            payload["metadata"] = metadata
        if location:
            payload["resourceLocation"] = {"currentLocations": [location]}
        received = t + timedelta(milliseconds=self.ids.rng.randrange(80, 1900))
        return {
            "protoPayload": payload,
            "insertId": self.ids.gcp_insert_id(),
            "resource": resource,
            "timestamp": nanos_z(t, nanos),
            "severity": severity,
            "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}",
            "receiveTimestamp": nanos_z(received, self.ids.rng.randrange(1000)),
        }

    def storage_get(
        self,
        *,
        t: datetime,
        bucket: GcsBucket,
        obj: str,
        principal: str,
        caller_ip: str,
        ua: str,
        delegation: Sequence[str] = (),
        key_name: str = "",
        method: str = "storage.objects.get",
    ) -> dict[str, Any]:
        name = f"projects/_/buckets/{bucket.name}/objects/{obj}"
        if method == "storage.objects.list":
            name = f"projects/_/buckets/{bucket.name}"
        return self.entry(
            t=t,
            project=bucket.project,
            log="data_access",
            service="storage.googleapis.com",
            method=method,
            resource_name=name,
            principal=principal,
            caller_ip=caller_ip,
            ua=ua,
            permission=method,
            resource={
                "type": "gcs_bucket",
                "labels": {
                    "location": bucket.location,
                    "project_id": bucket.project,
                    "bucket_name": bucket.name,
                },
            },
            delegation=delegation,
            key_name=key_name,
            location=bucket.location,
        )

    def generate_access_token(
        self,
        *,
        t: datetime,
        target: GcpServiceAccount,
        principal: str,
        caller_ip: str,
        ua: str,
        delegation: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A principal minting a short-lived token for a service account (impersonation)."""
        name = f"projects/-/serviceAccounts/{target.email}"
        return self.entry(
            t=t,
            project=target.project,
            log="data_access",
            service="iamcredentials.googleapis.com",
            method="GenerateAccessToken",
            resource_name=f"projects/-/serviceAccounts/{target.unique_id}",
            principal=principal,
            caller_ip=caller_ip,
            ua=ua,
            permission="iam.serviceAccounts.getAccessToken",
            resource=_service_account_resource(target),
            delegation=delegation,
            request={
                "@type": "type.googleapis.com/google.iam.credentials.v1.GenerateAccessTokenRequest",
                "name": name,
            },
            metadata={"identityDelegationChain": [name]},
        )

    def grant_token_creator(
        self, *, t: datetime, target: GcpServiceAccount, admin: str, member: str, caller_ip: str
    ) -> dict[str, Any]:
        """An admin letting ``member`` mint tokens for ``target`` (Admin Activity log)."""
        resource = f"projects/{target.project}/serviceAccounts/{target.email}"
        binding = {"role": "roles/iam.serviceAccountTokenCreator", "members": [subject_of(member)]}
        return self.entry(
            t=t,
            project=target.project,
            log="activity",
            service="iam.googleapis.com",
            method="google.iam.admin.v1.SetIAMPolicy",
            resource_name=resource,
            principal=admin,
            caller_ip=caller_ip,
            ua="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7),gzip(gfe)",
            permission="iam.serviceAccounts.setIamPolicy",
            resource=_service_account_resource(target),
            request={
                "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
                "resource": resource,
                "policy": {"bindings": [binding], "etag": "BwYj" + self.ids.alnum(8)},
            },
            service_data={
                "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
                "policyDelta": {
                    "bindingDeltas": [
                        {"action": "ADD", "role": binding["role"], "member": subject_of(member)}
                    ]
                },
            },
            severity="NOTICE",
        )

    def key_name(self, sa: GcpServiceAccount) -> str:
        path = f"projects/{sa.project}/serviceAccounts/{sa.email}/keys/{sa.key_id}"
        return f"//iam.googleapis.com/{path}"

    def gcloud_ua(self) -> str:
        return GCLOUD_UA.format(inv=self.ids.uuid())
