from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, NormalizedEvent, RecordError
from forensics.engine.parsers.entra import ACTIVITY_PARSER, SIGNIN_PARSER
from tests.engine.parsers.foreign import sample_records

TENANT = "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
ALICE_ID = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
PAYROLL_APP = "a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
PAYROLL_SP = "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c"


def _signins(name: str) -> list[NormalizedEvent]:
    return [SIGNIN_PARSER.parse(r) for r in sample_records("entra", name)]


def _activity(name: str) -> list[NormalizedEvent]:
    return [ACTIVITY_PARSER.parse(r) for r in sample_records("azure_activity", name)]


def _graph_signin(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "0a0b0c0d-0000-4000-8000-000000000001",
        "createdDateTime": "2024-05-14T09:30:12Z",
        "userPrincipalName": "alice@example.com",
        "userId": ALICE_ID,
        "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "correlationId": "5d2a9f3e-7b1c-4d8e-9f0a-1b2c3d4e5f60",
        "uniqueTokenIdentifier": "tok1",
        "status": {"errorCode": 0},
    }
    record.update(fields)
    return record


def _monitor_signin(category: str = "SignInLogs", **properties: Any) -> dict[str, Any]:
    props = _graph_signin(**properties)
    return {
        "time": "2024-05-14T09:30:12.1234567Z",
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "category": category,
        "tenantId": TENANT,
        "resultType": "0",
        "callerIpAddress": "198.51.100.23",
        "correlationId": props["correlationId"],
        "identity": "Alice Example",
        "properties": props,
    }


def _activity_record(operation: str = "Microsoft.Resources/deployments/write", **fields: Any):
    record: dict[str, Any] = {
        "time": "2024-05-14T09:34:11.9876543Z",
        "resourceId": "/SUBSCRIPTIONS/0B1C/RESOURCEGROUPS/RG-HR-DATA",
        "operationName": operation,
        "category": "Administrative",
        "resultType": "Success",
        "callerIpAddress": "198.51.100.23",
        "correlationId": "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d",
        "identity": {
            "claims": {
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "alice@example.com",
                "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
                "uti": "tok1",
            }
        },
    }
    record.update(fields)
    return record


# --- sign-ins -------------------------------------------------------------------------


def test_it_reads_sign_ins_from_graph_and_from_both_monitor_exports() -> None:
    graph = sample_records("entra", "graph_signins.json")
    lines = sample_records("entra", "PT1H.json")
    hub = sample_records("entra", "eventhub_signins.json")

    assert (len(graph), len(lines), len(hub)) == (5, 5, 2)
    assert all(SIGNIN_PARSER.sniff(r) for r in graph + lines + hub)
    assert not any(ACTIVITY_PARSER.sniff(r) for r in graph + lines + hub)
    assert all(e.source_kind == "entra" for e in _signins("graph_signins.json"))


def test_it_maps_an_interactive_graph_sign_in_to_an_issued_token() -> None:
    event = _signins("graph_signins.json")[0]

    assert event.source_event_id == "66ea54eb-6301-4ee5-be62-ff5a759b0100"
    assert event.event_time == datetime(2024, 5, 14, 9, 30, 12, tzinfo=UTC)
    assert event.category == "authentication"
    assert event.outcome == "success"
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.actor_account == TENANT
    assert event.credential_issued == "kX3b9QeYfUuP0s1m2n3o4A"
    assert event.issued_principal == "alice@example.com"
    assert event.issue_method == "sign-in"
    assert event.correlation_id == "5d2a9f3e-7b1c-4d8e-9f0a-1b2c3d4e5f60"
    assert event.resource == "Windows Azure Service Management API"
    assert event.source_address == "198.51.100.23"
    assert event.user_agent.startswith("Mozilla/5.0")
    assert event.mfa is True
    assert event.attrs == {
        "sign_in_kind": "interactive",
        "user_id": ALICE_ID,
        "app_id": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "app_display_name": "Azure Portal",
        "unique_token_identifier": "kX3b9QeYfUuP0s1m2n3o4A",
        "tenant_id": TENANT,
        "home_tenant_id": TENANT,
    }


