"""CloudTrail: what a call did, and to what (categories and resources)."""

from __future__ import annotations

from typing import Any

import pytest

from forensics.engine.parsers.cloudtrail import PARSER
from tests.engine.parsers.test_cloudtrail import GITHUB_FILE, by_action, one, record

# --- what happened --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "name", "extra", "category"),
    [
        ("signin", "ConsoleLogin", {}, "authentication"),
        ("signin", "CredentialVerification", {}, "authentication"),
        ("s3", "PutBucketPolicy", {}, "permission_change"),
        ("iam", "AttachRolePolicy", {}, "permission_change"),
        ("iam", "PutUserPolicy", {}, "permission_change"),
        ("iam", "UpdateAssumeRolePolicy", {}, "permission_change"),
        ("iam", "AddUserToGroup", {}, "permission_change"),
        ("iam", "CreateAccessKey", {}, "permission_change"),
        ("iam", "CreateRole", {}, "permission_change"),
        ("lambda", "AddPermission20150331v2", {}, "permission_change"),
        ("kms", "CreateGrant", {}, "permission_change"),
        ("sso", "CreateAccountAssignment", {}, "permission_change"),
        ("s3", "GetObject", {}, "data_access"),
        ("dynamodb", "GetItem", {}, "data_access"),
        ("dynamodb", "Scan", {}, "data_access"),
        ("kms", "Decrypt", {}, "data_access"),
        ("secretsmanager", "GetSecretValue", {}, "data_access"),
        ("rds-data", "ExecuteStatement", {}, "data_access"),
        ("lambda", "Invoke", {"managementEvent": False}, "data_access"),
        ("s3", "DeleteObject", {"eventCategory": "Data"}, "data_access"),
        ("ssm", "StartSession", {}, "data_access"),
        ("ecs", "ExecuteCommand", {}, "data_access"),
        ("sts", "GetCallerIdentity", {}, "other"),
        ("s3", "ListBuckets", {}, "other"),
        ("ec2", "DescribeInstances", {"managementEvent": True}, "other"),
        ("sts", "AssumeRole", {}, "credential_issue"),
        ("sso-oauth", "CreateTokenWithIAM", {}, "credential_issue"),
    ],
)
def test_it_sorts_calls_into_categories(
    source: str, name: str, extra: dict[str, Any], category: str
) -> None:
    event = PARSER.parse(record(eventSource=f"{source}.amazonaws.com", eventName=name, **extra))
    assert event.category == category
    assert event.action == f"{source}:{name}"
    assert event.attrs["event_source"] == f"{source}.amazonaws.com"


def test_an_error_code_makes_the_call_a_failure() -> None:
    event = PARSER.parse(record(errorCode="UnauthorizedOperation", errorMessage="You are not..."))
    assert event.outcome == "failure"
    assert event.attrs["error_code"] == "UnauthorizedOperation"
    assert event.attrs["error_message"] == "You are not..."
    assert PARSER.parse(record()).outcome == "success"


def test_a_failed_console_sign_in_without_error_code_is_a_failure() -> None:
    event = one("failures_and_redactions.json", "signin:ConsoleLogin")
    assert event.outcome == "failure"
    assert event.category == "authentication"
    assert "error_code" not in event.attrs
    sign_in = record(
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        responseElements={"ConsoleLogin": "Failure"},
    )
    assert PARSER.parse(sign_in).outcome == "failure"


def test_an_identity_center_sign_in_step_reports_its_result_in_its_service_details() -> None:
    # As the IAM Identity Center guide's sign-in events are written: no errorCode, no
    # response, the result under the event's own name.
    def step(name: str, result: str) -> dict[str, Any]:
        return record(
            eventSource="signin.amazonaws.com",
            eventName=name,
            eventType="AwsServiceEvent",
            userIdentity={
                "type": "Unknown",
                "principalId": "111122223333",
                "arn": "",
                "accountId": "111122223333",
                "accessKeyId": "",
            },
            requestParameters=None,
            responseElements=None,
            additionalEventData={"UserName": "jdoe", "CredentialType": "PASSWORD"},
            serviceEventDetails={name: result},
        )

    failed = PARSER.parse(step("CredentialVerification", "Failure"))
    assert (failed.category, failed.outcome) == ("authentication", "failure")
    assert failed.attrs["signin_user_name"] == "jdoe"
    assert failed.attrs["credential_type"] == "PASSWORD"
    assert PARSER.parse(step("CredentialChallenge", "Success")).outcome == "success"
    assert PARSER.parse(step("UserAuthentication", "Failure")).outcome == "failure"


