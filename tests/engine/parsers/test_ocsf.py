from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, NormalizedEvent, RecordError
from forensics.engine.parsers import cloudtrail
from forensics.engine.parsers.ocsf import PARSER
from tests.engine.parsers.foreign import sample_records

SSO_SESSION = (
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_DataAnalyst_5f3c2a1b0e9d8c7b/"
    "alice@example.com"
)
SSO_ROLE = (
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/"
    "AWSReservedSSO_DataAnalyst_5f3c2a1b0e9d8c7b"
)


def _records() -> list[dict[str, Any]]:
    return sample_records("ocsf", "events.ocsf.jsonl")


def _events() -> list[NormalizedEvent]:
    return [PARSER.parse(record) for record in _records()]


def _api(**fields: Any) -> dict[str, Any]:
    """A minimal API Activity event; keyword arguments replace top-level members."""
    record: dict[str, Any] = {
        "metadata": {"version": "1.1.0", "uid": "e1", "product": {"vendor_name": "AWS"}},
        "time": 1715678417000,
        "class_uid": 6003,
        "activity_id": 2,
        "status_id": 1,
        "api": {"operation": "GetObject", "service": {"name": "s3.amazonaws.com"}},
        "actor": {"user": {"type": "AssumedRole", "uid": SSO_SESSION}},
        "src_endpoint": {"ip": "198.51.100.23"},
    }
    record.update(fields)
    return record


def _assume_role(response: Any, where: str = "api") -> dict[str, Any]:
    record = _api(activity_id=99)
    if where == "api":
        record["api"] = {"operation": "AssumeRole", "response": {"data": response}}
    else:
        record["api"] = {"operation": "AssumeRole", "response": {}}
        record["unmapped"] = {"responseElements": response}
    return record


CREDENTIALS = {
    "credentials": {"accessKeyId": "ASIAEXAMPLENEW00001", "expiration": "2024-05-14T10:25:44Z"},
    "assumedRoleUser": {
        "assumedRoleId": "AROAEXAMPLEROLE00001:job-42",
        "arn": "arn:aws:sts::444455556666:assumed-role/etl/job-42",
    },
}


def test_it_reads_every_line_of_the_jsonl_sample() -> None:
    records = _records()

    assert len(records) == 8
    assert all(PARSER.sniff(r) for r in records)
    assert [e.attrs["class_uid"] for e in _events()] == [
        "3002",
        "3003",
        "3001",
        "6003",
        "6003",
        "6003",
        "6003",
        "4001",
    ]
    assert all(e.source_kind == "ocsf" for e in _events())


def test_it_maps_an_authentication_to_the_user_and_its_session() -> None:
    event = _events()[0]

    assert event.source_event_id == "8f1c2d3e-4a5b-11ef-9a1b-0242ac120002"
    assert event.event_time == datetime(2024, 5, 14, 9, 12, 3, 412000, tzinfo=UTC)
    assert event.category == "authentication"
    assert event.action == "Logon"
    assert event.outcome == "success"
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.correlation_id == "102vQ8sBn3KTrSx6GZJw1a9Xg"
    assert event.mfa is True
    assert event.source_address == "198.51.100.23"
    assert event.resource == "example.okta.com"
    assert event.attrs["idp_name"] == "Okta"
    assert event.attrs["actor_id"] == "00u1f2g3h4J5k6L7m8n9"
    assert event.attrs["session_uid"] == "102vQ8sBn3KTrSx6GZJw1a9Xg"


def test_it_maps_an_authorize_session_through_the_top_level_session() -> None:
    event = _events()[1]

    assert event.category == "authorization"
    assert event.action == "Assign Groups"
    assert event.actor_principal == "alice@example.com"
    assert event.correlation_id == "102vQ8sBn3KTrSx6GZJw1a9Xg"
    assert event.mfa is None


def test_it_maps_an_account_change_to_the_admin_and_the_changed_principal() -> None:
    event = _events()[2]

    assert event.category == "permission_change"
    # Named as the trail's record of the same call is.
    assert event.action == "iam:AttachRolePolicy"
    assert event.actor_principal == "arn:aws:iam::111122223333:user/carol.admin"
    assert event.actor_kind == "user"
    assert event.actor_account == "111122223333"
    assert event.credential_used == "AKIAEXAMPLECAROL0001"
    assert (event.resource, event.resource_type) == (
        "arn:aws:iam::111122223333:role/hr-export-reader",
        "user",
    )
    assert event.attrs["identity_type"] == "IAMUser"
    assert event.attrs["principal_id"] == "AIDAEXAMPLECAROL0001"