def test_it_tells_the_four_sign_in_kinds_apart_in_graph() -> None:
    events = _signins("graph_signins.json")[:4]

    assert [e.attrs["sign_in_kind"] for e in events] == [
        "interactive",
        "non_interactive",
        "service_principal",
        "managed_identity",
    ]
    assert [e.actor_kind for e in events] == [
        "user",
        "user",
        "service_principal",
        "managed_identity",
    ]


def test_it_names_a_service_principal_by_its_service_principal_name() -> None:
    event = _signins("graph_signins.json")[2]

    assert event.actor_principal == "payroll-exporter"
    assert event.attrs["service_principal_id"] == PAYROLL_SP
    assert event.attrs["service_principal_name"] == "payroll-exporter"
    assert event.attrs["app_id"] == PAYROLL_APP
    assert "user_id" not in event.attrs
    assert event.issued_principal == "payroll-exporter"
    assert event.resource == "Azure Storage"


def test_it_reads_the_managed_identity_type_and_tolerates_an_empty_address() -> None:
    event = _signins("graph_signins.json")[3]

    assert event.actor_principal == "vm-reporting-01"
    assert event.attrs["managed_identity_type"] == "systemAssigned"
    assert event.source_address == ""
    assert event.resource == "Azure Key Vault"


def test_it_issues_no_token_for_a_failed_sign_in() -> None:
    event = _signins("graph_signins.json")[4]

    assert event.outcome == "failure"
    assert event.attrs["error_code"] == "50126"
    assert event.attrs["error_message"].startswith("Error validating credentials")
    assert (event.credential_issued, event.issued_principal, event.issue_method) == ("", "", "")
    # The log still carries the token id of the attempt.
    assert event.attrs["unique_token_identifier"] == "Zz1Yy2Xx3Ww4Vv5Uu6Tt7S"


def test_it_claims_mfa_only_for_a_successful_sign_in_that_records_it() -> None:
    graph = _signins("graph_signins.json")
    hub = _signins("eventhub_signins.json")

    assert graph[1].mfa is None  # single factor: not required is not "not used"
    assert hub[1].outcome == "failure"
    assert hub[1].mfa is None  # MFA was required but the sign-in failed
    # The beta signIn names the method mfaAuthMethod.
    beta = _graph_signin(mfaDetail={"mfaAuthMethod": "Phone Auth", "mfaAuthDetail": None})
    assert SIGNIN_PARSER.parse(beta).mfa is True


def test_it_maps_the_monitor_export_from_its_properties() -> None:
    interactive, non_interactive, sp, mi, missing_user = _signins("PT1H.json")

    assert interactive.source_event_id == "a1a2a3a4-b5b6-4c7c-8d8d-9e9e0f0f0600"
    assert interactive.event_time == datetime(2024, 5, 14, 13, 2, 41, 626125, tzinfo=UTC)
    assert interactive.attrs["sign_in_kind"] == "interactive"
    assert interactive.mfa is True
    assert non_interactive.attrs["sign_in_kind"] == "non_interactive"
    assert (sp.actor_principal, sp.actor_kind) == ("payroll-exporter", "service_principal")
    assert (mi.actor_principal, mi.actor_kind) == ("vm-reporting-01", "managed_identity")
    assert "managed_identity_type" not in mi.attrs
    assert missing_user.outcome == "failure"
    assert missing_user.attrs["error_code"] == "50034"
    assert "user_id" not in missing_user.attrs  # the all-zero GUID means no user
    assert missing_user.actor_principal == "nobody@example.com"


def test_it_takes_the_home_tenant_as_the_account_of_a_guest() -> None:
    guest = _signins("eventhub_signins.json")[0]

    assert guest.actor_account == "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
    assert guest.attrs["tenant_id"] == TENANT
    assert guest.source_address == "2001:db8:4a2f::9"