def test_a_copy_reads_the_object_named_in_its_copy_source() -> None:
    # CopyObject's data event names the object written in bucketName/key and the object
    # read in x-amz-copy-source (URL-encoded, maybe with a version).
    copy = record(
        eventSource="s3.amazonaws.com",
        eventName="CopyObject",
        managementEvent=False,
        eventCategory="Data",
        requestParameters={
            "bucketName": "exfil-drop",
            "key": "out/payroll.csv",
            "x-amz-copy-source": "hr-records/payroll/2024%20Q1.csv?versionId=3HL4kqtJlcpXroDTDmJ",
        },
    )
    event = PARSER.parse(copy)
    assert (event.category, event.resource, event.resource_type) == (
        "data_access",
        "s3://hr-records/payroll/2024 Q1.csv",
        "AWS::S3::Object",
    )
    assert event.attrs["copy_destination"] == "s3://exfil-drop/out/payroll.csv"
    assert event.attrs["copy_source_version_id"] == "3HL4kqtJlcpXroDTDmJ"
    part = PARSER.parse(
        record(
            eventSource="s3.amazonaws.com",
            eventName="UploadPartCopy",
            requestParameters={
                "bucketName": "b2",
                "key": "k2",
                "x-amz-copy-source": "/b1/k1",
            },
        )
    )
    assert (part.resource, part.attrs["copy_destination"]) == ("s3://b1/k1", "s3://b2/k2")
    plain = PARSER.parse(
        record(
            eventSource="s3.amazonaws.com",
            eventName="PutObject",
            requestParameters={"bucketName": "b2", "key": "k2"},
        )
    )
    assert plain.resource == "s3://b2/k2" and "copy_destination" not in plain.attrs


def test_it_writes_s3_resources_as_urls_from_parameters_or_resources() -> None:
    from_parameters = by_action("failures_and_redactions.json")["s3:GetObject"][0]
    assert from_parameters.resource == "s3://example-public-downloads/brochures/price-list.pdf"
    object_arn_only = record(
        eventSource="s3.amazonaws.com",
        eventName="GetObject",
        requestParameters={"Host": "example-bucket.s3.amazonaws.com"},
        resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::example-bucket/a/b.csv"}],
    )
    assert PARSER.parse(object_arn_only).resource == "s3://example-bucket/a/b.csv"
    bucket_only = record(
        eventSource="s3.amazonaws.com",
        eventName="GetBucketAcl",
        requestParameters={"bucketName": "example-bucket"},
    )
    event = PARSER.parse(bucket_only)
    assert (event.resource, event.resource_type) == ("s3://example-bucket", "AWS::S3::Bucket")


def test_it_falls_back_to_a_readable_resource_from_the_request() -> None:
    table = record(
        eventSource="dynamodb.amazonaws.com",
        eventName="GetItem",
        requestParameters={"tableName": "Customers", "key": {"id": {"S": "42"}}},
    )
    event = PARSER.parse(table)
    assert (event.resource, event.resource_type) == ("Customers", "AWS::DynamoDB::Table")
    ssh = record(
        eventSource="ec2-instance-connect.amazonaws.com",
        eventName="SendSSHPublicKey",
        requestParameters={"instanceId": "i-0123456789abcdef0", "instanceOSUser": "ec2-user"},
    )
    assert (PARSER.parse(ssh).resource, PARSER.parse(ssh).resource_type) == (
        "i-0123456789abcdef0",
        "AWS::EC2::Instance",
    )
    password = PARSER.parse(
        record(
            eventSource="ec2.amazonaws.com",
            eventName="GetPasswordData",
            requestParameters={"instanceId": "i-0fedcba9876543210"},
        )
    )
    assert (password.category, password.resource) == ("data_access", "i-0fedcba9876543210")
    shell = PARSER.parse(
        record(
            eventSource="ssm.amazonaws.com",
            eventName="StartSession",
            requestParameters={"target": "i-0fedcba9876543210"},
        )
    )
    assert (shell.category, shell.resource, shell.resource_type) == (
        "data_access",
        "i-0fedcba9876543210",
        "AWS::EC2::Instance",
    )
    snapshot = PARSER.parse(
        record(
            eventSource="ec2.amazonaws.com",
            eventName="ModifySnapshotAttribute",
            requestParameters={
                "snapshotId": "snap-0a392d80692e2526a",
                "createVolumePermission": {"add": {"items": [{"group": "all"}]}},
                "attributeType": "CREATE_VOLUME_PERMISSION",
            },
        )
    )
    assert (snapshot.category, snapshot.resource, snapshot.resource_type) == (
        "permission_change",
        "snap-0a392d80692e2526a",
        "AWS::EC2::Snapshot",
    )
    secret = one(GITHUB_FILE, "secretsmanager:GetSecretValue")
    assert secret.resource_type == "AWS::SecretsManager::Secret"
    assert secret.resource.endswith(":secret:billing/db-credentials-AbCdEf")


def test_a_new_access_key_is_kept_to_find_who_made_the_key_a_later_call_used() -> None:
    made = record(
        eventSource="iam.amazonaws.com",
        eventName="CreateAccessKey",
        requestParameters={"userName": "ci-deployer"},
        responseElements={
            "accessKey": {
                "userName": "ci-deployer",
                "accessKeyId": "AKIAEXAMPLENEWKEY001",
                "status": "Active",
                "createDate": "Apr 10, 2024 2:25:03 PM",
            }
        },
    )

    event = PARSER.parse(made)

    assert event.category == "permission_change"
    assert event.attrs["created_key_id"] == "AKIAEXAMPLENEWKEY001"
    # Not an issued credential: the key is the user's, whoever made it.
    assert event.credential_issued == ""