def test_it_attributes_a_security_lake_read_to_the_role_session_and_its_issuer() -> None:
    event = _events()[3]

    assert event.category == "data_access"
    assert event.action == "s3:GetObject"
    assert (event.actor_principal, event.actor_kind) == (SSO_SESSION, "role_session")
    assert event.credential_used == "ASIAEXAMPLEALICE0001"
    assert event.session_name == "alice@example.com"
    assert event.request_id == "7XKQ3M9ZP2B4RT6W"
    assert event.user_agent.startswith("aws-cli/2.15.40")
    assert event.mfa is False
    assert (event.resource, event.resource_type) == (
        "arn:aws:s3:::example-hr-exports/employees/2024-05/salaries.csv",
        "AWS::S3::Object",
    )
    assert event.attrs["session_issuer"] == SSO_ROLE
    assert event.attrs["credential_uid"] == "ASIAEXAMPLEALICE0001"
    assert event.attrs["principal_id"] == "AROAEXAMPLESSOROLE001:alice@example.com"
    assert event.attrs["event_source"] == "s3.amazonaws.com"


def test_it_turns_an_assume_role_with_mapped_credentials_into_a_credential_issue() -> None:
    assume, decrypt = _events()[4:6]

    assert assume.category == "credential_issue"
    assert assume.credential_issued == "ASIAEXAMPLEEXPORT001"
    assert assume.issued_principal == (
        "arn:aws:sts::444455556666:assumed-role/hr-export-reader/alice-export"
    )
    assert assume.issue_method == "assume-role"
    assert assume.credential_used == "ASIAEXAMPLEALICE0001"
    assert assume.attrs["role_arn"] == "arn:aws:iam::444455556666:role/hr-export-reader"
    assert assume.attrs["role_session_name"] == "alice-export"
    assert assume.attrs["assumed_role_id"] == "AROAEXAMPLEEXPORTRL01:alice-export"
    assert assume.attrs["credential_expiration"] == "2024-05-14T10:25:44Z"
    # The issued key is the one the next event signs with.
    assert decrypt.credential_used == assume.credential_issued


def test_it_keeps_a_service_name_as_the_source_address() -> None:
    event = _events()[5]

    assert event.source_address == "s3.amazonaws.com"
    assert event.attrs["invoked_by_app"] == "s3.amazonaws.com"
    assert event.session_name == "alice-export"


def test_a_denied_data_event_keeps_its_category_and_error() -> None:
    event = _events()[6]

    # A data event, as the trail's own record of this PutObject is.
    assert event.category == "data_access"
    assert event.outcome == "failure"
    assert event.attrs["error_code"] == "AccessDenied"
    assert event.source_address == "2001:db8:85a3::8a2e:370:7334"


def test_it_parses_other_classes_generically() -> None:
    event = _events()[7]

    assert event.category == "other"
    assert event.action == "Traffic"
    assert (event.actor_principal, event.actor_kind) == ("", "unknown")
    assert event.actor_account == "111122223333"


@pytest.mark.parametrize("where", ["api", "unmapped"])
def test_it_reads_credentials_from_response_data_or_unmapped_text(where: str) -> None:
    record = _assume_role(json.dumps(CREDENTIALS), where)

    event = PARSER.parse(record)

    assert event.category == "credential_issue"
    assert event.credential_issued == "ASIAEXAMPLENEW00001"
    assert event.issued_principal == "arn:aws:sts::444455556666:assumed-role/etl/job-42"


@pytest.mark.parametrize("response", [None, {}, "{not json", {"credentials": None}])
def test_it_does_not_guess_a_credential_the_producer_did_not_map(response: Any) -> None:
    event = PARSER.parse(_assume_role(response))

    assert event.category != "credential_issue"
    assert event.credential_issued == ""


def test_it_issues_nothing_for_a_failed_assume_role() -> None:
    record = _assume_role(CREDENTIALS)
    record["status_id"] = 2

    event = PARSER.parse(record)

    assert (event.category, event.credential_issued) == ("other", "")