def test_it_reads_the_same_sign_in_alike_in_both_shapes() -> None:
    fields = {"signInEventTypes": ["nonInteractiveUser"], "ipAddress": "198.51.100.23"}
    graph = SIGNIN_PARSER.parse(_graph_signin(**fields))
    monitor = SIGNIN_PARSER.parse(_monitor_signin("NonInteractiveUserSignInLogs", **fields))

    for name in ("source_event_id", "event_time", "actor_principal", "credential_issued"):
        assert getattr(graph, name) == getattr(monitor, name)
    assert graph.attrs["sign_in_kind"] == monitor.attrs["sign_in_kind"] == "non_interactive"


def test_it_uses_the_result_type_when_the_properties_carry_no_status() -> None:
    record = _monitor_signin(status=None)
    record["resultType"] = "50126"

    assert SIGNIN_PARSER.parse(record).outcome == "failure"


def test_it_uses_the_record_time_when_the_properties_carry_none() -> None:
    record = _monitor_signin(createdDateTime=None)

    assert SIGNIN_PARSER.parse(record).event_time == datetime(
        2024, 5, 14, 9, 30, 12, 123456, tzinfo=UTC
    )


@pytest.mark.parametrize(("flag", "kind"), [(True, "interactive"), (False, "non_interactive")])
def test_it_falls_back_to_is_interactive_without_event_types(flag: bool, kind: str) -> None:
    record = _graph_signin(isInteractive=flag)

    assert SIGNIN_PARSER.parse(record).attrs["sign_in_kind"] == kind


@pytest.mark.parametrize(
    ("code", "outcome"), [("0", "success"), (50140, "failure"), (None, "unknown")]
)
def test_it_reads_error_codes_as_numbers_or_text(code: Any, outcome: str) -> None:
    record = _graph_signin(status={"errorCode": code})

    assert SIGNIN_PARSER.parse(record).outcome == outcome


def test_it_leaves_the_kind_out_when_the_log_does_not_say() -> None:
    event = SIGNIN_PARSER.parse(_graph_signin())

    assert "sign_in_kind" not in event.attrs
    assert event.actor_kind == "user"


def test_it_reports_an_unknown_actor_when_the_sign_in_names_nobody() -> None:
    record = _graph_signin(userPrincipalName="", userId="00000000-0000-0000-0000-000000000000")

    event = SIGNIN_PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")


