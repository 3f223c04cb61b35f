"""Which CloudTrail calls do what: the catalogue the CloudTrail parser classifies by.

Identity types, the calls that issue credentials (and how), the calls that change who may
do what, the management calls that read data, and where a call names its resource when
``resources[]`` is absent. Taken from the AWS service documentation of each call.
"""

from __future__ import annotations


def names(text: str) -> frozenset[str]:
    """Call names written as one white-space separated list."""
    return frozenset(text.split())


ACTOR_KINDS = {
    "Root": "root",
    "IAMUser": "user",
    "AssumedRole": "role_session",
    "Role": "role_session",
    "FederatedUser": "federated_session",
    "SAMLUser": "federated_session",
    "WebIdentityUser": "federated_session",
    "IdentityCenterUser": "identity_center_user",
    "AWSService": "service",
    # Another account, a directory user or an unknown type: the log does not say what kind
    # of principal stood behind the request.
    "AWSAccount": "unknown",
    "Directory": "unknown",
    "Unknown": "unknown",
}

# (service, eventName) -> hop method of the credential the call hands out.
ISSUING: dict[tuple[str, str], str] = {
    ("sts", "AssumeRole"): "assume-role",
    ("sts", "AssumeRoleWithSAML"): "saml-federation",
    ("sts", "AssumeRoleWithWebIdentity"): "web-identity",
    ("sts", "GetSessionToken"): "session-token",
    ("sts", "GetFederationToken"): "federation-token",
    ("sts", "AssumeRoot"): "assume-role",
    ("sso", "GetRoleCredentials"): "sso",
    ("portal.sso", "GetRoleCredentials"): "sso",
    ("sso-oauth", "CreateTokenWithIAM"): "sso",
    ("sso-oauth", "CreateToken"): "sso",
}

SIGNIN_SERVICES = {"signin"}
SSO_SIGNIN = {"Authenticate", "Federate", "UserAuthentication", "CredentialChallenge"}

# Calls that grant, widen or remove access. IAM is listed whole; other services by name.
IAM_PERMISSION = names(
    """
    PutUserPolicy PutRolePolicy PutGroupPolicy AttachUserPolicy AttachRolePolicy
    AttachGroupPolicy DetachUserPolicy DetachRolePolicy DetachGroupPolicy DeleteUserPolicy
    DeleteRolePolicy DeleteGroupPolicy CreatePolicy CreatePolicyVersion DeletePolicy
    DeletePolicyVersion SetDefaultPolicyVersion CreateRole DeleteRole UpdateRole
    UpdateAssumeRolePolicy CreateServiceLinkedRole CreateUser DeleteUser CreateGroup
    DeleteGroup AddUserToGroup RemoveUserFromGroup CreateAccessKey UpdateAccessKey
    DeleteAccessKey CreateLoginProfile UpdateLoginProfile DeleteLoginProfile
    PutUserPermissionsBoundary PutRolePermissionsBoundary DeleteUserPermissionsBoundary
    DeleteRolePermissionsBoundary CreateInstanceProfile AddRoleToInstanceProfile
    RemoveRoleFromInstanceProfile CreateSAMLProvider UpdateSAMLProvider DeleteSAMLProvider
    CreateOpenIDConnectProvider DeleteOpenIDConnectProvider AddClientIDToOpenIDConnectProvider
    UpdateOpenIDConnectProviderThumbprint EnableMFADevice DeactivateMFADevice ResyncMFADevice
    CreateVirtualMFADevice DeleteVirtualMFADevice UploadSSHPublicKey UploadSigningCertificate
    CreateServiceSpecificCredential
    """
)
ANY_SERVICE_PERMISSION = names(
    "PutResourcePolicy DeleteResourcePolicy AddPermission RemovePermission"
)
PERMISSION: dict[str, frozenset[str]] = {
    "s3": names(
        """
        PutBucketPolicy DeleteBucketPolicy PutBucketAcl PutObjectAcl PutBucketPublicAccessBlock
        DeleteBucketPublicAccessBlock PutAccountPublicAccessBlock PutBucketOwnershipControls
        PutAccessPointPolicy DeleteAccessPointPolicy
        """
    ),
    "kms": names("PutKeyPolicy CreateGrant RevokeGrant RetireGrant"),
    "sso": names(
        """
        CreateAccountAssignment DeleteAccountAssignment CreatePermissionSet DeletePermissionSet
        ProvisionPermissionSet AttachManagedPolicyToPermissionSet
        DetachManagedPolicyFromPermissionSet PutInlinePolicyToPermissionSet
        DeleteInlinePolicyFromPermissionSet AttachCustomerManagedPolicyReferenceToPermissionSet
        DetachCustomerManagedPolicyReferenceFromPermissionSet
        PutPermissionsBoundaryToPermissionSet DeletePermissionsBoundaryFromPermissionSet
        """
    ),
    "identitystore": names("CreateGroupMembership DeleteGroupMembership"),
    "organizations": names("AttachPolicy DetachPolicy UpdatePolicy"),
    "ec2": names("ModifySnapshotAttribute ModifyImageAttribute"),
    "rds": names("ModifyDBSnapshotAttribute ModifyDBClusterSnapshotAttribute"),
    "eks": names(
        "CreateAccessEntry DeleteAccessEntry AssociateAccessPolicy DisassociateAccessPolicy"
    ),
    "ecr": names("SetRepositoryPolicy DeleteRepositoryPolicy"),
    "lakeformation": names(
        "GrantPermissions RevokePermissions BatchGrantPermissions BatchRevokePermissions"
    ),
}