@pytest.mark.parametrize(
    ("operation", "method"),
    [
        ("AssumeRoleWithSAML", "saml-federation"),
        ("AssumeRoleWithWebIdentity", "web-identity"),
        ("GetSessionToken", "session-token"),
    ],
)
def test_it_names_the_issue_method_after_the_operation(operation: str, method: str) -> None:
    record = _assume_role(CREDENTIALS)
    record["api"]["operation"] = operation

    assert PARSER.parse(record).issue_method == method


def test_it_reads_identity_center_role_credentials() -> None:
    response = {
        "roleCredentials": {"accessKeyId": "ASIAEXAMPLESSO00001", "expiration": 1715680000000}
    }
    record = _assume_role(response)
    record["api"]["operation"] = "GetRoleCredentials"
    record["api"]["request"] = {"data": {"roleName": "DataAnalyst", "accountId": "111122223333"}}

    event = PARSER.parse(record)

    assert (event.credential_issued, event.issue_method) == ("ASIAEXAMPLESSO00001", "sso")
    assert event.attrs["credential_expiration"] == "2024-05-14T09:46:40Z"
    assert (event.attrs["sso_role_name"], event.attrs["sso_account_id"]) == (
        "DataAnalyst",
        "111122223333",
    )


def test_it_gives_a_session_token_to_its_caller() -> None:
    record = _assume_role({"credentials": {"accessKeyId": "ASIAEXAMPLESESSION1"}})
    record["api"]["operation"] = "GetSessionToken"
    record["actor"] = {"user": {"type": "IAMUser", "uid": "arn:aws:iam::111122223333:user/bob"}}

    event = PARSER.parse(record)

    assert event.issued_principal == "arn:aws:iam::111122223333:user/bob"


def test_it_prefers_the_arn_of_a_release_candidate_record() -> None:
    record = _api(
        actor={
            "user": {
                "type": "IAMUser",
                "name": "Alice",
                "uid": "AIDAEXAMPLEALICE0001",
                "uuid": "arn:aws:iam::111122223333:user/Alice",
                "account_uid": "111122223333",
            },
            "session": {"mfa": True},
        }
    )

    event = PARSER.parse(record)

    assert event.actor_principal == "arn:aws:iam::111122223333:user/Alice"
    assert event.actor_account == "111122223333"
    assert event.attrs["principal_id"] == "AIDAEXAMPLEALICE0001"
    assert event.mfa is True


def test_it_reads_release_candidate_api_activity_in_class_3005() -> None:
    event = PARSER.parse(_api(class_uid=3005))

    assert event.category == "data_access"


def test_it_treats_class_3005_without_an_api_as_user_access_management() -> None:
    record = _api(class_uid=3005, activity_id=1)
    del record["api"]

    assert PARSER.parse(record).category == "permission_change"


@pytest.mark.parametrize(
    ("user", "session", "kind"),
    [
        ({"type": "IAMUser", "uid": "arn:aws:iam::1:user/a"}, {}, "user"),
        ({"type": "Root", "uid": "arn:aws:iam::1:root"}, {}, "root"),
        ({"type": "AWSService", "name": "ec2.amazonaws.com"}, {}, "service"),
        (
            {"type": "FederatedUser", "uid": "arn:aws:sts::1:federated-user/b"},
            {},
            "federated_session",
        ),
        ({"name": "svc", "type_id": 4}, {}, "service_account"),
        ({"name": "SYSTEM", "type": "System"}, {}, "service"),
        ({"name": "root", "type_id": 2}, {}, "user"),
        ({"name": "x"}, {"issuer": "arn:aws:iam::1:role/r"}, "role_session"),
        ({"name": "x"}, {}, "unknown"),
    ],
)
def test_it_maps_actor_types_to_kinds(
    user: dict[str, Any], session: dict[str, Any], kind: str
) -> None:
    record = _api(actor={"user": user, "session": session})

    assert PARSER.parse(record).actor_kind == kind


def test_it_falls_back_to_the_invoking_app_without_a_user() -> None:
    event = PARSER.parse(_api(actor={"app_name": "backup-agent"}))

    assert (event.actor_principal, event.actor_kind) == ("backup-agent", "service")