@pytest.mark.parametrize(
    ("record", "named"),
    [
        (_graph_signin(createdDateTime=None), "createdDateTime"),
        (_graph_signin(createdDateTime="14/05/2024"), "createdDateTime"),
        (_monitor_signin(createdDateTime=None) | {"time": None}, "time"),
        (_monitor_signin() | {"properties": "id=1"}, "properties"),
        (_graph_signin(status={"errorCode": {"code": 0}}), "status.errorCode"),
        (_graph_signin(userPrincipalName=["alice@example.com"]), "userPrincipalName"),
        (_graph_signin(signInEventTypes="interactiveUser"), "signInEventTypes"),
    ],
)
def test_it_names_the_sign_in_field_it_cannot_read(record: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{named}'")):
        SIGNIN_PARSER.parse(record)


def test_it_refuses_a_sign_in_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        SIGNIN_PARSER.parse("alice")  # type: ignore[arg-type]


def test_it_sniffs_sign_ins_from_graph_and_from_monitor() -> None:
    assert SIGNIN_PARSER.sniff(_graph_signin())
    assert SIGNIN_PARSER.sniff(_monitor_signin("ManagedIdentitySignInLogs"))


# --- Azure Activity ---------------------------------------------------------------------


def test_it_reads_activity_from_the_export_and_the_api() -> None:
    export = sample_records("azure_activity", "eventhub_activity.json")
    api = sample_records("azure_activity", "activity_log_api.json")

    assert (len(export), len(api)) == (4, 3)
    assert all(ACTIVITY_PARSER.sniff(r) for r in export + api)
    assert not any(SIGNIN_PARSER.sniff(r) for r in export + api)
    assert all(e.source_kind == "azure_activity" for e in _activity("activity_log_api.json"))


def test_it_links_an_activity_event_to_its_sign_in_by_the_token_id() -> None:
    sign_in = _signins("graph_signins.json")[0]
    start, done = _activity("eventhub_activity.json")[:2]
    api = _activity("activity_log_api.json")[0]

    assert done.credential_used == sign_in.credential_issued == "kX3b9QeYfUuP0s1m2n3o4A"
    assert start.credential_used == api.credential_used == sign_in.credential_issued


def test_it_maps_a_role_assignment_from_the_export() -> None:
    start, done = _activity("eventhub_activity.json")[:2]

    assert done.category == "permission_change"
    assert done.action == "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"
    assert (done.actor_principal, done.actor_kind) == ("alice@example.com", "user")
    assert done.actor_account == TENANT
    assert done.outcome == "success"
    assert start.outcome == "unknown"  # "Start": the operation had not finished
    assert done.correlation_id == start.correlation_id == "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
    assert done.request_id == "9b8a7f6e-5d4c-4b3a-8291-0f9e8d7c6b5a"
    assert done.source_address == "198.51.100.23"
    assert done.resource.endswith("/ROLEASSIGNMENTS/7E6D5C4B-3A2F-4E1D-9C0B-A9F8E7D6C5B4")
    assert done.mfa is True  # the token's amr claim lists mfa
    assert done.source_event_id == ""  # the export carries no event id
    assert done.attrs == {
        "caller_object_id": ALICE_ID,
        "app_id": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "tenant_id": TENANT,
    }


def test_it_maps_a_role_assignment_from_the_api() -> None:
    event = _activity("activity_log_api.json")[0]

    assert event.source_event_id == "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
    assert event.event_time == datetime(2024, 5, 14, 9, 34, 11, 987654, tzinfo=UTC)
    assert event.category == "permission_change"
    assert event.action == "Microsoft.Authorization/roleAssignments/write"
    assert event.outcome == "success"
    assert event.actor_principal == "alice@example.com"
    assert event.source_address == "198.51.100.23"
    assert event.resource_type == "Microsoft.Authorization/roleAssignments"


def test_it_takes_the_app_id_of_an_app_only_token_as_the_actor() -> None:
    export = _activity("eventhub_activity.json")[2]
    api = _activity("activity_log_api.json")[1]

    assert export.category == api.category == "data_access"
    # One application, one name: the export has no caller, the API's is the object id.
    assert (export.actor_principal, export.actor_kind) == (PAYROLL_APP, "service_principal")
    assert (api.actor_principal, api.actor_kind) == (PAYROLL_APP, "service_principal")
    assert export.attrs["caller_object_id"] == api.attrs["caller_object_id"] == PAYROLL_SP
    assert export.credential_used == "Rr1Ss2Tt3Uu4Vv5Ww6Xx7Y"
    assert export.mfa is None


def test_it_recognizes_a_managed_identity_caller() -> None:
    event = _activity("eventhub_activity.json")[3]

    assert event.actor_kind == "managed_identity"
    # Named by its service principal's object id, as its alias is.
    assert event.actor_principal == event.attrs["caller_object_id"]
    assert event.category == "other"
    assert event.source_address == ""


def test_it_records_a_failed_api_operation() -> None:
    event = _activity("activity_log_api.json")[2]

    assert event.outcome == "failure"
    assert event.attrs["error_code"] == "Forbidden"
    assert event.actor_principal == "bob@example.com"
    assert event.mfa is None


@pytest.mark.parametrize(
    ("operation", "category"),
    [
        ("Microsoft.Authorization/roleAssignments/write", "permission_change"),
        ("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/DELETE", "permission_change"),
        ("Microsoft.Authorization/roleDefinitions/write", "permission_change"),
        ("Microsoft.Storage/storageAccounts/listKeys/action", "data_access"),
        ("Microsoft.KeyVault/vaults/secrets/read", "data_access"),
        (
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "data_access",
        ),
        ("Microsoft.Web/sites/config/list/action", "data_access"),
        ("Microsoft.Compute/virtualMachines/write", "other"),
        ("Microsoft.Storage/storageAccounts/regenerateKey/action", "other"),
    ],
)
def test_it_categorizes_operations(operation: str, category: str) -> None:
    assert ACTIVITY_PARSER.parse(_activity_record(operation)).category == category


@pytest.mark.parametrize(
    ("result", "outcome"),
    [("Success", "success"), ("Failure", "failure"), ("Start", "unknown"), ("Accept", "unknown")],
)
def test_it_maps_export_result_types(result: str, outcome: str) -> None:
    assert ACTIVITY_PARSER.parse(_activity_record(resultType=result)).outcome == outcome


def test_it_prefers_the_recorded_caller_over_the_claims() -> None:
    record = _activity_record(caller="alice.admin@example.com")

    assert ACTIVITY_PARSER.parse(record).actor_principal == "alice.admin@example.com"


def test_it_reports_an_unknown_actor_without_caller_or_claims() -> None:
    record = _activity_record(identity={"authorization": {"action": "x"}})

    event = ACTIVITY_PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")
    assert event.credential_used == ""


def test_it_reads_claims_with_short_names_and_an_amr_list() -> None:
    claims = {"upn": "alice@example.com", "oid": ALICE_ID, "tid": TENANT, "amr": ["pwd", "mfa"]}
    record = _activity_record(identity={"claims": claims})

    event = ACTIVITY_PARSER.parse(record)

    assert event.attrs["caller_object_id"] == ALICE_ID
    assert event.attrs["tenant_id"] == TENANT
    assert event.mfa is True


@pytest.mark.parametrize(
    ("record", "named"),
    [
        (_activity_record(time=None), "time"),
        (_activity_record(time="not a time"), "time"),
        (_activity_record(eventTimestamp=12.5e99), "eventTimestamp"),
        (_activity_record(identity={"claims": "upn=alice"}), "identity.claims"),
        (_activity_record(operationName=["write"]), "operationName"),
        (_activity_record(caller={"name": "alice"}), "caller"),
    ],
)
def test_it_names_the_activity_field_it_cannot_read(record: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{named}'")):
        ACTIVITY_PARSER.parse(record)


def test_it_sniffs_activity_by_its_category_and_a_legacy_one_only_with_a_caller() -> None:
    api = sample_records("azure_activity", "activity_log_api.json")[0]
    legacy = _activity_record(category="Write")
    assert ACTIVITY_PARSER.sniff(_activity_record())
    assert ACTIVITY_PARSER.sniff(api)
    assert ACTIVITY_PARSER.sniff(legacy)
    no_identity = copy.deepcopy(_activity_record())
    del no_identity["identity"]
    assert ACTIVITY_PARSER.sniff(no_identity)
    # "Write" is a category of older exports only with a caller; other logs use the word.
    del legacy["identity"]
    assert not ACTIVITY_PARSER.sniff(legacy)
    assert not ACTIVITY_PARSER.sniff({**_activity_record(), "identity": "someone"})


# --- Log Analytics / Sentinel exports ---------------------------------------------------

WORKSPACE = "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
DANA_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def test_it_reads_each_sign_in_table_of_a_log_analytics_export() -> None:
    rows = sample_records("entra", "log_analytics_signins.json")
    events = _signins("log_analytics_signins.json")

    assert all(SIGNIN_PARSER.sniff(r) for r in rows)
    assert not any(ACTIVITY_PARSER.sniff(r) for r in rows)
    assert [(e.attrs["sign_in_kind"], e.actor_principal, e.actor_kind) for e in events] == [
        ("interactive", "dana@example.com", "user"),
        ("non_interactive", "dana@example.com", "user"),
        ("service_principal", "payroll-exporter", "service_principal"),
        ("managed_identity", "vm-report-builder", "managed_identity"),
        ("interactive", "dana@example.com", "user"),
    ]


def test_it_maps_a_log_analytics_sign_in_like_the_graph_resource() -> None:
    event = _signins("log_analytics_signins.json")[0]

    assert event.source_event_id == "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b01"
    # CreatedDateTime, not TimeGenerated (when the row reached the workspace).
    assert event.event_time == datetime(2024, 5, 15, 8, 12, 40, 123000, tzinfo=UTC)
    assert event.outcome == "success"
    assert event.credential_issued == "Lw7c2ZpQ0kS8t9u0v1w2AA"
    assert event.issued_principal == "dana@example.com"
    assert event.correlation_id == "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
    assert event.source_address == "203.0.113.77"
    assert event.resource == "Windows Azure Service Management API"
    assert event.mfa is True
    assert event.attrs["user_id"] == DANA_ID


def test_it_takes_the_directory_tenant_not_the_workspace_of_a_log_analytics_row() -> None:
    events = _signins("log_analytics_signins.json")

    assert {e.actor_account for e in events if e.actor_kind == "user"} == {TENANT}
    assert all(WORKSPACE not in (e.actor_account, e.attrs.get("tenant_id")) for e in events)


def test_it_decodes_dynamic_columns_exported_as_json_text() -> None:
    non_interactive = _signins("log_analytics_signins.json")[1]
    row = sample_records("entra", "log_analytics_signins.json")[1]

    assert isinstance(row["Status"], str)
    assert non_interactive.outcome == "success"
    assert non_interactive.credential_issued == "Mx8d3AqR1lT9u0v1w2x3BB"


def test_it_times_a_service_principal_row_by_time_generated() -> None:
    sp = _signins("log_analytics_signins.json")[2]

    assert sp.event_time == datetime(2024, 5, 15, 9, 5, 17, 330000, tzinfo=UTC)
    assert sp.credential_issued == "Ny9e4BrS2mU0v1w2x3y4CC"
    assert sp.attrs["service_principal_credential_key_id"] == "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
    assert sp.attrs["app_id"] == PAYROLL_APP


def test_it_issues_no_token_for_a_failed_log_analytics_sign_in() -> None:
    failed = _signins("log_analytics_signins.json")[4]

    assert (failed.outcome, failed.credential_issued) == ("failure", "")
    assert failed.attrs["error_code"] == "50126"
    assert failed.source_address == "2001:db8:77::5"


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("CreatedDateTime", "yesterday", "'CreatedDateTime'"),
        ("UserPrincipalName", {"upn": "dana@example.com"}, "'UserPrincipalName'"),
        ("Status", '{"errorCode": [50126]}', "'Status.errorCode'"),
    ],
)
def test_it_names_the_log_analytics_column_it_cannot_read(
    column: str, value: Any, named: str
) -> None:
    row = copy.deepcopy(sample_records("entra", "log_analytics_signins.json")[0])
    row[column] = value

    with pytest.raises(RecordError, match=re.escape(named)):
        SIGNIN_PARSER.parse(row)


