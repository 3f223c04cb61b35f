"""One minimal record of every log format the parsers read, and the records of sample files.

The records are reduced to the members the sniffers look at, under the producers' own field
names; they serve every parser's test as the records of the formats it must not claim.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forensics.engine.reader import iter_records

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

_CLOUDTRAIL = {
    "eventVersion": "1.09",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
    "eventTime": "2024-05-14T09:20:17Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "eventID": "f6c2b0a1-9d8e-4c7b-a6f5-e4d3c2b1a090",
}
_TENANT = "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
_K8S_EVENT = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "auditID": "4d1f6b3e-0c2a-4f7e-9a55-1b0c8e2f9d11",
    "stage": "ResponseComplete",
    "user": {"username": "alice@example.com"},
    "requestReceivedTimestamp": "2024-05-14T09:20:17.000000Z",
    "stageTimestamp": "2024-05-14T09:20:17.109537Z",
}
_GRAPH_SIGNIN = {
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "createdDateTime": "2024-05-14T09:30:12Z",
    "userPrincipalName": "alice@example.com",
    "correlationId": "5d2a9f3e-7b1c-4d8e-9f0a-1b2c3d4e5f60",
}

# The source kind of each parser -> one record of that kind.
_M365 = {
    "CreationTime": "2024-05-14T09:20:17",
    "Id": "7b1d3e5f-0a2c-4e6b-9d8f-1a3c5e7b9d01",
    "Operation": "FileAccessed",
    "OrganizationId": "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b",
    "RecordType": 6,
    "UserType": 0,
    "Workload": "SharePoint",
    "UserId": "alice@example.com",
}
RECORDS: dict[str, dict[str, Any]] = {
    "cloudtrail": _CLOUDTRAIL,
    "gcp_audit": {
        "insertId": "1q8x2f9e4kd7",
        "logName": "projects/example-ops/logs/cloudaudit.googleapis.com%2Fdata_access",
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": "alice@example.com"},
        },
        "timestamp": "2024-05-14T09:20:17.118542907Z",
    },
    "k8s_audit": _K8S_EVENT,
    "okta": {
        "uuid": "8f1c2d3e-4a5b-11ef-9a1b-0242ac120002",
        "published": "2024-05-14T09:12:03.412Z",
        "eventType": "user.session.start",
        "version": "0",
        "actor": {"id": "00u1f2g3h4J5k6L7m8n9", "type": "User", "alternateId": "alice@example.com"},
    },
    "entra": _GRAPH_SIGNIN,
    "entra_audit": {
        "id": "Directory_c0ffee01-0000-4000-8000-000000000001_8ZQ1P_201301841",
        "activityDateTime": "2024-05-13T16:42:07.1234567Z",
        "activityDisplayName": "Add service principal credentials",
        "initiatedBy": {"user": {"userPrincipalName": "alice@example.com"}, "app": None},
    },
    "azure_activity": {
        "time": "2024-05-14T09:34:11.9876543Z",
        "resourceId": "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG-HR-DATA",
        "operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
        "category": "Administrative",
        "identity": {"claims": {"appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}},
    },
    "azure_keyvault": {
        "time": "2024-05-14T13:16:30.1Z",
        "resourceId": (
            "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"
        ),
        "operationName": "SecretGet",
        "category": "AuditEvent",
        "identity": {"claim": {"oid": "9e8d7c6b-5a4f-4e3d-a2c1-b0a9f8e7d6c5"}},
    },
    "azure_storage": {
        "time": "2024-05-14T14:20:31.4417720Z",
        "resourceId": (
            "/subscriptions/0b1c/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"
            "st1/blobServices/default"
        ),
        "category": "StorageRead",
        "operationName": "GetBlob",
        "identity": {"type": "OAuth", "requester": {"upn": "alice@example.com"}},
    },
    "ocsf": {"class_uid": 6003, "metadata": {"version": "1.1.0"}, "time": 1715678417000},
    "m365_audit": _M365,
    "graph_activity": {
        "time": "2024-05-14T09:42:05.1234567Z",
        "category": "MicrosoftGraphActivityLogs",
        "operationName": "Microsoft Graph Activity",
        "properties": {
            "requestMethod": "GET",
            "requestUri": "https://graph.microsoft.com/v1.0/me",
            "appId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        },
    },
}

# Other shapes the same producers write: shape name -> (source kind, record).
OTHER_SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "cloudtrail_eventbridge": (
        "cloudtrail",
        {"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": _CLOUDTRAIL},
    ),
    "cloudtrail_lake_row": ("cloudtrail", {"eventJson": json.dumps(_CLOUDTRAIL)}),
    "cloudtrail_event_history": (
        "cloudtrail",
        {
            "EventId": _CLOUDTRAIL["eventID"],
            "EventName": "GetObject",
            "EventTime": "2024-05-14T09:20:17Z",
            "CloudTrailEvent": json.dumps(_CLOUDTRAIL),
        },
    ),
    "gcp_audit_without_type": (
        "gcp_audit",
        {
            "insertId": "-w3k8z7e1b2c",
            "logName": "projects/example-ops/logs/cloudaudit.googleapis.com%2Factivity",
            "protoPayload": {"authenticationInfo": {"principalEmail": "alice@example.com"}},
            "timestamp": "2024-05-14T09:20:17Z",
        },
    ),
    "gcp_audit_bigquery_row": (
        "gcp_audit",
        {
            "insertId": "1q8x2f9e4kd7",
            "logName": "projects/example-ops/logs/cloudaudit.googleapis.com%2Fdata_access",
            "protopayload_auditlog": {
                "authenticationInfo": {"principalEmail": "alice@example.com"},
                "methodName": "storage.objects.get",
                "requestJson": "{}",
            },
            "timestamp": "2024-05-14 09:20:17.118542 UTC",
        },
    ),
    "k8s_audit_v1beta1": (
        "k8s_audit",
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1beta1",
            "auditID": "b2e47c19-8f30-4d6a-9e51-0c3a7d2f6b84",
            "stageTimestamp": "2024-05-14T09:20:17.109537Z",
        },
    ),
    "k8s_audit_aks_export": (
        "k8s_audit",
        {
            "time": "2024-05-14T09:20:17.1095370Z",
            "resourceId": "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG/PROVIDERS/"
            "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1",
            "category": "kube-audit",
            "properties": {"log": json.dumps(_K8S_EVENT), "stream": "stdout"},
        },
    ),
    "k8s_audit_aks_log_analytics_row": (
        "k8s_audit",
        {
            "TimeGenerated": "2024-05-14T09:20:17.109537Z",
            "AuditId": "4d1f6b3e-0c2a-4f7e-9a55-1b0c8e2f9d11",
            "Verb": "get",
            "User": {"username": "alice@example.com"},
            "Type": "AKSAudit",
        },
    ),
    "k8s_audit_event_list": (
        "k8s_audit",
        {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [_K8S_EVENT]},
    ),
    "okta_eventbridge_log_stream": (
        "okta",
        {
            "version": "0",
            "detail-type": "SystemLog",
            "source": "aws.partner/okta.com/example-org/okta-log-stream",
            "detail": {
                "uuid": "8f1c2d3e-4a5b-11ef-9a1b-0242ac120002",
                "published": "2024-05-14T09:12:03.412Z",
                "eventType": "user.session.start",
                "actor": {"id": "00u1f2g3h4J5k6L7m8n9", "type": "User"},
            },
        },
    ),
    "entra_service_principal": (
        "entra",
        {
            "id": "0a0b0c0d-0000-4000-8000-000000000003",
            "createdDateTime": "2024-05-14T09:31:40Z",
            "servicePrincipalId": "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c",
            "correlationId": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
        },
    ),
    "entra_monitor_export": (
        "entra",
        {
            "time": "2024-05-14T09:30:12.1234567Z",
            "resourceId": f"/tenants/{_TENANT}/providers/Microsoft.aadiam",
            "operationName": "Sign-in activity",
            "category": "ManagedIdentitySignInLogs",
            "identity": "vm-reporting-01",
            "properties": _GRAPH_SIGNIN,
        },
    ),
    "entra_graph_powershell": (
        "entra",
        {
            "Id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
            "CreatedDateTime": "2024-05-14T09:30:12Z",
            "UserPrincipalName": "alice@example.com",
            "CorrelationId": "5d2a9f3e-7b1c-4d8e-9f0a-1b2c3d4e5f60",
            "AdditionalProperties": {},
        },
    ),
    "entra_audit_graph_powershell": (
        "entra_audit",
        {
            "Id": "Directory_c0ffee01-0000-4000-8000-000000000001_8ZQ1P_201301841",
            "ActivityDateTime": "2024-05-13T16:42:07.1234567Z",
            "ActivityDisplayName": "Add service principal credentials",
            "InitiatedBy": {"User": {"UserPrincipalName": "alice@example.com"}, "App": None},
            "AdditionalProperties": {},
        },
    ),
    "entra_log_analytics_row": (
        "entra",
        {
            "TenantId": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "TimeGenerated": "2024-05-14T09:31:40.0000000Z",
            "Category": "ServicePrincipalSignInLogs",
            "Id": "0a0b0c0d-0000-4000-8000-000000000004",
            "ServicePrincipalId": "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c",
            "Type": "AADServicePrincipalSignInLogs",
        },
    ),
    "entra_audit_monitor_export": (
        "entra_audit",
        {
            "time": "2024-05-14T15:03:12.5168093Z",
            "resourceId": f"/tenants/{_TENANT}/providers/Microsoft.aadiam",
            "operationName": "Add member to role",
            "category": "AuditLogs",
            "identity": "Alice Example",
            "properties": {"activityDisplayName": "Add member to role"},
        },
    ),
    "entra_audit_log_analytics_row": (
        "entra_audit",
        {
            "TenantId": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "TimeGenerated": "2024-05-14T15:03:12.5168093Z",
            "Id": "Directory_c0ffee01-0000-4000-8000-000000000001_8ZQ1P_201301841",
            "OperationName": "Add member to role",
            "CorrelationId": "c0ffee01-0000-4000-8000-000000000001",
            "Type": "AuditLogs",
        },
    ),
    "azure_activity_api": (
        "azure_activity",
        {
            "eventDataId": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "eventTimestamp": "2024-05-14T09:34:11.9876543Z",
            "category": {"value": "Administrative", "localizedValue": "Administrative"},
            "operationName": {"value": "Microsoft.Authorization/roleAssignments/write"},
            "caller": "alice@example.com",
        },
    ),
    "azure_activity_log_analytics_row": (
        "azure_activity",
        {
            "TenantId": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "TimeGenerated": "2024-05-14T09:34:11.9876543Z",
            "OperationNameValue": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
            "Caller": "alice@example.com",
            "Type": "AzureActivity",
        },
    ),
    "azure_activity_legacy_export": (
        "azure_activity",
        {
            "time": "2024-05-14T09:34:11.9876543Z",
            "resourceId": "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG-HR-DATA",
            "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "category": "Write",
            "identity": {"authorization": {"action": "Microsoft.Compute/virtualMachines/write"}},
        },
    ),
    "graph_activity_log_analytics_row": (
        "graph_activity",
        {
            "TimeGenerated": "2024-05-14T09:42:05.1234567Z",
            "RequestMethod": "GET",
            "RequestUri": "https://graph.microsoft.com/v1.0/me",
            "AppId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
            "Type": "MicrosoftGraphActivityLogs",
        },
    ),
    "m365_search_result": (
        "m365_audit",
        {
            "RecordType": "SharePointFileOperation",
            "CreationDate": "2024-05-14T09:20:17",
            "UserIds": "alice@example.com",
            "Operations": "FileAccessed",
            "AuditData": json.dumps(_M365),
        },
    ),
    "ocsf_authentication": (
        "ocsf",
        {
            "class_uid": 3002,
            "metadata": {"product": {"name": "Okta System Log", "vendor_name": "Okta"}},
            "time_dt": "2024-05-14T09:12:03.412Z",
        },
    ),
}

# Records of producers no parser reads, some close in shape to those it does.
UNCLAIMED: dict[str, dict[str, Any]] = {
    # A Log Analytics table no parser reads; it shares columns with those they do.
    "log_analytics_provisioning_row": {
        "TenantId": "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
        "TimeGenerated": "2024-05-14T15:03:12.5168093Z",
        "Id": "4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e",
        "OperationName": "Provisioning activity",
        "CorrelationId": "c0ffee01-0000-4000-8000-000000000001",
        "Type": "AADProvisioningLogs",
    },
    "key_vault_policy_evaluation": {
        "time": "2024-05-14T13:16:30.1Z",
        "resourceId": (
            "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"
        ),
        "operationName": "SecretGet",
        "category": "AzurePolicyEvaluationDetails",
        "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/x"},
    },
    "storage_read_of_another_provider": {
        "time": "2024-05-14T13:16:30.1Z",
        "resourceId": "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG/PROVIDERS/CONTOSO.DATA/STORES/S1",
        "operationName": "GetBlob",
        "category": "StorageRead",
    },
    "eventbridge_ec2_state_change": {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2024-05-14T09:20:17Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"],
        "detail": {"instance-id": "i-0123456789abcdef0", "state": "running"},
    },
    "entra_provisioning_log": {
        "id": "75b5b2c4-0000-4000-8000-000000000012",
        "activityDateTime": "2024-05-14T09:20:17Z",
        "jobId": "example-provisioning-job",
        "provisioningAction": "create",
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service"},
    },
    "gcp_application_log": {
        "insertId": "5k2j9x",
        "logName": "projects/example-ops/logs/stdout",
        "jsonPayload": {"message": "hello"},
        "timestamp": "2024-05-14T09:20:17Z",
    },
    "k8s_core_event": {
        "kind": "Event",
        "apiVersion": "v1",
        "reason": "Scheduled",
        "message": "Successfully assigned payments/billing-api-7d9f8c6b5-x2kfp to worker-2",
    },
}


def sample_records(source: str, name: str) -> list[dict[str, Any]]:
    """The records of tests/samples/<source>/<name> as the reader yields them, none in error."""
    with (SAMPLES / source / name).open("rb") as stream:
        records = list(iter_records(stream))
    assert [r.error for r in records if r.error] == []
    return [r.data for r in records if r.data is not None]