def test_it_prefers_email_then_name_then_uid_for_non_aws_users() -> None:
    user = {"uid": "00u1", "name": "alice", "email_addr": "alice@example.com"}
    assert PARSER.parse(_api(actor={"user": user})).actor_principal == "alice@example.com"
    del user["email_addr"]
    assert PARSER.parse(_api(actor={"user": user})).actor_principal == "alice"
    del user["name"]
    assert PARSER.parse(_api(actor={"user": user})).actor_principal == "00u1"


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"status_id": 1}, "success"),
        ({"status_id": 2}, "failure"),
        ({"status_id": 0}, "unknown"),
        ({"status_id": 99, "status": "Partial"}, "unknown"),
        ({"status_id": None, "status": "Failure"}, "failure"),
        ({"status_id": "1"}, "success"),
    ],
)
def test_it_maps_status_to_outcome(fields: dict[str, Any], outcome: str) -> None:
    assert PARSER.parse(_api(**fields)).outcome == outcome


@pytest.mark.parametrize(
    ("class_uid", "activity_id", "category"),
    [
        (6003, 1, "other"),
        (6003, 2, "data_access"),
        (6005, 4, "data_access"),
        (6006, 2, "data_access"),
        (6006, 1, "other"),
        (3006, 3, "permission_change"),
        (1007, 1, "other"),
    ],
)
def test_it_categorizes_by_class_and_activity(class_uid: int, activity_id: int, category: str):
    record = _api(class_uid=class_uid, activity_id=activity_id)
    record["metadata"]["product"] = {"vendor_name": "Box", "name": "Box Events"}
    record["api"] = {"operation": "download", "service": {"name": "Box"}}

    assert PARSER.parse(record).category == category


@pytest.mark.parametrize(
    ("service", "operation", "feature", "category"),
    [
        # Security Lake says Read (activity 2) for every call that changes nothing.
        ("sts.amazonaws.com", "GetCallerIdentity", "Management", "other"),
        ("directconnect.amazonaws.com", "DescribeDirectConnectGateways", "Management", "other"),
        ("secretsmanager.amazonaws.com", "GetSecretValue", "Management", "data_access"),
        ("iam.amazonaws.com", "AttachRolePolicy", "Management", "permission_change"),
        ("s3.amazonaws.com", "PutObject", "Data", "data_access"),
        ("signin.amazonaws.com", "ConsoleLogin", "", "authentication"),
    ],
)
def test_an_aws_call_gets_the_category_the_trail_gives_it(
    service: str, operation: str, feature: str, category: str
) -> None:
    record = _api(activity_id=2)
    record["metadata"]["product"] = {"vendor_name": "AWS", "name": "CloudTrail"}
    if feature:
        record["metadata"]["product"]["feature"] = {"name": feature}
    record["api"] = {"operation": operation, "service": {"name": service}}
    trail = {
        "eventVersion": "1.09",
        "eventID": "e1",
        "eventTime": "2024-05-14T09:20:17Z",
        "eventSource": service,
        "eventName": operation,
        "eventCategory": feature or "Management",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/anaya"},
    }

    assert PARSER.parse(record).category == category
    assert cloudtrail.PARSER.parse(trail).category == category


def test_it_accepts_a_time_dt_string_without_epoch_time() -> None:
    record = _api(time_dt="2024-05-14T09:20:17.250Z")
    del record["time"]

    assert PARSER.parse(record).event_time == datetime(2024, 5, 14, 9, 20, 17, 250000, tzinfo=UTC)


def test_it_drops_redacted_values() -> None:
    record = _api(actor={"user": {"name": "HIDDEN_DUE_TO_SECURITY_REASONS", "uid": "*****"}})

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")


def test_time_dt_stands_in_for_a_time_that_cannot_be_read() -> None:
    # The datetime profile's time_dt is the same instant as time.
    record = _api(time="not a time", time_dt="2021-09-07T20:37:30.642854Z")
    assert PARSER.parse(record).event_time == datetime(2021, 9, 7, 20, 37, 30, 642854, tzinfo=UTC)
    # A time written in microseconds (or nanoseconds) is read as such.
    assert PARSER.parse(_api(time=1631047050642854)).event_time == datetime(
        2021, 9, 7, 20, 37, 30, 642854, tzinfo=UTC
    )
    assert PARSER.parse(_api(time=1631047050642854000)).event_time.year == 2021


def test_a_placeholder_names_no_source_address() -> None:
    # Windows writes "-" for no value; OCSF producers that map its events pass it on.
    record = _api(src_endpoint={"ip": "-", "name": "-", "port": 0})
    assert PARSER.parse(record).source_address == ""


def test_an_identity_class_activity_is_named_by_the_schema_without_activity_name() -> None:
    record = _api(class_uid=3002, activity_id=1)
    del record["api"]
    assert PARSER.parse(record).action == "Logon"