def test_it_reads_a_projected_sign_in_row_when_told_the_format() -> None:
    # `SigninLogs | project TimeGenerated, UserPrincipalName, ...`: no Type to detect it by.
    row = {
        "TimeGenerated": "2024-05-15T08:12:44.517Z",
        "UserPrincipalName": "dana@example.com",
        "IPAddress": "203.0.113.77",
        "ResultType": "0",
        "IsInteractive": "True",
        "UniqueTokenIdentifier": "Lw7c2ZpQ0kS8t9u0v1w2AA",
        "TenantId": WORKSPACE,
    }

    assert not SIGNIN_PARSER.sniff(row)
    event = SIGNIN_PARSER.parse(row)
    assert (event.actor_principal, event.outcome) == ("dana@example.com", "success")
    assert event.attrs["sign_in_kind"] == "interactive"
    assert event.credential_issued == "Lw7c2ZpQ0kS8t9u0v1w2AA"
    assert event.actor_account == ""


def test_it_reads_the_rows_of_a_log_analytics_query_api_response() -> None:
    from_api = _signins("log_analytics_query_api.json")
    exported = _signins("log_analytics_signins.json")

    for api_event, export_event in zip(
        from_api, [exported[0], exported[1], exported[4]], strict=True
    ):
        for name in ("source_event_id", "event_time", "actor_principal", "credential_issued"):
            assert getattr(api_event, name) == getattr(export_event, name)
        assert api_event.outcome == export_event.outcome
        assert api_event.actor_account == TENANT


