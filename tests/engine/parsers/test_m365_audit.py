"""The Microsoft 365 unified audit log parser against the sample files and inline records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, RecordError
from forensics.engine.parsers import detect
from forensics.engine.parsers.m365_audit import PARSER
from tests.engine.parsers.foreign import sample_records

CONTENT = "management_api_content.json"
PAYROLL = "https://contoso.sharepoint.com/sites/HR/Shared Documents/Payroll/2024-04 salaries.xlsx"


def records(name: str = CONTENT) -> list[dict[str, Any]]:
    return sample_records("m365_audit", name)


def events(name: str = CONTENT) -> list[Any]:
    return [PARSER.parse(r) for r in records(name)]


def test_every_shape_is_detected() -> None:
    assert detect(records()) is PARSER
    assert detect(records("search_unifiedauditlog.json")) is PARSER
    assert detect(records("purview_audit_export.csv")) is PARSER


def test_a_purview_export_reads_as_the_records_in_its_audit_data_column() -> None:
    assert events("purview_audit_export.csv") == events()[:4]


def test_a_user_opening_a_file_carries_the_uti_of_her_token() -> None:
    alice = events()[0]
    assert alice.action == "SharePoint:FileAccessed"
    assert alice.category == "data_access"
    assert (alice.actor_principal, alice.actor_kind) == ("alice@contoso.com", "user")
    assert alice.credential_used == "Xq4fB2y_dEKvS5rN8mQ3AA"
    assert alice.attrs["aad_session_id"] == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert alice.resource == PAYROLL and alice.resource_type == "file"
    assert alice.event_time == datetime(2024, 4, 10, 14, 25, 3, tzinfo=UTC)  # UTC, no zone
    assert alice.actor_account == "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
    assert alice.source_address == "198.51.100.23"
    assert alice.user_agent.startswith("Mozilla/5.0")


def test_an_app_only_download_names_the_application_not_app_at_sharepoint() -> None:
    app = events()[1]
    assert (app.actor_principal, app.actor_kind) == (
        "Payroll Export Connector",
        "service_principal",
    )
    assert app.attrs["app_id"] == "6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817"
    assert app.category == "data_access"


def test_a_delegate_reading_a_mailbox_names_the_mailbox_as_the_resource() -> None:
    bob = events()[2]
    assert bob.action == "Exchange:MailItemsAccessed" and bob.category == "data_access"
    assert (bob.actor_principal, bob.actor_kind) == ("bob@contoso.com", "user")
    assert bob.resource == "mailbox:carol@contoso.com" and bob.resource_type == "mailbox"
    assert bob.attrs["logon_type"] == "Delegated"
    assert bob.attrs["external_access"] == "false"
    assert bob.source_address == "203.0.113.24"
    assert bob.user_agent == "Client=OWA;Action=ViaProxy"
    assert bob.outcome == "success"


def test_a_sign_in_is_authentication_and_a_system_account_is_the_service() -> None:
    _alice, _app, _bob, signin, system = events()
    assert signin.category == "authentication" and signin.outcome == "success"
    assert (system.actor_principal, system.actor_kind) == ("SHAREPOINT\\system", "service")
    assert system.attrs["user_type"] == "System"


def test_every_attribute_is_a_known_key_holding_text() -> None:
    for event in events():
        assert set(event.attrs) <= set(ATTR_KEYS), event.action
        assert all(isinstance(v, str) for v in event.attrs.values()), event.action


def test_search_results_read_as_the_records_they_hold() -> None:
    found = events("search_unifiedauditlog.json")
    by_id = {e.source_event_id: e for e in events()}
    assert [e.source_event_id for e in found] == [
        "7b1d3e5f-0a2c-4e6b-9d8f-1a3c5e7b9d01",
        "7b1d3e5f-0a2c-4e6b-9d8f-1a3c5e7b9d03",
    ]
    for event in found:
        assert event == by_id[event.source_event_id]


def test_how_mail_items_were_accessed_is_kept() -> None:
    record = {
        **records()[2],
        "OperationProperties": [
            {"Name": "MailAccessType", "Value": "Sync"},
            {"Name": "IsThrottled", "Value": "True"},
        ],
        "OperationCount": 3,
    }
    event = PARSER.parse(record)
    assert event.attrs["mail_access_type"] == "Sync"
    assert event.attrs["is_throttled"] == "true"
    assert event.attrs["operation_count"] == "3"
    assert set(event.attrs) <= set(ATTR_KEYS)


def test_an_anonymous_sharing_links_user_is_anonymous() -> None:
    record = {**records()[0], "UserType": 0, "UserId": "urn:spo:anon#3d0f1e2a4b5c"}
    record.pop("AppAccessContext")
    event = PARSER.parse(record)
    assert (event.actor_principal, event.actor_kind) == ("urn:spo:anon#3d0f1e2a4b5c", "anonymous")


@pytest.mark.parametrize(
    ("user_type", "user_id", "kind"),
    [
        (0, "alice@contoso.com", "user"),
        ("Admin", "admin@contoso.com", "user"),
        (3, "Microsoft Operator", "service"),
        (4, "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)", "service"),
        (5, "ServicePrincipal_6e5d4c3b", "unknown"),  # an app with no application id
        ("8", "", "unknown"),
        # Exchange's own work, typed Admin: Windows' LocalSystem by SID.
        (2, "S-1-5-18", "service"),
        ("Admin", "NT AUTHORITY\\NETWORK SERVICE", "service"),
        (0, "S-1-5-21-1004336348-1177238915-682003330-512", "user"),
    ],
)
def test_the_user_type_decides_who_acted(user_type: Any, user_id: str, kind: str) -> None:
    record = {**records()[0], "UserType": user_type, "UserId": user_id}
    record.pop("AppAccessContext")
    assert PARSER.parse(record).actor_kind == kind


def test_bad_records_name_their_field() -> None:
    with pytest.raises(RecordError, match="CreationTime"):
        PARSER.parse({**records()[0], "CreationTime": None})
    with pytest.raises(RecordError, match="Operation"):
        PARSER.parse({**records()[0], "Operation": " "})
    with pytest.raises(RecordError, match="AuditData"):
        PARSER.parse({"AuditData": "{not json", "RecordType": "SharePoint"})
    wrapped = {"AuditData": {**records()[0], "CreationTime": "yesterday"}}
    with pytest.raises(RecordError, match=r"AuditData\.CreationTime"):
        PARSER.parse(wrapped)


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("[2001:db8::1]:51000", "2001:db8::1"),
        ("10.11.12.13:12345", "10.11.12.13"),
        ("::ffff:10.11.12.13", "10.11.12.13"),
        ("2001:db8::1", "2001:db8::1"),
        ("203.0.113.7", "203.0.113.7"),
    ],
)
def test_the_client_address_loses_its_port(written: str, address: str) -> None:
    record = {**records()[0], "ClientIP": written}
    assert PARSER.parse(record).source_address == address


@pytest.mark.parametrize(
    ("workload", "operation", "category"),
    [
        # Outlook's own names for mailbox folder permission changes.
        ("Exchange", "AddFolderPermissions", "permission_change"),
        ("Exchange", "ModifyFolderPermissions", "permission_change"),
        # Entra's activities, categorized as the directory audit log's same records are.
        ("AzureActiveDirectory", "Add service principal credentials.", "permission_change"),
        ("AzureActiveDirectory", "Add owner to application.", "permission_change"),
        ("AzureActiveDirectory", "Add member to role.", "permission_change"),
        ("AzureActiveDirectory", "Change user password.", "authentication"),
        ("AzureActiveDirectory", "Update user.", "other"),
        ("AzureActiveDirectory", "UserLoggedIn", "authentication"),
        # Reads of content under other names: attachments through REST, a labelled file.
        ("Exchange", "AttachmentAccess", "data_access"),
        ("SharePoint", "SensitivityLabeledFileOpened", "data_access"),
    ],
)
def test_an_operation_gets_its_category(workload: str, operation: str, category: str) -> None:
    record = {**records()[0], "Workload": workload, "Operation": operation}
    assert PARSER.parse(record).category == category


def test_a_failed_sign_in_is_a_failure_with_its_error_and_user_agent() -> None:
    record = {
        **records()[0],
        "Workload": "AzureActiveDirectory",
        "Operation": "UserLoginFailed",
        "ResultStatus": "Success",  # beside the operation's name, it does not decide
        "LogonError": "InvalidUserNameOrPassword",
        "ExtendedProperties": [
            {"Name": "ResultStatusDetail", "Value": "Success"},
            {"Name": "UserAgent", "Value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
        ],
    }
    record.pop("UserAgent", None)
    record.pop("ClientInfoString", None)

    event = PARSER.parse(record)

    assert event.outcome == "failure"
    assert event.attrs["error_code"] == "InvalidUserNameOrPassword"
    assert event.user_agent == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