def test_it_names_an_action_after_the_class_without_operation_or_activity_name() -> None:
    record = _api(class_name="Entity Management", class_uid=3004, activity_id=3)
    del record["api"]

    assert PARSER.parse(record).action == "Entity Management: 3"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"time": None}, "time"),
        ({"time": "last tuesday"}, "time"),
        ({"class_uid": "API"}, "class_uid"),
        ({"class_uid": None}, "class_uid"),
        ({"activity_id": True}, "activity_id"),
        ({"actor": ["alice"]}, "actor"),
        ({"actor": {"user": "alice"}}, "actor.user"),
        ({"resources": {"uid": "x"}}, "resources"),
        ({"resources": ["arn:aws:s3:::b"]}, "resources[0]"),
        ({"api": {"operation": {"name": "GetObject"}}}, "api.operation"),
    ],
)
def test_it_names_the_field_it_cannot_read(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{named}'")):
        PARSER.parse(_api(**fields))


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        PARSER.parse([1, 2])  # type: ignore[arg-type]


def test_it_sniffs_only_an_integer_class_with_a_versioned_metadata() -> None:
    assert PARSER.sniff(_api())
    assert not PARSER.sniff(_api(class_uid="6003"))
    assert not PARSER.sniff(_api(class_uid=True))
    assert not PARSER.sniff(_api(metadata={"uid": "e1"}))


def test_it_sets_only_documented_attrs() -> None:
    for event in [*_events(), PARSER.parse(_assume_role(CREDENTIALS))]:
        assert set(event.attrs) <= set(ATTR_KEYS), event.source_event_id


def test_it_reads_security_lake_parquet_rows_as_their_json_twins() -> None:
    rows = sample_records("ocsf", "security_lake_api_activity.gz.parquet")
    lines = [r for r in sample_records("ocsf", "events.ocsf.jsonl") if r["class_uid"] == 6003]

    assert all(PARSER.sniff(r) for r in rows)
    assert [PARSER.parse(r) for r in rows] == [PARSER.parse(r) for r in lines]


def _sign_in(subject: dict[str, Any], actor_user: dict[str, Any]) -> dict[str, Any]:
    """A console sign-in as Security Lake maps it: the subject's ids in ``user``."""
    return {
        "metadata": {
            "version": "1.1.0",
            "uid": "s1",
            "product": {"name": "CloudTrail", "vendor_name": "AWS"},
        },
        "time": 1699633474000,
        "class_uid": 3002,
        "activity_id": 1,
        "status_id": 1,
        "api": {"operation": "ConsoleLogin", "service": {"name": "signin.amazonaws.com"}},
        "actor": {"user": actor_user},
        "user": subject,
    }


ANAYA = {
    "type": "IAMUser",
    "name": "anaya",
    "uid": "arn:aws:iam::111122223333:user/anaya",
    "uid_alt": "AIDACKCEVSQ6C2EXAMPLE",
    "account": {"uid": "111122223333"},
}


@pytest.mark.parametrize(
    "subject",
    [
        {"uid": ANAYA["uid"], "uid_alt": ANAYA["uid_alt"]},  # 1.1
        {"uid": ANAYA["uid_alt"]},  # the release candidates: the principal id alone
    ],
    ids=["1.1", "rc"],
)
def test_a_sign_in_subject_is_completed_from_the_same_actor_user(subject: dict[str, Any]) -> None:
    actor_user = dict(ANAYA)
    if "uid_alt" not in subject:
        actor_user["uid"] = actor_user.pop("uid_alt")
    event = PARSER.parse(_sign_in(subject, actor_user))

    # As the same actor's API calls name it: the ARN, or (no ARN) the user's name.
    assert event.actor_principal == PARSER.parse(_api(actor={"user": actor_user})).actor_principal
    assert event.actor_principal in (ANAYA["uid"], "anaya")
    assert (event.actor_kind, event.actor_account) == ("user", "111122223333")
    assert event.attrs["identity_type"] == "IAMUser"


def test_a_sign_in_subject_takes_nothing_from_another_actor() -> None:
    reporter = {
        "type": "AWSService",
        "uid": "sso.amazonaws.com",
        "account": {"uid": "999988887777"},
    }
    event = PARSER.parse(_sign_in({"uid": "bob@example.com", "type": "User"}, reporter))

    assert (event.actor_principal, event.actor_kind) == ("bob@example.com", "user")
    assert event.actor_account == ""