def test_it_reads_sign_ins_as_graph_powershell_returns_them() -> None:
    # Get-MgBetaAuditLogSignIn | ConvertTo-Json -Depth 10: the signIn with PascalCase members.
    records = sample_records("entra", "graph_powershell_signins.json")

    assert "UserPrincipalName" in records[0] and "Status" in records[0]
    assert all(SIGNIN_PARSER.sniff(r) for r in records)
    assert _signins("graph_powershell_signins.json") == _signins("graph_signins.json")


def test_it_reads_a_windows_powershell_date() -> None:
    record = copy.deepcopy(sample_records("entra", "graph_powershell_signins.json")[0])
    record["CreatedDateTime"] = "/Date(1715679012000)/"  # ConvertTo-Json in PowerShell 5.1

    assert SIGNIN_PARSER.parse(record).event_time == datetime(2024, 5, 14, 9, 30, 12, tzinfo=UTC)


def test_it_reads_activity_from_a_log_analytics_export() -> None:
    rows = sample_records("azure_activity", "log_analytics_activity.json")
    keys, denied = _activity("log_analytics_activity.json")

    assert all(ACTIVITY_PARSER.sniff(r) for r in rows)
    assert not any(SIGNIN_PARSER.sniff(r) for r in rows)
    assert keys.source_event_id == "b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e"
    assert keys.event_time == datetime(2024, 5, 15, 8, 43, 12, 987000, tzinfo=UTC)
    assert (keys.actor_principal, keys.actor_kind) == ("dana@example.com", "user")
    assert (keys.category, keys.outcome) == ("data_access", "success")
    assert keys.action == "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"
    assert keys.resource.endswith("/storageaccounts/hrpayrollexports")
    assert keys.request_id == "c9d0e1f2-a3b4-4c5d-8e6f-7a8b9c0d1e2f"
    assert keys.source_address == "203.0.113.77"
    assert keys.actor_account == TENANT
    # Claims as JSON text in one row, as the dynamic Claims_d in the other.
    assert (denied.actor_principal, denied.category) == ("bob@example.com", "permission_change")
    assert (denied.outcome, denied.attrs["error_code"]) == ("failure", "Forbidden")
    assert denied.credential_used == "Qb2h7EuV5pX3y4z5a6b7FF"


