"""The CloudTrail parser against real-shaped sample files and small inline records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import (
    ACTOR_KINDS,
    ATTR_KEYS,
    CATEGORIES,
    DATA_ACCESS,
    HOP_METHODS,
    OTHER,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers.cloudtrail import PARSER
from tests.engine.parsers.foreign import SAMPLES, sample_records

GITHUB_FILE = "111122223333_CloudTrail_us-east-1_20240410T1425Z_GhOidcEXAMPLE.json.gz"
SAMPLE_FILES = sorted(p.name for p in (SAMPLES / "cloudtrail").iterdir() if p.suffix != ".md")


def read(name: str) -> list[dict[str, Any]]:
    """The records of a sample file, as the reader yields them."""
    return sample_records("cloudtrail", name)


def parse_file(name: str) -> list[NormalizedEvent]:
    return [PARSER.parse(record) for record in read(name)]


def by_action(name: str) -> dict[str, list[NormalizedEvent]]:
    found: dict[str, list[NormalizedEvent]] = {}
    for event in parse_file(name):
        found.setdefault(event.action, []).append(event)
    return found


def one(name: str, action: str) -> NormalizedEvent:
    (event,) = by_action(name)[action]
    return event


def record(**changes: Any) -> dict[str, Any]:
    """A minimal IAM user API call, with top-level fields replaced or removed (None)."""
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAQINLINEUSER00001",
            "arn": "arn:aws:iam::111122223333:user/inline",
            "accountId": "111122223333",
            "accessKeyId": "AKIAQINLINEUSER00001",
            "userName": "inline",
        },
        "eventTime": "2024-02-01T12:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.15.10",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "11111111-2222-4333-8444-555555555555",
        "eventID": "66666666-7777-4888-9999-000000000000",
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


# --- who acted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "action", "index", "identity_type", "kind", "principal", "credential"),
    [
        ("root_sessions.json", "signin:ConsoleLogin", 0, "Root", "root",
         "arn:aws:iam::444455556666:root", ""),
        ("shared_iam_user.json", "s3:GetObject", 0, "IAMUser", "user",
         "arn:aws:iam::111122223333:user/etl-shared", "AKIAQETLSHAREDKEY001"),
        ("saml_role_chain.json", "s3:GetObject", 0, "AssumedRole", "role_session",
         "arn:aws:sts::111122223333:assumed-role/CustomerDataReader/jane.doe-pii",
         "ASIAQPIIREADEREXAMPL"),
        ("other_identity_types.json", "s3:ListObjects", 0, "Role", "role_session",
         "arn:aws:iam::111122223333:role/datasync-transfer", ""),
        ("federation_token.json", "s3:GetObject", 0, "FederatedUser", "federated_session",
         "arn:aws:sts::111122223333:federated-user/quarterly-report", "ASIAQFEDREPORTEXAMP1"),
        ("other_identity_types.json", "workdocs:GetDocument", 0, "Directory", "unknown",
         "pat.kim", ""),
        ("cross_account_assume_role.json", "sts:AssumeRole", 1, "AWSAccount", "unknown",
         "AIDAQSAMTAYLOREXAMP1", ""),
        ("failures_and_redactions.json", "s3:GetObject", 0, "AWSAccount", "anonymous",
         "anonymous", ""),
        ("ec2_instance_profile.json", "sts:AssumeRole", 0, "AWSService", "service",
         "ec2.amazonaws.com", ""),
        ("other_identity_types.json", "sso:ListApplications", 0, "Unknown", "unknown",
         "pat.kim@example.com", ""),
        ("saml_role_chain.json", "sts:AssumeRoleWithSAML", 0, "SAMLUser", "federated_session",
         "Xq1vZ7ExampleQualifier2Hs=:jane.doe@example.com", ""),
        ("eks_irsa.jsonl", "sts:AssumeRoleWithWebIdentity", 0, "WebIdentityUser",
         "federated_session",
         "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/"
         "EXAMPLE0D8C1E2F3A4B5C6D7E8F9A0B1C:sts.amazonaws.com:"
         "system:serviceaccount:billing:invoice-worker", ""),
        ("identity_center_application.json", "sso:GetRoleCredentials", 0, "IdentityCenterUser",
         "identity_center_user", "90676d2c7e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
         "AAAAAGExampleCredentialIdForTheAccessBrokerToken0000000001"),
    ],
)  # fmt: skip
def test_it_maps_each_identity_type_to_its_actor(
    sample: str,
    action: str,
    index: int,
    identity_type: str,
    kind: str,
    principal: str,
    credential: str,
) -> None:
    event = by_action(sample)[action][index]
    assert event.attrs["identity_type"] == identity_type
    assert event.actor_kind == kind
    assert event.actor_principal == principal
    assert event.credential_used == credential


def test_every_sample_event_uses_the_shared_vocabularies() -> None:
    kinds: set[str] = set()
    for name in SAMPLE_FILES:
        for event in parse_file(name):
            assert event.source_kind == "cloudtrail"
            assert event.category in CATEGORIES
            assert event.actor_kind in ACTOR_KINDS
            assert event.issue_method in (*HOP_METHODS, "")
            assert event.event_time.tzinfo is not None
            assert event.correlation_id == ""
            kinds.add(event.attrs.get("identity_type", ""))
    assert kinds >= {
        "Root", "IAMUser", "AssumedRole", "Role", "FederatedUser", "Directory", "AWSAccount",
        "AWSService", "Unknown", "SAMLUser", "WebIdentityUser", "IdentityCenterUser",
    }  # fmt: skip


def test_it_names_the_role_session_and_the_issuer_of_a_session() -> None:
    event = one("saml_role_chain.json", "s3:GetObject")
    assert event.session_name == "jane.doe-pii"
    assert event.source_identity == "jane.doe@example.com"
    assert event.mfa is False
    assert event.actor_account == "111122223333"
    assert event.attrs["session_issuer_arn"] == "arn:aws:iam::111122223333:role/CustomerDataReader"
    assert event.attrs["session_issuer_type"] == "Role"
    assert event.attrs["session_issuer_principal_id"] == "AROAQCUSTDATAREADR1"
    assert event.attrs["principal_id"] == "AROAQCUSTDATAREADR1:jane.doe-pii"
    assert event.attrs["session_created"] == "2024-03-05T10:02:40Z"


def test_it_records_the_compute_resource_holding_instance_credentials() -> None:
    event = one("ec2_instance_profile.json", "kms:Decrypt")
    assert event.session_name == "i-0a1b2c3d4e5f67890"
    assert event.attrs["in_scope_of_issued_to"] == (
        "arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f67890"
    )
    assert event.attrs["in_scope_of_issuer_type"] == "AWS::EC2::Instance"
    assert event.attrs["ec2_role_delivery"] == "2.0"


def test_it_keeps_the_identity_center_user_behind_a_reserved_role_session() -> None:
    event = one("identity_center_application.json", "s3:GetObject")
    assert event.actor_kind == "role_session"
    assert event.session_name == "lee.wong@example.com"
    assert event.attrs["on_behalf_of_user_id"] == "90676d2c7e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    assert event.attrs["on_behalf_of_identity_store_arn"] == (
        "arn:aws:identitystore::123456789012:identitystore/d-90676d2c7e"
    )
    portal = one("identity_center_portal_session.json", "dynamodb:Scan")
    assert "on_behalf_of_user_id" not in portal.attrs


def test_it_records_the_web_identity_provider_of_a_federated_session() -> None:
    event = one("eks_irsa.jsonl", "dynamodb:Query")
    assert event.attrs["web_id_federation_provider"] == (
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/"
        "EXAMPLE0D8C1E2F3A4B5C6D7E8F9A0B1C"
    )


def test_it_marks_a_centralized_root_session() -> None:
    event = one("root_sessions.json", "iam:DeleteLoginProfile")
    assert event.actor_kind == "root"
    assert event.credential_used == "ASIAQROOTTASKEXAMPL1"
    assert event.attrs["assumed_root"] == "true"
    assert event.category == "permission_change"


def test_it_reads_mfa_from_session_attributes_and_from_console_sign_in() -> None:
    assert one("lake_query_rows.jsonl", "secretsmanager:GetSecretValue").mfa is True
    assert one("root_sessions.json", "signin:ConsoleLogin").mfa is True
    assert one("shared_iam_user.json", "signin:ConsoleLogin").mfa is False
    assert by_action("shared_iam_user.json")["s3:GetObject"][0].mfa is None


def test_an_aws_service_acting_for_a_caller_is_recorded_beside_the_caller() -> None:
    event = by_action("failures_and_redactions.json")["s3:GetObject"][1]
    assert event.actor_principal == "arn:aws:sts::111122223333:assumed-role/Developer/alex"
    assert event.attrs["invoked_by"] == "athena.amazonaws.com"
    assert event.source_address == "athena.amazonaws.com"
    assert event.user_agent == ""


# --- credential-issuing calls ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "action", "credential", "issued_principal", "method"),
    [
        ("saml_role_chain.json", "sts:AssumeRoleWithSAML", "ASIAQSAMLJANE0EXAMPL",
         "arn:aws:sts::111122223333:assumed-role/EngineerFederated/jane.doe@example.com",
         "saml-federation"),
        ("saml_role_chain.json", "sts:AssumeRole", "ASIAQPIIREADEREXAMPL",
         "arn:aws:sts::111122223333:assumed-role/CustomerDataReader/jane.doe-pii",
         "assume-role"),
        (GITHUB_FILE, "sts:AssumeRoleWithWebIdentity", "ASIAQGHADEPLOYEXAMPL",
         "arn:aws:sts::111122223333:assumed-role/github-deploy-billing/GitHubActions",
         "web-identity"),
        ("federation_token.json", "sts:GetFederationToken", "ASIAQFEDREPORTEXAMP1",
         "arn:aws:sts::111122223333:federated-user/quarterly-report", "federation-token"),
        ("lake_query_rows.jsonl", "sts:GetSessionToken", "ASIAQDANALEEMFAEXAM1",
         "arn:aws:iam::111122223333:user/dana.lee", "session-token"),
        ("root_sessions.json", "sts:AssumeRoot", "ASIAQROOTTASKEXAMPL1",
         "arn:aws:iam::444455556666:root", "assume-role"),
        ("identity_center_application.json", "sso-oauth:CreateTokenWithIAM",
         "AAAAAGExampleCredentialIdForTheAccessBrokerToken0000000001",
         "90676d2c7e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "sso"),
        ("identity_center_application.json", "sso:GetRoleCredentials", "", "", "sso"),
    ],
)  # fmt: skip
def test_it_reads_what_an_issuing_call_handed_out(
    sample: str, action: str, credential: str, issued_principal: str, method: str
) -> None:
    event = one(sample, action)
    assert event.category == "credential_issue"
    assert event.credential_issued == credential
    assert event.issued_principal == issued_principal
    assert event.issue_method == method


def test_a_source_identity_an_issuing_call_sets_is_the_new_sessions() -> None:
    # An IAM user with sts:SetSourceIdentity names whom the session is for: that says
    # nothing of who called (the user's own call has no session, so no source identity).
    event = PARSER.parse(
        record(
            eventSource="sts.amazonaws.com",
            eventName="AssumeRole",
            requestParameters={
                "roleArn": "arn:aws:iam::111122223333:role/Analyst",
                "roleSessionName": "analysis",
                "sourceIdentity": "alice@example.com",
            },
            responseElements={
                "credentials": {
                    "accessKeyId": "ASIASRC000000000001",
                    "expiration": "Apr 10, 2024, 3:25:03 PM",
                    "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                },
                "assumedRoleUser": {
                    "assumedRoleId": "AROASRC0000000000001:analysis",
                    "arn": "arn:aws:sts::111122223333:assumed-role/Analyst/analysis",
                },
                "sourceIdentity": "alice@example.com",
            },
        )
    )
    assert event.category == "credential_issue"
    assert event.source_identity == ""
    assert event.attrs["requested_source_identity"] == "alice@example.com"


def test_an_eks_pod_identity_session_names_the_pods_service_account() -> None:
    # As EKS Pod Identity assumes a role for a pod: sts:AssumeRole and sts:TagSession by
    # the pods.eks.amazonaws.com service, with the pod's tags.
    tags = {
        "eks-cluster-arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod-euw1",
        "eks-cluster-name": "prod-euw1",
        "kubernetes-namespace": "shop",
        "kubernetes-service-account": "checkout",
        "kubernetes-pod-name": "checkout-7d9f8c6b5-x2kfp",
        "kubernetes-pod-uid": "2b8e6c1a-5d4f-4e3a-9b2c-1a0f9e8d7c6b",
    }
    event = PARSER.parse(
        record(
            userIdentity={"type": "AWSService", "invokedBy": "pods.eks.amazonaws.com"},
            eventSource="sts.amazonaws.com",
            eventName="AssumeRole",
            sourceIPAddress="pods.eks.amazonaws.com",
            requestParameters={
                "roleArn": "arn:aws:iam::111122223333:role/checkout-pod-role",
                "roleSessionName": "eks-prod-euw1-checkout-7-2b8e6c1a",
                "tags": [{"key": k, "value": v} for k, v in tags.items()],
            },
        )
    )
    assert event.attrs["pod_service_account"] == "system:serviceaccount:shop:checkout"
    assert event.attrs["eks_cluster_name"] == "prod-euw1"
    assert event.attrs["pod_name"] == "checkout-7d9f8c6b5-x2kfp"
    other = record(
        eventSource="sts.amazonaws.com",
        eventName="AssumeRole",
        requestParameters={"roleArn": "arn:aws:iam::111122223333:role/x", "tags": []},
    )
    assert "pod_service_account" not in PARSER.parse(other).attrs


def test_it_reads_the_saml_assertion_facts() -> None:
    event = one("saml_role_chain.json", "sts:AssumeRoleWithSAML")
    assert event.attrs["federation_subject"] == "jane.doe@example.com"
    assert event.attrs["federation_subject_type"] == "persistent"
    assert event.attrs["federation_issuer"] == "https://idp.example.com/saml2/metadata"
    assert event.attrs["federation_audience"] == "https://signin.aws.amazon.com/saml"
    assert event.attrs["identity_provider"] == "Xq1vZ7ExampleQualifier2Hs="
    assert event.attrs["role_arn"] == "arn:aws:iam::111122223333:role/EngineerFederated"
    assert event.attrs["role_session_name"] == "jane.doe@example.com"
    assert event.attrs["assumed_role_id"] == "AROAQENGINEEREXAMPL1:jane.doe@example.com"
    assert event.attrs["requested_source_identity"] == "jane.doe@example.com"
    assert event.attrs["credential_expiration"] == "2024-03-05T10:58:12Z"
    # The caller (a SAML user) has no session of its own: the source identity is the new
    # session's, not a claim about who called.
    assert event.source_identity == ""
    assert event.resource == "arn:aws:iam::111122223333:role/EngineerFederated"
    assert event.resource_type == "AWS::IAM::Role"


@pytest.mark.parametrize(
    ("sample", "subject", "issuer"),
    [
        (GITHUB_FILE, "repo:example-org/billing-service:ref:refs/heads/main",
         "token.actions.githubusercontent.com"),
        ("eks_irsa.jsonl", "system:serviceaccount:billing:invoice-worker",
         "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0D8C1E2F3A4B5C6D7E8F9A0B1C"),
    ],
)  # fmt: skip
def test_it_reads_the_workload_a_web_identity_token_was_issued_for(
    sample: str, subject: str, issuer: str
) -> None:
    event = one(sample, "sts:AssumeRoleWithWebIdentity")
    assert event.attrs["federation_subject"] == subject
    assert event.attrs["federation_issuer"] == issuer
    assert event.attrs["federation_audience"] == "sts.amazonaws.com"
    assert event.attrs["user_name"] == subject


def test_it_records_the_federated_user_and_expiry_of_a_federation_token() -> None:
    event = one("federation_token.json", "sts:GetFederationToken")
    assert event.attrs["federated_user_arn"] == (
        "arn:aws:sts::111122223333:federated-user/quarterly-report"
    )
    assert event.attrs["credential_expiration"] == "2024-06-03T14:05:00Z"
    assert event.credential_used == "AKIAQREPORTBUILDER01"


def test_portal_role_credentials_name_the_role_but_no_key() -> None:
    event = one("identity_center_application.json", "sso:GetRoleCredentials")
    assert event.attrs["sso_role_name"] == "CustomerSupportRead"
    assert event.attrs["sso_account_id"] == "444455556666"
    assert event.credential_issued == ""


def test_a_failed_issuing_call_issues_nothing() -> None:
    event = one("failures_and_redactions.json", "sts:AssumeRole")
    assert event.outcome == "failure"
    assert event.category == "credential_issue"
    assert event.credential_issued == ""
    assert event.issued_principal == ""
    assert event.attrs["error_code"] == "AccessDenied"
    assert event.attrs["role_arn"] == "arn:aws:iam::444455556666:role/CustomerDataReader"


def test_a_redacted_token_is_never_taken_for_a_credential() -> None:
    event = one("failures_and_redactions.json", "sso-oauth:CreateToken")
    assert event.category == "credential_issue"
    assert event.credential_issued == ""
    assert event.credential_used == ""
    assert "credential_id" not in event.attrs


# --- chains inside the scenario files --------------------------------------------------------


def test_the_saml_chain_keys_line_up_from_idp_to_personal_data() -> None:
    saml = one("saml_role_chain.json", "sts:AssumeRoleWithSAML")
    chained = one("saml_role_chain.json", "sts:AssumeRole")
    read_pii = one("saml_role_chain.json", "s3:GetObject")
    assert chained.credential_used == saml.credential_issued
    assert chained.actor_principal == saml.issued_principal
    assert read_pii.credential_used == chained.credential_issued
    assert read_pii.actor_principal == chained.issued_principal
    assert read_pii.resource == "s3://example-customer-pii/exports/2024/03/customers.csv"
    assert read_pii.resource_type == "AWS::S3::Object"
    assert read_pii.category == "data_access"


@pytest.mark.parametrize(
    ("sample", "issuing", "using"),
    [
        (GITHUB_FILE, "sts:AssumeRoleWithWebIdentity", "secretsmanager:GetSecretValue"),
        (GITHUB_FILE, "sts:AssumeRoleWithWebIdentity", "s3:PutObject"),
        ("eks_irsa.jsonl", "sts:AssumeRoleWithWebIdentity", "dynamodb:Query"),
        ("federation_token.json", "sts:GetFederationToken", "s3:GetObject"),
        ("ec2_instance_profile.json", "sts:AssumeRole", "kms:Decrypt"),
        ("cross_account_assume_role.json", "sts:AssumeRole", "s3:GetObject"),
        ("identity_center_application.json", "sts:AssumeRoleWithSAML", "s3:GetObject"),
        ("identity_center_application.json", "sso-oauth:CreateTokenWithIAM",
         "sso:GetRoleCredentials"),
        ("identity_center_portal_session.json", "sts:AssumeRoleWithSAML", "dynamodb:Scan"),
        ("root_sessions.json", "sts:AssumeRoot", "iam:DeleteLoginProfile"),
        ("lake_query_rows.jsonl", "sts:GetSessionToken", "secretsmanager:GetSecretValue"),
    ],
)  # fmt: skip
def test_the_using_event_signs_with_the_issued_credential(
    sample: str, issuing: str, using: str
) -> None:
    issued = by_action(sample)[issuing][0]
    used = by_action(sample)[using][-1]
    assert issued.credential_issued
    assert used.credential_used == issued.credential_issued
    assert used.actor_principal == issued.issued_principal


def test_both_records_of_a_cross_account_call_share_the_shared_event_id() -> None:
    caller, owner = by_action("cross_account_assume_role.json")["sts:AssumeRole"]
    assert caller.source_event_id != owner.source_event_id
    assert caller.attrs["shared_event_id"] == owner.attrs["shared_event_id"]
    assert caller.request_id == owner.request_id
    assert caller.attrs["recipient_account_id"] == "777788889999"
    assert owner.attrs["recipient_account_id"] == "444455556666"
    assert caller.actor_account == owner.actor_account == "777788889999"
    assert caller.credential_issued == owner.credential_issued


def test_a_shared_iam_user_key_shows_up_from_several_addresses() -> None:
    reads = by_action("shared_iam_user.json")["s3:GetObject"]
    assert {e.credential_used for e in reads} == {"AKIAQETLSHAREDKEY001"}
    assert len({e.source_address for e in reads}) == 2
    assert len({e.user_agent for e in reads}) == 2


# --- delivery shapes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "count", "first_action"),
    [
        (GITHUB_FILE, 3, "sts:AssumeRoleWithWebIdentity"),
        ("eks_irsa.jsonl", 3, "sts:AssumeRoleWithWebIdentity"),
        ("lake_query_rows.jsonl", 2, "sts:GetSessionToken"),
        ("eventbridge_s3_getobject.json", 1, "s3:GetObject"),
        ("saml_role_chain.json", 3, "sts:AssumeRoleWithSAML"),
    ],
)
def test_it_reads_each_delivery_shape_through_the_reader(
    sample: str, count: int, first_action: str
) -> None:
    records = read(sample)
    assert len(records) == count
    assert all(PARSER.sniff(r) for r in records)
    assert PARSER.parse(records[0]).action == first_action


def test_every_record_of_every_sample_is_recognized() -> None:
    for name in SAMPLE_FILES:
        for rec in read(name):
            assert PARSER.sniff(rec), name


def test_it_unwraps_an_eventbridge_envelope() -> None:
    (envelope,) = read("eventbridge_s3_getobject.json")
    assert envelope["detail-type"] == "AWS API Call via CloudTrail"
    event = PARSER.parse(envelope)
    assert event.source_event_id == envelope["detail"]["eventID"]
    assert event.actor_principal == "arn:aws:sts::111122223333:assumed-role/SupportOps/kai.mueller"
    assert event.source_identity == "kai.mueller@example.com"
    assert event.event_time == datetime(2024, 11, 4, 16, 45, 12, tzinfo=UTC)


def test_it_unwraps_a_lake_event_json_row() -> None:
    row = read("lake_query_rows.jsonl")[1]
    assert isinstance(row["eventJson"], str)
    event = PARSER.parse(row)
    assert event.source_event_id == json.loads(row["eventJson"])["eventID"]
    assert event.resource == (
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:crm/api-token-Gh7Jk9"
    )


def test_lake_query_results_read_as_the_rows_they_hold() -> None:
    """``aws cloudtrail get-query-results`` output: rows of one-column objects."""
    results = parse_file("lake_get_query_results.json")
    rows = parse_file("lake_query_rows.jsonl")
    assert results == rows
    texts = [r["eventJson"] for r in read("lake_get_query_results.json")]
    assert texts == [r["eventJson"] for r in read("lake_query_rows.jsonl")]


def test_it_reads_a_lake_event_data_store_row_with_flattened_values() -> None:
    row = record(
        eventTime="2024-05-02 10:15:00.000",
        eventSource="sts.amazonaws.com",
        eventName="AssumeRole",
        requestParameters={
            "roleArn": "arn:aws:iam::111122223333:role/Reader",
            "roleSessionName": "inline",
        },
        responseElements={
            "credentials": '{"accessKeyId":"ASIAQLAKEROWEXAMPLE1","expiration":1714648500000}',
            "assumedRoleUser": '{"arn":"arn:aws:sts::111122223333:assumed-role/Reader/inline"}',
        },
    )
    event = PARSER.parse(row)
    assert event.event_time == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)
    assert event.credential_issued == "ASIAQLAKEROWEXAMPLE1"
    assert event.issued_principal == "arn:aws:sts::111122223333:assumed-role/Reader/inline"
    assert event.attrs["credential_expiration"] == "2024-05-02T11:15:00Z"


def test_it_unwraps_an_event_history_lookup_entry() -> None:
    inner = record(eventName="TerminateInstances")
    entry = {
        "EventId": inner["eventID"],
        "EventName": "TerminateInstances",
        "EventTime": "2024-02-01T12:00:00Z",
        "CloudTrailEvent": json.dumps(inner),
    }
    assert PARSER.sniff(entry)
    assert PARSER.parse(entry).action == "ec2:TerminateInstances"


# --- messy records --------------------------------------------------------------------------


def test_redacted_user_names_never_become_principals() -> None:
    event = one("failures_and_redactions.json", "signin:ConsoleLogin")
    assert event.actor_principal == ""
    assert "user_name" not in event.attrs
    assert event.credential_used == ""


def test_numeric_account_ids_keep_their_twelve_digits() -> None:
    event = PARSER.parse(
        record(
            userIdentity={"type": "Root", "principalId": 12345678901, "accountId": 12345678901},
            recipientAccountId=12345678901,
        )
    )
    assert event.actor_account == "012345678901"
    assert event.attrs["recipient_account_id"] == "012345678901"
    assert event.actor_kind == "root"


def test_it_keeps_odd_source_addresses_as_recorded() -> None:
    anonymous = by_action("failures_and_redactions.json")["s3:GetObject"][0]
    assert anonymous.source_address == "2001:db8:85a3::8a2e:370:7334"
    assert one("ec2_instance_profile.json", "sts:AssumeRole").source_address == (
        "ec2.amazonaws.com"
    )
    internal = PARSER.parse(record(sourceIPAddress="AWS Internal", userAgent=None))
    assert internal.source_address == "AWS Internal"
    assert internal.user_agent == ""


def test_a_record_without_user_identity_has_an_unknown_actor() -> None:
    event = PARSER.parse(record(userIdentity=None))
    assert (event.actor_principal, event.actor_kind) == ("", "unknown")


INSIGHT_FILE = "444455556666_CloudTrail-Insight_us-east-1_20240410T1440Z_InsightEXAMPLE.json.gz"
CONTRACTOR = "arn:aws:sts::444455556666:assumed-role/PayrollReader/contractor-session"


def test_an_insights_file_is_recognized_and_every_insight_is_an_event() -> None:
    from forensics.engine.parsers import detect

    records = read(INSIGHT_FILE)
    assert detect(records) is PARSER
    start, end, errors = parse_file(INSIGHT_FILE)
    assert [e.action for e in (start, end, errors)] == [
        "cloudtrail:ApiCallRateInsight",
        "cloudtrail:ApiCallRateInsight",
        "cloudtrail:ApiErrorRateInsight",
    ]
    assert start.attrs["insight_state"] == "Start" and end.attrs["insight_state"] == "End"
    assert start.attrs["insight_id"] == end.attrs["insight_id"]
    assert (start.attrs["insight_event_source"], start.attrs["insight_event_name"]) == (
        "s3.amazonaws.com",
        "GetObject",
    )
    assert start.attrs["insight_average"] == "41"
    assert start.attrs["insight_duration_minutes"] == "1"
    assert set(start.attrs) <= set(ATTR_KEYS)
    assert start.attrs["insight_principals"] == [
        CONTRACTOR,
        "arn:aws:sts::444455556666:assumed-role/PayrollApp/i-0abcd1234example",
    ]
    assert errors.attrs["insight_error_code"] == "AccessDenied"
    assert "insight_principals" not in errors.attrs


def test_an_insight_is_cloudtrail_reporting_not_an_access_by_the_callers_it_names() -> None:
    for event in parse_file(INSIGHT_FILE):
        # CloudTrail wrote it; the callers it names contributed to a rate, they made no call.
        assert (event.actor_principal, event.actor_kind) == ("cloudtrail.amazonaws.com", "service")
        assert event.attrs["invoked_by"] == "cloudtrail.amazonaws.com"
        assert event.category == "other" and event.outcome == "unknown"
        assert (event.resource, event.credential_used, event.credential_issued) == ("", "", "")
        # Start and end share sharedEventID; it is no cross-account twin of a call.
        assert "shared_event_id" not in event.attrs
        assert event.actor_account == "444455556666"


def test_an_insight_with_odd_details_names_the_field() -> None:
    insight = read(INSIGHT_FILE)[0]
    insight["insightDetails"]["insightType"] = {"name": "ApiCallRateInsight"}
    with pytest.raises(RecordError, match=r"insightDetails\.insightType"):
        PARSER.parse(insight)


def test_a_digest_file_is_refused_with_what_it_is() -> None:
    from forensics.engine.parsers import UnknownFormat, detect

    digest = {
        "awsAccountId": "111122223333",
        "digestStartTime": "2024-04-10T14:00:00Z",
        "digestEndTime": "2024-04-10T15:00:00Z",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "logFiles": [{"s3Object": GITHUB_FILE, "hashValue": "00", "hashAlgorithm": "SHA-256"}],
    }
    with pytest.raises(UnknownFormat, match="CloudTrail digest file"):
        detect([digest])
    with pytest.raises(UnknownFormat, match="unrecognized log format"):
        detect([{"logFiles": []}])


@pytest.mark.parametrize(
    ("expiration", "expected"),
    [
        ("Jul 18, 2014 4:07:39 PM", "2014-07-18T16:07:39Z"),
        ("Jul 1, 2026, 12:08:19 PM", "2026-07-01T12:08:19Z"),
        ("Jan 15, 2025, 12:02:09\u202fAM", "2025-01-15T00:02:09Z"),
        ("2023-11-03T05:09:07+00:00", "2023-11-03T05:09:07Z"),
        (1714648500000, "2024-05-02T11:15:00Z"),
        ("HIDDEN_DUE_TO_SECURITY_REASONS", None),
    ],
)
def test_it_reads_credential_expirations_in_every_written_form(
    expiration: Any, expected: str | None
) -> None:
    call = record(
        eventSource="sts.amazonaws.com",
        eventName="GetSessionToken",
        responseElements={
            "credentials": {"accessKeyId": "ASIAQEXPIRYEXAMPLE01", "expiration": expiration}
        },
    )
    assert PARSER.parse(call).attrs.get("credential_expiration") == expected


def test_it_reads_session_creation_dates_in_basic_notation() -> None:
    identity = {
        "type": "AssumedRole",
        "arn": "arn:aws:sts::111122223333:assumed-role/Reader/s1",
        "sessionContext": {"attributes": {"mfaAuthenticated": "true",
                                          "creationDate": "20131102T010628Z"}},
    }  # fmt: skip
    event = PARSER.parse(record(userIdentity=identity))
    assert event.attrs["session_created"] == "2013-11-02T01:06:28Z"
    assert event.mfa is True


# --- detection ------------------------------------------------------------------------------


def test_it_recognizes_a_plain_record_and_its_deliveries() -> None:
    plain = record()
    assert PARSER.sniff(plain)
    assert PARSER.sniff({"eventJson": json.dumps(plain)})
    assert PARSER.sniff(
        {
            "detail-type": "AWS Console Sign In via CloudTrail",
            "source": "aws.signin",
            "detail": plain,
        }
    )
    assert not PARSER.sniff({"eventJson": "not json"})
    assert not PARSER.sniff(record(eventVersion=None, userIdentity=None))


def test_lookup_events_output_normalizes_like_the_delivered_records() -> None:
    delivered = {
        e.source_event_id: e
        for e in map(PARSER.parse, sample_records("cloudtrail", "saml_role_chain.json"))
    }
    looked_up = [PARSER.parse(r) for r in sample_records("cloudtrail", "lookup_events_cli.json")]
    assert len(looked_up) == 2
    for event in looked_up:
        assert event == delivered[event.source_event_id]


def test_a_service_event_naming_only_the_invoking_service_has_it_as_actor() -> None:
    # The shape AWS documents for service events such as a KMS key rotation.
    event = PARSER.parse(
        record(
            userIdentity={"accountId": "111122223333", "invokedBy": "AWS Internal"},
            eventSource="kms.amazonaws.com",
            eventName="RotateKey",
            eventType="AwsServiceEvent",
            sourceIPAddress=None,
            userAgent=None,
        )
    )
    assert (event.actor_principal, event.actor_kind) == ("AWS Internal", "service")
    assert event.actor_account == "111122223333" and event.credential_used == ""


def test_a_network_activity_event_is_the_endpoints_answer_not_the_access() -> None:
    through = {
        "eventType": "AwsVpceEvent",
        "eventCategory": "NetworkActivity",
        "vpcEndpointId": "vpce-03e53a4bcdef01234",
        "vpcEndpointAccountId": "111122223333",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::hr-payroll/a.csv"}],
    }
    allowed = PARSER.parse(record(**through))
    denied = PARSER.parse(
        record(
            **through,
            errorCode="VpceAccessDenied",
            errorMessage="The request was denied due to a VPC endpoint policy",
        )
    )
    data = PARSER.parse(record(**{**through, "eventType": "AwsApiCall", "eventCategory": "Data"}))
    assert data.category == DATA_ACCESS
    assert (allowed.category, allowed.outcome, denied.outcome) == (OTHER, "success", "failure")
    assert allowed.action == "s3:GetObject" and allowed.resource == data.resource
    assert {k: allowed.attrs[k] for k in ("event_category", "event_type", "vpc_endpoint_id")} == {
        "event_category": "NetworkActivity",
        "event_type": "AwsVpceEvent",
        "vpc_endpoint_id": "vpce-03e53a4bcdef01234",
    }
    assert "event_category" not in data.attrs