# Management events that read data; data events are recognized by their own flags.
DATA_READS: dict[str, frozenset[str]] = {
    "s3": names("GetObject SelectObjectContent GetObjectAttributes"),
    "dynamodb": names(
        """
        GetItem BatchGetItem Query Scan ExecuteStatement BatchExecuteStatement
        ExecuteTransaction TransactGetItems ExportTableToPointInTime
        """
    ),
    "kms": names("Decrypt"),
    "secretsmanager": names("GetSecretValue BatchGetSecretValue"),
    # StartSession opens a shell (or a forwarded port) on a managed instance, as ECS
    # ExecuteCommand does in a task's container: access to whatever that host holds, as
    # Kubernetes' pods/exec is.
    "ssm": names("GetParameter GetParameters GetParametersByPath GetParameterHistory StartSession"),
    "ecs": names("ExecuteCommand"),
    "rds-data": names("ExecuteStatement BatchExecuteStatement ExecuteSql"),
    "redshift-data": names("ExecuteStatement BatchExecuteStatement GetStatementResult"),
    "athena": names("GetQueryResults"),
    "logs": names("GetLogEvents FilterLogEvents"),
    "ebs": names("GetSnapshotBlock"),
    "lambda": names("Invoke"),
    # An instance's administrator password (encrypted with its key pair) and its console.
    "ec2": names("GetPasswordData GetConsoleOutput GetConsoleScreenshot"),
}

# Where a readable resource name sits in requestParameters when resources[] is absent.
PARAM_RESOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "dynamodb": (("tableName", "AWS::DynamoDB::Table"),),
    "secretsmanager": (("secretId", "AWS::SecretsManager::Secret"),),
    "kms": (("keyId", "AWS::KMS::Key"),),
    "ssm": (("name", "AWS::SSM::Parameter"),),
    "rds-data": (("resourceArn", "AWS::RDS::DBCluster"),),
    "redshift-data": (("clusterIdentifier", "AWS::Redshift::Cluster"),),
    "lambda": (("functionName", "AWS::Lambda::Function"),),
    # EC2 Instance Connect: the instance a key was pushed to for an SSH session.
    "ec2-instance-connect": (("instanceId", "AWS::EC2::Instance"),),
    "ec2": (
        ("instanceId", "AWS::EC2::Instance"),
        ("snapshotId", "AWS::EC2::Snapshot"),
        ("imageId", "AWS::EC2::Image"),
    ),
    "rds": (
        ("dBSnapshotIdentifier", "AWS::RDS::DBSnapshot"),
        ("dBClusterSnapshotIdentifier", "AWS::RDS::DBClusterSnapshot"),
    ),
    "ecs": (("task", "AWS::ECS::Task"), ("cluster", "AWS::ECS::Cluster")),
    "sts": (("roleArn", "AWS::IAM::Role"),),
    "iam": (
        ("roleName", "AWS::IAM::Role"),
        ("userName", "AWS::IAM::User"),
        ("groupName", "AWS::IAM::Group"),
        ("policyArn", "AWS::IAM::ManagedPolicy"),
    ),
}