def test_it_links_log_analytics_activity_to_its_sign_in_by_the_token_id() -> None:
    cli_sign_in = _signins("log_analytics_signins.json")[1]
    keys = _activity("log_analytics_activity.json")[0]

    assert keys.credential_used == cli_sign_in.credential_issued == "Mx8d3AqR1lT9u0v1w2x3BB"


def test_it_reads_an_activity_row_whose_dynamic_columns_are_empty() -> None:
    # Exports write "" for an empty column of any type: no claims, no authorization here.
    row = copy.deepcopy(sample_records("azure_activity", "log_analytics_activity.json")[0])
    row.update(Claims="", Claims_d="", Authorization="", Authorization_d="", HTTPRequest="")

    event = ACTIVITY_PARSER.parse(row)

    assert (event.actor_principal, event.actor_kind) == ("dana@example.com", "user")
    assert event.credential_used == ""
    assert event.outcome == "success"


def test_it_names_the_activity_column_it_cannot_read() -> None:
    row = copy.deepcopy(sample_records("azure_activity", "log_analytics_activity.json")[0])
    row["TimeGenerated"] = ""

    with pytest.raises(RecordError, match="'TimeGenerated'"):
        ACTIVITY_PARSER.parse(row)


def test_it_sets_only_documented_attrs() -> None:
    signins = [
        _signins(n)
        for n in (
            "graph_signins.json",
            "PT1H.json",
            "eventhub_signins.json",
            "log_analytics_signins.json",
            "log_analytics_query_api.json",
            "graph_powershell_signins.json",
        )
    ]
    activity = [
        _activity(n)
        for n in ("eventhub_activity.json", "activity_log_api.json", "log_analytics_activity.json")
    ]
    for events in signins + activity:
        for event in events:
            assert set(event.attrs) <= set(ATTR_KEYS), event.source_event_id


