"""The normalized event every parser produces and the correlation engine consumes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import field
from datetime import UTC, datetime
from typing import Any

from forensics.engine.values import record_type

# Event categories (SPEC "Store").
AUTHENTICATION = "authentication"
AUTHORIZATION = "authorization"
CREDENTIAL_ISSUE = "credential_issue"
DATA_ACCESS = "data_access"
PERMISSION_CHANGE = "permission_change"
OTHER = "other"
CATEGORIES = (
    AUTHENTICATION,
    AUTHORIZATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    PERMISSION_CHANGE,
    OTHER,
)

OUTCOMES = ("success", "failure", "unknown")

# What kind of principal the log says acted. These describe the *recorded* actor, not the
# origin: a role session is never an identity, it is a hop.
ACTOR_KINDS = (
    "user",  # a named user account (IAM user, IdP user, GCP user, k8s user)
    "root",  # AWS account root
    "role_session",  # AWS assumed-role session (incl. AWSReservedSSO_* and service sessions)
    "federated_session",  # AWS GetFederationToken session, SAML/web-identity user records
    "identity_center_user",  # AWS IAM Identity Center user (userIdentity.type IdentityCenterUser)
    "service_account",  # GCP service account, Kubernetes service account
    "service_principal",  # Entra service principal / application
    "managed_identity",  # Entra managed identity
    "service",  # a cloud provider service acting (AWSService, GCP service agent)
    "anonymous",
    "unknown",
)

# How a credential or identity is handed from one principal to the next.
HOP_METHODS = (
    "sign-in",  # an IdP authenticates the human/workload and starts a session
    "assume-role",
    "saml-federation",
    "web-identity",
    "sso",  # IAM Identity Center GetRoleCredentials / CreateTokenWithIAM
    "session-token",  # GetSessionToken
    "federation-token",  # GetFederationToken
    "impersonation",  # k8s impersonation, GCP service-account impersonation
    "delegation",  # an asserted on-behalf-of chain (GCP delegation info, AWS onBehalfOf)
    "token-exchange",
    "service",  # an AWS/GCP service acting for the caller (invokedBy)
    "instance-profile",  # EC2/Lambda/ECS credentials issued to a compute resource
)

EVIDENCE_KINDS = ("exact", "asserted", "inferred")


@record_type
class NormalizedEvent:
    """One log record in the common shape. Empty string means "the log does not say".

    ``attrs`` holds producer facts the correlation engine needs beyond the flat fields; its
    keys are listed in ``ATTR_KEYS`` below. Values are strings, or lists of strings where
    noted; absent keys mean the log does not carry the fact.
    """

    # cloudtrail | gcp_audit | k8s_audit | okta | entra | entra_audit | azure_activity | ocsf
    source_kind: str
    source_event_id: str  # the producer's own id ("" if none; the store then keys on content)
    event_time: datetime  # timezone-aware, UTC
    category: str  # one of CATEGORIES
    action: str  # producer's operation name, e.g. "s3.amazonaws.com:GetObject", "get pods"
    outcome: str  # one of OUTCOMES
    actor_principal: str  # the actor string exactly as the log records it
    actor_kind: str  # one of ACTOR_KINDS
    actor_account: str = ""  # AWS account id, GCP project, Entra tenant, k8s cluster
    credential_used: str = ""  # access key id, k8s credential id, Okta session id, SA key, ...
    credential_issued: str = ""  # for CREDENTIAL_ISSUE events: the new credential's id
    issued_principal: str = ""  # who holds credential_issued (e.g. assumed-role session ARN)
    issue_method: str = ""  # one of HOP_METHODS, for CREDENTIAL_ISSUE events
    session_name: str = ""  # role session name, k8s pod, Okta session display, ...
    # AWS sourceIdentity of the caller's session (asserted origin carried through chains); an
    # issuing call's for the session it makes is attrs["requested_source_identity"]
    source_identity: str = ""
    request_id: str = ""
    correlation_id: str = ""  # session/correlation id shared by related events
    source_address: str = ""  # as recorded (IP, or a service name such as "s3.amazonaws.com")
    user_agent: str = ""
    resource: str = ""  # canonical resource string, e.g. "s3://bucket/key", GCS/k8s names
    resource_type: str = ""
    mfa: bool | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


# The keys parsers may set in NormalizedEvent.attrs, and what each means.
ATTR_KEYS: dict[str, str] = {
    # --- AWS CloudTrail ---
    "identity_type": "userIdentity.type as recorded (IAMUser, AssumedRole, SAMLUser, ...)",
    "principal_id": "userIdentity.principalId (for roles: '<assumedRoleId>:<session name>')",
    "user_name": "userIdentity.userName",
    "session_issuer_arn": "sessionContext.sessionIssuer.arn (role or user that issued the session)",
    "session_issuer_type": "sessionContext.sessionIssuer.type",
    "session_issuer_principal_id": "sessionContext.sessionIssuer.principalId",
    "session_created": "sessionContext.attributes.creationDate, ISO-8601 UTC",
    "identity_provider": "userIdentity.identityProvider (SAML/web-identity/Identity Center)",
    "web_id_federation_provider": "sessionContext.webIdFederationData.federatedProvider",
    "on_behalf_of_user_id": "userIdentity.onBehalfOf.userId (Identity Center user id)",
    "on_behalf_of_identity_store_arn": "userIdentity.onBehalfOf.identityStoreArn",
    "credential_id": "userIdentity.credentialId (Identity Center bearer token id)",
    "in_scope_of_issued_to": "userIdentity.inScopeOf.credentialsIssuedTo (EC2/Lambda/ECS ARN)",
    "in_scope_of_source_arn": "userIdentity.inScopeOf.sourceArn",
    "in_scope_of_issuer_type": "userIdentity.inScopeOf.issuerType",
    "ec2_role_delivery": "sessionContext.ec2RoleDelivery (instance metadata service version)",
    "assumed_root": "'true' when the session came from sts:AssumeRoot",
    "sign_in_session_arn": "sign-in session ARN recorded for console sessions",
    "invoked_by_delegate_account": "invokedBy delegate account (organisation delegation)",
    "sso_role_name": "portal GetRoleCredentials: requestParameters.roleName",
    "sso_account_id": "portal GetRoleCredentials: requestParameters.accountId",
    "invoked_by": "userIdentity.invokedBy (AWS service that made the call for the caller)",
    "shared_event_id": "sharedEventID: same for both sides of a cross-account call",
    "recipient_account_id": "recipientAccountId",
    "role_arn": "issuing calls: requestParameters.roleArn (the role assumed)",
    "role_session_name": "issuing calls: requestParameters.roleSessionName",
    "assumed_role_id": "issuing calls: responseElements.assumedRoleUser.assumedRoleId",
    "credential_expiration": "issuing calls: responseElements.credentials.expiration, ISO UTC",
    "federation_subject": "SAML subject / web-identity token subject the issuer vouched for",
    "federation_subject_type": "SAML subjectType (persistent, transient, ...)",
    "federation_issuer": "SAML issuer / OIDC provider, e.g. token.actions.githubusercontent.com",
    "federation_audience": "SAML/web-identity audience",
    "federated_user_arn": "GetFederationToken: responseElements.federatedUser.arn",
    "pod_service_account": "EKS Pod Identity AssumeRole: the pod's service account, "
    "system:serviceaccount:<kubernetes-namespace>:<kubernetes-service-account> session tags",
    "eks_cluster_name": "EKS Pod Identity AssumeRole: the eks-cluster-name session tag",
    "requested_source_identity": "issuing calls: the source identity set on the session made "
    "(requestParameters.sourceIdentity, else responseElements.sourceIdentity, as a SAML "
    "assertion's attribute gives it)",
    "event_source": "CloudTrail eventSource / GCP serviceName",
    "signin_user_name": "sign-in events: additionalEventData.UserName (the name tried)",
    "credential_type": "sign-in events: additionalEventData.CredentialType (PASSWORD, ...)",
    "copy_destination": "S3 CopyObject / UploadPartCopy: the object written (the resource is "
    "the object read, x-amz-copy-source)",
    "copy_source_version_id": "the versionId of x-amz-copy-source",
    "error_code": "errorCode / status code when the call failed",
    "error_message": "errorMessage / status message",
    # --- Google Cloud ---
    "delegation_chain": "list: principals from the original caller to the last delegate",
    "service_account_key_name": "authenticationInfo.serviceAccountKeyName (long-lived key)",
    "principal_subject": "authenticationInfo.principalSubject",
    "authority_selector": "authenticationInfo.authoritySelector",
    "log_name": "logName (which audit log: activity, data_access, system_event, policy)",
    "vpc_sc_violation": "VPC Service Controls' violationReason for a request it refused",
    "vpc_sc_dry_run": "'true': the perimeter is in dry-run mode and only logged the violation",
    "delegates": "list: request.delegates of an iamcredentials call, in request order",
    "created_key_id": "the long-lived key a call made (iam:CreateAccessKey's accessKeyId, "
    "CreateServiceAccountKey's key id): its later uses name it as credential_used",
    "original_principal": "the principal behind the actor: GCP serviceDelegationHistory."
    "originalPrincipal (whom a Google service acted for; actor_principal is the service's "
    "account), Okta debugData.originalPrincipal.alternateId (who acted as the actor)",
    "original_principal_id": "Okta debugData.originalPrincipal.id",
    "original_principal_type": "Okta debugData.originalPrincipal.type",
    "principal_from": "'mapped_principal': an STS exchange that logged no caller is named by "
    "the principal it mapped its credential to",
    "cluster_name": "GKE entries: resource.labels.cluster_name",
    "caller_ip": "requestMetadata.callerIp when it is no address ('private', 'gce-internal-ip')",
    "delegating_services": "list: serviceDelegationHistory.serviceMetadata[].serviceDomain",
    "permissions": "list: authorizationInfo permissions checked",
    "granted": "'true'/'false': every authorizationInfo entry granted",
    # --- Kubernetes ---
    "audit_stage": "stage (RequestReceived, ResponseStarted, ResponseComplete, Panic)",
    "user_groups": "list: user.groups",
    "impersonated_user": "impersonatedUser.username (actor_principal is the impersonator)",
    "impersonated_groups": "list: impersonatedUser.groups",
    "pod_name": "user.extra authentication.kubernetes.io/pod-name (EKS Pod Identity: the "
    "kubernetes-pod-name session tag)",
    "pod_uid": "user.extra authentication.kubernetes.io/pod-uid",
    "node_name": "user.extra authentication.kubernetes.io/node-name",
    "eks_arn": "user.extra arn (EKS: the IAM principal ARN behind the k8s user)",
    "eks_canonical_arn": "user.extra canonicalArn (EKS: the role ARN)",
    "eks_session_name": "user.extra sessionName (EKS)",
    "eks_access_key_id": "user.extra accessKeyId (EKS)",
    "eks_principal_id": "user.extra principalId (EKS)",
    "verb": "verb",
    "source_ips": "list: sourceIPs as recorded, when more than one (all but the last are the "
    "client's X-Forwarded-For / X-Real-Ip claims; source_address is the last)",
    "response_code": "responseStatus.code as a string",
    # --- Okta ---
    "actor_id": "actor.id (Okta user id) / Entra userId / OCSF actor.user.uid",
    "actor_type": "actor.type (User, PublicClientApp, ...)",
    "actor_display_name": "actor.displayName / Entra audit initiatedBy.user.displayName",
    "transaction_id": "transaction.id",
    "api_token_id": "transaction.detail.requestApiTokenId: the Okta API token a request used",
    "root_session_id": "authenticationContext.rootSessionId? / debugContext rootSessionId",
    "target_ids": "list: target[].id / Entra audit targetResources[].id, in record order",
    # --- Microsoft Entra / Azure Activity ---
    "mail_access_type": "MailItemsAccessed OperationProperties MailAccessType (Bind: an item "
    "read; Sync: a folder synced whole)",
    "is_throttled": "MailItemsAccessed OperationProperties IsThrottled ('true': no more such "
    "records for the mailbox for 24 hours)",
    "operation_count": "OperationCount: the accesses an aggregated record stands for",
    "client_request_id": "Graph activity: clientRequestId (the caller's own request id)",
    "sign_in_kind": "interactive | non_interactive | service_principal | managed_identity",
    "user_id": "Entra userId",
    "app_id": "appId of the client application",
    "app_display_name": "appDisplayName",
    "service_principal_id": "servicePrincipalId",
    "service_principal_name": "servicePrincipalName",
    "managed_identity_type": "managedIdentityType",
    "unique_token_identifier": "uniqueTokenIdentifier",
    "tenant_id": "tenantId",
    "home_tenant_id": "homeTenantId (cross-tenant guest sign-ins)",
    "cross_tenant_access_type": "crossTenantAccessType of a sign-in from another tenant "
    "(b2bCollaboration, b2bDirectConnect, microsoftSupport, serviceProvider, passthrough)",
    "original_transfer_method": "originalTransferMethod (deviceCodeFlow, authenticationTransfer)",
    "authentication_protocol": "authenticationProtocol (deviceCode, ropc, saml20, wsFederation...)",
    "caller_object_id": "Azure Activity: claims oid of the caller",
    "audit_category": "Entra audit category (ApplicationManagement, RoleManagement, Policy, ...)",
    "operation_type": "Entra audit operationType (Add, Update, Assign, Unassign, Delete, ...)",
    "logged_by_service": "Entra audit loggedByService (Core Directory, PIM, ...)",
    "target_types": "list: Entra audit targetResources[].type, aligned with target_ids",
    "target_names": "list: Entra audit target userPrincipalName, else displayName, aligned",
    "role_name": "Entra audit: the role a role change names (Role.DisplayName)",
    "credential_key_ids": "list: KeyIdentifier of each key a credential change added",
    "service_principal_credential_key_id": "Entra sign-in: key id of the app secret or "
    "certificate the service principal presented",
    "service_principal_credential_thumbprint": "Entra sign-in: thumbprint of the certificate "
    "the service principal presented",
    "credential_key_types": "list: KeyType of each added key, aligned with credential_key_ids",
    "removed_credential_key_ids": "list: KeyIdentifier of each key a credential change removed",
    # --- Azure Key Vault / Azure Storage resource logs ---
    "auth_type": "Storage identity.type: OAuth, Kerberos, SAS, AccountKey, Anonymous, ...",
    "principal_type": "Storage identity.authorization[].principals[].type (User, ServicePrincipal)",
    "managed_identity_resource_id": "Key Vault claim xms_mirid: resource id of a managed identity",
    "object_version": "Key Vault: the version of the secret, key or certificate in its URI",
    "http_status": "Key Vault properties.httpStatusCode / Storage statusCode, as text",
    "access_policy_match": "Key Vault properties.isAccessPolicyMatch ('true'/'false')",
    "rbac_authorized": "Key Vault properties.isRbacAuthorized ('true'/'false')",
    "role_assignment_id": "Key Vault appliedAssignmentId / Storage authorization roleAssignmentId",
    "authorization_result": "Storage identity.authorization[].result (Denied when any entry is)",
    "storage_account": "Storage properties.accountName",
    "delegated_resource_id": "Storage identity.delegatedResource.resourceId (trusted access)",
    # --- CloudTrail Insights ---
    "insight_state": "insightDetails.state: Start or End of the unusual activity",
    "insight_event_source": "insightDetails.eventSource: the service of the API concerned",
    "insight_event_name": "insightDetails.eventName: the API whose rate was unusual",
    "insight_error_code": "insightDetails.errorCode of an ApiErrorRateInsight",
    "insight_id": "sharedEventID, shared by an Insight's start and end",
    "insight_baseline_average": "insightContext.statistics.baseline.average, as text",
    "insight_average": "insightContext.statistics.insight.average, as text",
    "insight_duration_minutes": "insightContext.statistics.insightDuration, as text",
    "insight_baseline_duration_minutes": "insightContext.statistics.baselineDuration, as text",
    "insight_principals": "list: caller ARNs the Insight's attributions name as contributing",
    "event_category": "CloudTrail eventCategory (Management, Data, Insight, NetworkActivity)",
    # --- CloudTrail network activity (a VPC endpoint's view of a call) ---
    "event_type": "CloudTrail eventType of a network activity event (AwsVpceEvent)",
    "vpc_endpoint_id": "vpcEndpointId: the VPC endpoint the call went through",
    "vpc_endpoint_account_id": "vpcEndpointAccountId: the account owning that endpoint",
    # --- Microsoft 365 unified audit log ---
    "workload": "Workload (SharePoint, OneDrive, Exchange, AzureActiveDirectory, ...)",
    "record_type": "RecordType, as recorded (a number, or its name)",
    "user_type": "UserType by name (Regular, Admin, System, Application, ServicePrincipal, ...)",
    "user_key": "UserKey: the service's other id for the user (a PUID, an object id, ...)",
    "aad_session_id": "AppAccessContext.AADSessionId: the Entra session of the sign-in",
    "token_issued_at": "AppAccessContext.IssuedAtTime: when the token's authentication happened",
    "logon_type": "Exchange LogonType by name (Owner, Admin, Delegated, ...)",
    "logon_user": "Exchange LogonUserDisplayName",
    "logon_user_sid": "Exchange LogonUserSid",
    "mailbox_owner": "Exchange MailboxOwnerUPN: whose mailbox was opened",
    "external_access": "Exchange ExternalAccess, 'true' or 'false'",
    "site_url": "SharePoint SiteUrl",
    "source_file_name": "SharePoint SourceFileName",
    "result_status": "ResultStatus as recorded",
    # --- Microsoft Graph activity logs ---
    "roles": "application permissions (roles claim) of the token, space-separated",
    "scopes": "delegated permissions (scp claim) of the token, space-separated",
    "client_auth_method": "how the client authenticated: public client, client secret, ...",
    "sign_in_session_id": "the Entra session the token belongs to (SessionId; a sign-in's "
    "sessionId)",
    "device_id": "the device the authentication came from (DeviceId)",
    "api_version": "Graph API version of the request (v1.0, beta)",
    "operation_id": "Graph OperationId: shared by the requests of one batch",
    # --- OCSF ---
    "class_uid": "OCSF class_uid as a string",
    "session_uid": "actor.session.uid",
    "session_issuer": "actor.session.issuer",
    "credential_uid": "actor.session.credential_uid",
    "invoked_by_app": "actor.app_name / actor.invoked_by",
    "idp_name": "actor.idp.name",
    # --- any source, added when the event is stored ---
    "replaced_characters": "how many NUL or unpaired surrogate characters in the record's "
    "values were replaced by U+FFFD to be stored (the raw record keeps them), as text",
}


class RecordError(ValueError):
    """A record that cannot be normalized; the message names the offending field."""


def scoped_event_id(event: NormalizedEvent) -> str:
    """The producer's event id with what it is unique within, where that is narrower than
    the producer ("" when the event has no usable id).

    Google documents a log entry's ``insertId`` as unique only among the entries of one
    project with the same timestamp: two projects' entries may share one. Its id is
    qualified by the project (``resource.labels.project_id``, the event's account) and the
    entry's timestamp, so neither is taken for a duplicate of the other.

    A Kubernetes API server takes a request's ``auditID`` from the client's ``Audit-ID``
    header when one is sent, so two requests can share one, by accident or to hide the
    second. The stages of one request also share its user, verb and object: the id is
    qualified by those, and a request sent under another's id is an event of its own.

    A placeholder where the id was withheld ("redacted", "xxxxxxxx-xxxx-...", a nil UUID,
    as sanitized exports write) is no id: every such record would otherwise share one key,
    and all but the first would be lost as duplicates.
    """
    event_id = event.source_event_id
    if not event_id or is_placeholder_id(event_id):
        return ""
    if event.source_kind == "gcp_audit":
        return gcp_scoped_id(event_id, event.actor_account, event.event_time)
    if event.source_kind == "k8s_audit":
        return k8s_scoped_id(event_id, event.actor_principal, event.action, event.resource)
    return event_id


_PLACEHOLDER_ID = re.compile(
    r"[\W_]*(?:redacted|hidden_due_to_security_reasons|null|none|n/?a|unknown|[x0*#?-]+)?[\W_]*",
    re.IGNORECASE,
)


_NOT_LETTERS_OR_DIGITS = re.compile(r"[\W_]+")
_MASK_RUN = re.compile(r"[xX]{8}")


def is_placeholder_id(value: str) -> bool:
    """Whether an identifier stands in for one withheld or never known: a placeholder word,
    a mask ("xxx@xxx.xxx", "*****"), or a real one's prefix masked ("ASIAXXXXXXXXXXXXXXXX")."""
    if _PLACEHOLDER_ID.fullmatch(value) is not None:
        return True
    if "x" not in value and "X" not in value:
        return False  # every event's id comes here: most have no mask to look for
    core = _NOT_LETTERS_OR_DIGITS.sub("", value)
    return set(core.lower()) <= {"x"} or _MASK_RUN.search(core) is not None


def k8s_scoped_id(audit_id: str, principal: str, action: str, resource: str) -> str:
    request = hashlib.sha256("\x1f".join((principal, action, resource)).encode()).hexdigest()
    return f"{audit_id}@{request[:16]}"


def gcp_scoped_id(insert_id: str, project: str, when: datetime) -> str:
    return f"{insert_id}@{project}/{when.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


# Namespaces of identity aliases: how one human or workload is named in each system. An
# origin identity carries one or more (namespace, value) aliases; the directory merges
# identities that share an alias or that an admin joins.
ALIAS_NAMESPACES: dict[str, str] = {
    "email": "an email address / UPN / IdP login (lower-cased)",
    "aws_iam_user": "IAM user ARN (arn:aws:iam::<account>:user/<path/name>)",
    "aws_root": "account root ARN (arn:aws:iam::<account>:root)",
    "idc_user": "IAM Identity Center user id (identity store user id)",
    "saml_subject": "'<SAML issuer>|<subject NameID>'",
    "web_identity": "'<OIDC issuer host>|<sub claim>', e.g. a GitHub Actions repository ref",
    "k8s_user": "Kubernetes username of a person (not a service account)",
    "k8s_service_account": "'system:serviceaccount:<namespace>:<name>'",
    "gcp_service_account": "service account email (<name>@<project>.iam.gserviceaccount.com)",
    "okta_user": "Okta user id (00u...)",
    "entra_user": "Entra user object id",
    "entra_app": "Entra application (client) id of a service principal",
    "azure_managed_identity": "service principal id of a managed identity",
    "aws_workload": "compute resource ARN holding role credentials (EC2 instance, Lambda, ECS)",
    "aws_service": "an AWS service principal acting (e.g. 'cloudformation.amazonaws.com')",
    "spiffe": "SPIFFE id (spiffe://trust-domain/path)",
    "ocsf_user": "'<OCSF product or idp name>|<actor.user.uid>' when nothing better is known",
}