def test_a_portal_csv_export_reads_as_the_same_rows_in_json() -> None:
    # Log Analytics' "Export to CSV": " [UTC]" after each time column's name, times in the
    # portal's en-US display form ("5/15/2024, 8:12:44.517 AM"), dynamic columns as JSON
    # text, booleans as TRUE/FALSE. Rows 1, 2 and 5 of the JSON sample.
    rows = sample_records("entra", "log_analytics_portal_export.csv")
    exported = _signins("log_analytics_signins.json")

    assert "TimeGenerated" in rows[0] and rows[0]["CreatedDateTime"] == "5/15/2024, 8:12:40.123 AM"
    assert all(SIGNIN_PARSER.sniff(r) for r in rows)
    assert _signins("log_analytics_portal_export.csv") == [exported[i] for i in (0, 1, 4)]


@pytest.mark.parametrize(
    ("row", "category", "kind"),
    [
        (0, "ADFSSignInLogs", "interactive"),  # AD FS: told by the record itself
        (1, "ADFSSignInLogs", "non_interactive"),
        (2, "MicrosoftServicePrincipalSignInLogs", "service_principal"),
    ],
)
def test_it_reads_the_other_sign_in_categories(row: int, category: str, kind: str) -> None:
    record = copy.deepcopy(sample_records("entra", "PT1H.json")[row])
    original = SIGNIN_PARSER.parse(record)
    record["category"] = category

    assert SIGNIN_PARSER.sniff(record)
    event = SIGNIN_PARSER.parse(record)
    assert event.attrs["sign_in_kind"] == kind
    assert (event.actor_principal, event.actor_kind) == (
        original.actor_principal,
        original.actor_kind,
    )
    assert event.event_time == original.event_time


@pytest.mark.parametrize("category", ["ResourceHealth", "ServiceHealth", "Autoscale"])
def test_the_platforms_own_activity_events_are_read_without_a_caller(category: str) -> None:
    # An export holds them beside the sign-ins or the callers' events: no identity at all.
    record = {
        "time": "2021-05-25T22:04:07.22Z",
        "resourceId": "/subscriptions/0/providers/Microsoft.Web/sites/payroll",
        "operationName": "Microsoft.Resourcehealth/healthevent/Updated/action",
        "category": category,
        "resultType": "Updated",
        "correlationId": "1c867fe2-050c-4a74-bb1c-a83b15246fdd",
        "properties": {"eventCategory": category},
    }

    assert ACTIVITY_PARSER.sniff(record) and not SIGNIN_PARSER.sniff(record)
    event = ACTIVITY_PARSER.parse(record)
    assert (event.actor_principal, event.actor_kind, event.category) == ("", "unknown", "other")
    assert not ACTIVITY_PARSER.sniff({**record, "category": "Write", "properties": {}})


def test_a_sign_in_keeps_its_session_id_however_it_came() -> None:
    graph = copy.deepcopy(sample_records("entra", "graph_signins.json")[0])
    graph["sessionId"] = "00a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b"
    row = copy.deepcopy(sample_records("entra", "log_analytics_signins.json")[0])
    row["SessionId"] = graph["sessionId"]

    for record in (graph, row):
        assert SIGNIN_PARSER.parse(record).attrs["sign_in_session_id"] == graph["sessionId"]
    assert "sign_in_session_id" not in _signins("graph_signins.json")[0].attrs


def test_a_sign_in_from_another_tenant_says_how_it_came_in() -> None:
    support = copy.deepcopy(sample_records("entra", "graph_signins.json")[0])
    support |= {
        "crossTenantAccessType": "microsoftSupport",
        "originalTransferMethod": "deviceCodeFlow",
        "authenticationProtocol": "deviceCode",
    }
    plain = copy.deepcopy(sample_records("entra", "graph_signins.json")[0])
    plain |= {"crossTenantAccessType": "none", "originalTransferMethod": "none"}

    attrs = SIGNIN_PARSER.parse(support).attrs
    assert attrs["cross_tenant_access_type"] == "microsoftSupport"
    assert attrs["original_transfer_method"] == "deviceCodeFlow"
    assert attrs["authentication_protocol"] == "deviceCode"
    assert not {"cross_tenant_access_type", "original_transfer_method"} & set(
        SIGNIN_PARSER.parse(plain).attrs
    )
