from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, NormalizedEvent, RecordError
from forensics.engine.parsers import detect
from forensics.engine.parsers.entra import ACTIVITY_PARSER, SIGNIN_PARSER
from forensics.engine.parsers.entra_audit import PARSER
from tests.engine.parsers.foreign import sample_records

TENANT = "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
ALICE_ID = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
PAYROLL_APP = "a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
PAYROLL_SP = "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c"
PAYROLL_OBJECT = "a0a0a0a0-1111-4222-8333-0000000000a1"
SAMPLES = (
    "graph_directory_audits.json",
    "PT1H.json",
    "eventhub_audit.json",
    "log_analytics_audit_logs.json",
    "graph_powershell_audits.json",
)
SECRETS = "Update application \u2013 Certificates and secrets management "


def _events(name: str) -> list[NormalizedEvent]:
    return [PARSER.parse(r) for r in sample_records("entra_audit", name)]


def _keys(*ids: str) -> str:
    entries = [f"[KeyIdentifier={i},KeyType=Password,KeyUsage=Verify,DisplayName=s]" for i in ids]
    return '["' + '","'.join(entries) + '"]' if ids else "[]"


def _graph_audit(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "Directory_0a0b0c0d-0000-4000-8000-000000000001_ABCDE_1",
        "category": "ApplicationManagement",
        "correlationId": "0a0b0c0d-0000-4000-8000-000000000001",
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Add service principal credentials",
        "activityDateTime": "2024-05-14T09:30:12Z",
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {
            "app": None,
            "user": {
                "id": ALICE_ID,
                "displayName": "Alice Example",
                "userPrincipalName": "alice@example.com",
                "ipAddress": "198.51.100.23",
            },
        },
        "targetResources": [
            {
                "id": PAYROLL_SP,
                "displayName": "payroll-exporter",
                "type": "ServicePrincipal",
                "userPrincipalName": None,
                "modifiedProperties": [
                    {"displayName": "KeyDescription", "oldValue": "[]", "newValue": _keys("k1")}
                ],
            }
        ],
        "additionalDetails": [{"key": "User-Agent", "value": "python-requests/2.31.0"}],
    }
    record.update(fields)
    return record


def _monitor_audit(**properties: Any) -> dict[str, Any]:
    props = _graph_audit(**properties)
    return {
        "time": "2024-05-14T09:30:12.1234567Z",
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": props["activityDisplayName"],
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": "198.51.100.23",
        "correlationId": props["correlationId"],
        "identity": "Alice Example",
        "Level": 4,
        "properties": props,
    }


def _app(**fields: Any) -> dict[str, Any]:
    app: dict[str, Any] = {
        "appId": PAYROLL_APP,
        "displayName": "payroll-exporter",
        "servicePrincipalId": PAYROLL_SP,
        "servicePrincipalName": None,
    }
    app.update(fields)
    return app


# --- the samples ------------------------------------------------------------------------


def test_it_reads_every_record_of_every_sample() -> None:
    counts = [len(_events(name)) for name in SAMPLES]

    assert counts == [7, 5, 4, 2, 3]
    assert all(e.source_kind == "entra_audit" for name in SAMPLES for e in _events(name))


@pytest.mark.parametrize("name", SAMPLES)
def test_detection_picks_the_audit_parser_for_each_sample(name: str) -> None:
    records = sample_records("entra_audit", name)

    assert detect(records).kind == "entra_audit"
    assert not any(SIGNIN_PARSER.sniff(r) or ACTIVITY_PARSER.sniff(r) for r in records)


@pytest.mark.parametrize(
    ("source", "name", "kind"),
    [
        ("entra", "graph_signins.json", "entra"),
        ("entra", "PT1H.json", "entra"),
        ("entra", "eventhub_signins.json", "entra"),
        ("azure_activity", "eventhub_activity.json", "azure_activity"),
        ("azure_activity", "activity_log_api.json", "azure_activity"),
        ("entra", "log_analytics_signins.json", "entra"),
        ("azure_activity", "log_analytics_activity.json", "azure_activity"),
    ],
)
def test_the_other_entra_samples_are_not_audit_records(source: str, name: str, kind: str) -> None:
    records = sample_records(source, name)

    assert detect(records).kind == kind
    assert not any(PARSER.sniff(r) for r in records)


def test_it_maps_a_secret_added_to_an_application_from_graph() -> None:
    event = _events("graph_directory_audits.json")[0]

    assert event.source_event_id == (
        "Directory_c0ffee01-0000-4000-8000-000000000001_8ZQ1P_201301841"
    )
    assert event.event_time == datetime(2024, 5, 13, 16, 42, 7, 123456, tzinfo=UTC)
    assert event.category == "permission_change"
    # The producer's trailing space goes; its en dash stays.
    assert event.action == "entra:Update application \u2013 Certificates and secrets management"
    assert event.outcome == "success"
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.actor_account == TENANT
    assert event.correlation_id == "c0ffee01-0000-4000-8000-000000000001"
    assert event.source_address == "198.51.100.23"
    assert event.user_agent.startswith("Mozilla/5.0")
    assert (event.resource, event.resource_type) == ("payroll-exporter", "Application")
    assert (event.credential_issued, event.credential_used, event.issue_method) == ("", "", "")
    assert event.mfa is None
    assert event.attrs == {
        "audit_category": "ApplicationManagement",
        "operation_type": "Update",
        "logged_by_service": "Core Directory",
        "user_id": ALICE_ID,
        "actor_display_name": "Alice Example",
        "home_tenant_id": TENANT,
        "target_ids": [PAYROLL_OBJECT],
        "target_types": ["Application"],
        "target_names": ["payroll-exporter"],
        # Only the key the change added: the old value lists the key that was already there.
        "credential_key_ids": ["2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"],
        "credential_key_types": ["Password"],
    }


def test_the_added_key_is_the_one_a_later_service_principal_sign_in_presents() -> None:
    added = _events("graph_directory_audits.json")[0].attrs["credential_key_ids"]
    sign_in = sample_records("entra", "graph_signins.json")[2]

    assert sign_in["servicePrincipalId"] == PAYROLL_SP
    assert added == [sign_in["servicePrincipalCredentialKeyId"]]
    # The normalized sign-in keeps the key id, so the two can be matched in the store.
    assert SIGNIN_PARSER.parse(sign_in).attrs["service_principal_credential_key_id"] == added[0]


def test_it_maps_a_consent_and_a_role_assignment() -> None:
    events = _events("graph_directory_audits.json")
    consent, role = events[1], events[3]

    assert consent.action == "entra:Consent to application"
    assert consent.category == "permission_change"
    assert consent.actor_principal == "bob@example.com"
    assert (consent.resource, consent.resource_type) == ("Reporting Portal", "ServicePrincipal")
    assert role.category == "permission_change"
    assert role.attrs["audit_category"] == "RoleManagement"
    assert role.attrs["role_name"] == "Application Administrator"
    assert (role.resource, role.resource_type) == ("dave@example.com", "User")


def test_it_names_the_service_principal_of_an_app_initiated_change() -> None:
    event = _events("graph_directory_audits.json")[2]

    assert event.action == "entra:Add app role assignment to service principal"
    assert (event.actor_principal, event.actor_kind) == (
        "5b0b5b0b-0000-4000-8000-000000000002",
        "service_principal",
    )
    assert event.attrs["app_id"] == "ab0ab0ab-0000-4000-8000-000000000001"
    assert event.attrs["app_display_name"] == "provisioning-bot"
    assert "user_id" not in event.attrs
    assert event.source_address == ""
    assert event.actor_account == ""  # Graph names no tenant for an app
    # The first target is the resource; every target is kept in record order.
    assert event.resource == "Microsoft Graph"
    assert event.attrs["target_ids"] == ["9a9a9a9a-0000-4000-8000-000000000003", PAYROLL_SP]
    assert event.attrs["target_names"] == ["Microsoft Graph", "payroll-exporter"]
    assert event.user_agent == "python-requests/2.31.0"


def test_it_records_a_failed_change_with_its_reason() -> None:
    event = _events("graph_directory_audits.json")[4]

    assert event.action == "entra:Add owner to application"
    assert event.outcome == "failure"
    assert event.category == "permission_change"
    assert event.attrs["error_message"] == "Insufficient privileges to complete the operation."
    assert event.source_address == "2001:db8:4a2f::9"
    assert event.attrs["target_types"] == ["User", "Application"]


def test_it_files_a_password_reset_as_authentication_and_a_group_change_as_other() -> None:
    events = _events("graph_directory_audits.json")

    assert (events[5].action, events[5].category) == ("entra:Reset user password", "authentication")
    assert events[5].resource == "bob@example.com"
    assert (events[6].action, events[6].category) == ("entra:Add member to group", "other")


def test_it_maps_the_monitor_export_from_its_properties() -> None:
    rotation, removal, pim, policy, security_info = _events("PT1H.json")

    assert rotation.source_event_id.startswith("Directory_c0ffee02-0000-4000-8000-000000000001")
    assert rotation.event_time == datetime(2024, 5, 14, 15, 3, 12, 516809, tzinfo=UTC)
    assert rotation.action == "entra:Add service principal credentials"
    assert (rotation.actor_principal, rotation.actor_kind) == (
        "6e6e6e6e-0000-4000-8000-000000000006",
        "service_principal",
    )
    assert "app_id" not in rotation.attrs  # null in the record
    assert rotation.attrs["app_display_name"] == "Managed Service Identity"
    assert rotation.source_address == ""  # callerIpAddress "<null>"
    assert rotation.actor_account == TENANT
    assert rotation.attrs["credential_key_ids"] == ["9f9f9f9f-0000-4000-8000-00000000000b"]
    assert rotation.attrs["credential_key_types"] == ["AsymmetricX509Cert"]

    assert removal.attrs["removed_credential_key_ids"] == ["5c5c5c5c-0000-4000-8000-00000000000d"]
    assert "credential_key_ids" not in removal.attrs
    assert removal.category == "permission_change"

    assert pim.attrs["logged_by_service"] == "PIM"
    assert pim.attrs["role_name"] == "Global Administrator"
    assert (pim.resource, pim.resource_type) == ("Global Administrator", "Role")
    assert pim.attrs["target_names"] == ["Global Administrator", "", "carol.admin@example.com"]

    assert (policy.category, policy.resource_type) == ("permission_change", "Policy")
    assert security_info.category == "authentication"
    assert security_info.source_address == ""


def test_it_reads_the_event_hub_batch() -> None:
    system, grant, own_secret, owner = _events("eventhub_audit.json")

    assert (system.actor_principal, system.actor_kind) == ("", "unknown")
    assert system.category == "other"
    assert "actor_display_name" not in system.attrs
    assert grant.category == "permission_change"
    assert grant.source_address == "2001:db8:4a2f::9"
    assert grant.user_agent == ""  # no additionalDetails at all
    assert grant.attrs["target_names"] == ["Microsoft Graph", ""]
    assert (own_secret.actor_principal, own_secret.actor_kind) == (PAYROLL_SP, "service_principal")
    assert own_secret.source_address == "192.0.2.15"
    assert own_secret.attrs["credential_key_ids"] == ["3f3f3f3f-0000-4000-8000-00000000000c"]
    assert owner.action == "entra:Add owner to service principal"
    assert owner.attrs["target_types"] == ["User", "ServicePrincipal"]


def test_it_sets_only_documented_attrs() -> None:
    for name in SAMPLES:
        for event in _events(name):
            assert set(event.attrs) <= set(ATTR_KEYS), event.source_event_id
            for value in event.attrs.values():
                assert isinstance(value, str) or all(isinstance(v, str) for v in value)


# --- messy and missing fields -----------------------------------------------------------


def test_it_reads_the_same_record_alike_in_both_shapes() -> None:
    graph = PARSER.parse(_graph_audit())
    monitor = PARSER.parse(_monitor_audit())

    for name in ("source_event_id", "event_time", "action", "actor_principal", "resource"):
        assert getattr(graph, name) == getattr(monitor, name)
    assert graph.attrs["credential_key_ids"] == monitor.attrs["credential_key_ids"] == ["k1"]
    assert monitor.attrs["tenant_id"] == TENANT


def test_it_takes_the_user_as_actor_when_an_app_is_named_too() -> None:
    record = _graph_audit()
    record["initiatedBy"]["app"] = _app(displayName="Azure Portal")

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.attrs["app_display_name"] == "Azure Portal"


def test_it_falls_back_to_the_user_id_and_to_the_app_id() -> None:
    no_upn = _graph_audit()
    no_upn["initiatedBy"]["user"]["userPrincipalName"] = None
    no_sp = _graph_audit(initiatedBy={"user": None, "app": _app(servicePrincipalId="")})

    assert PARSER.parse(no_upn).actor_principal == ALICE_ID
    assert PARSER.parse(no_sp).actor_principal == PAYROLL_APP
    assert PARSER.parse(no_sp).actor_kind == "service_principal"


def test_an_all_empty_user_does_not_hide_the_app() -> None:
    empty_user = {"id": None, "displayName": None, "userPrincipalName": None, "ipAddress": None}
    record = _graph_audit(initiatedBy={"user": empty_user, "app": _app()})

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == (PAYROLL_SP, "service_principal")


def test_it_takes_the_export_identity_as_a_name_when_no_initiator_is_recorded() -> None:
    record = _monitor_audit(initiatedBy={})
    record["identity"] = "Microsoft Substrate Management"

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")
    assert event.attrs["actor_display_name"] == "Microsoft Substrate Management"


@pytest.mark.parametrize(
    ("initiated_by", "record_ip", "address"),
    [
        (
            {"user": {"userPrincipalName": "a@example.com", "ipAddress": ""}},
            "192.0.2.9",
            "192.0.2.9",
        ),
        ({"user": None, "app": _app(ipAddress="192.0.2.7")}, "192.0.2.9", "192.0.2.7"),
        ({"user": {"userPrincipalName": "a@example.com", "ipAddress": "<null>"}}, "<null>", ""),
        (
            {"user": {"userPrincipalName": "a@example.com"}},
            "::2a02:cf40:add:4002",
            "::2a02:cf40:add:4002",
        ),
    ],
)
def test_it_takes_the_address_from_the_initiator_else_the_export(
    initiated_by: dict[str, Any], record_ip: str, address: str
) -> None:
    record = _monitor_audit(initiatedBy=initiated_by)
    record["callerIpAddress"] = record_ip

    assert PARSER.parse(record).source_address == address


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        ("success", "success"),
        ("failure", "failure"),
        ("timeout", "unknown"),
        ("unknownFutureValue", "unknown"),
        (None, "unknown"),
    ],
)
def test_it_maps_results(result: Any, outcome: str) -> None:
    assert PARSER.parse(_graph_audit(result=result)).outcome == outcome


def test_a_timeout_keeps_its_reason_without_claiming_a_failure() -> None:
    event = PARSER.parse(_graph_audit(result="timeout", resultReason="Request timed out"))

    assert event.outcome == "unknown"
    assert event.attrs["error_code"] == "timeout"
    assert event.attrs["error_message"] == "Request timed out"


def test_the_export_result_type_and_description_stand_in_for_missing_properties() -> None:
    record = _monitor_audit(result=None, resultReason=None)
    record["resultType"] = "Failure"
    record["resultDescription"] = "Failed to add member to role"

    event = PARSER.parse(record)

    assert event.outcome == "failure"
    assert event.attrs["error_message"] == "Failed to add member to role"


def test_it_uses_the_record_time_and_operation_when_the_properties_lack_them() -> None:
    record = _monitor_audit(activityDateTime=None, activityDisplayName=None)
    record["operationName"] = "Add service principal credentials"

    event = PARSER.parse(record)

    assert event.event_time == datetime(2024, 5, 14, 9, 30, 12, 123456, tzinfo=UTC)
    assert event.action == "entra:Add service principal credentials"
    assert PARSER.parse(_graph_audit(activityDisplayName="")).action == "entra:audit activity"


def test_it_tolerates_missing_targets_details_and_values() -> None:
    record = _graph_audit(targetResources=None, initiatedBy=None)
    del record["additionalDetails"]

    event = PARSER.parse(record)

    assert (event.resource, event.resource_type) == ("", "")
    assert "target_ids" not in event.attrs
    assert event.user_agent == ""
    assert event.actor_kind == "unknown"


def test_it_reads_json_encoded_values_and_skips_null_entries() -> None:
    target = {
        "id": "role-target",
        "displayName": None,
        "type": "User",
        "userPrincipalName": None,
        "modifiedProperties": [
            None,
            {"displayName": "Role.DisplayName", "oldValue": None, "newValue": '"Global Reader"'},
            {"displayName": "KeyDescription", "oldValue": None, "newValue": None},
        ],
    }
    event = PARSER.parse(_graph_audit(targetResources=[None, target], additionalDetails=[None]))

    assert event.attrs["role_name"] == "Global Reader"
    assert (event.resource, event.resource_type) == ("role-target", "User")
    assert event.attrs["target_names"] == [""]
    assert "credential_key_ids" not in event.attrs


def test_it_reads_key_descriptions_in_their_other_spellings() -> None:
    spaced = '["[KeyIdentifier=k1, KeyType=AsymmetricX509Cert, KeyUsage=Verify, DisplayName=CN=x]"]'
    double = '"[\\"[KeyIdentifier=k2,KeyType=Password,KeyUsage=Verify,DisplayName=y]\\"]"'
    target = {
        "id": PAYROLL_SP,
        "type": "ServicePrincipal",
        "modifiedProperties": [
            {"displayName": "KeyDescription", "oldValue": "[]", "newValue": spaced},
            {"displayName": "KeyDescription", "oldValue": "", "newValue": double},
        ],
    }

    event = PARSER.parse(_graph_audit(targetResources=[target]))

    assert event.attrs["credential_key_ids"] == ["k1", "k2"]
    assert event.attrs["credential_key_types"] == ["AsymmetricX509Cert", "Password"]


def test_a_rotation_records_what_it_added_and_what_it_removed() -> None:
    target = {
        "id": PAYROLL_SP,
        "type": "ServicePrincipal",
        "modifiedProperties": [
            {
                "displayName": "KeyDescription",
                "oldValue": _keys("a", "b"),
                "newValue": _keys("b", "c"),
            }
        ],
    }

    event = PARSER.parse(_graph_audit(targetResources=[target]))

    assert event.attrs["credential_key_ids"] == ["c"]
    assert event.attrs["removed_credential_key_ids"] == ["a"]


@pytest.mark.parametrize(
    ("category", "activity", "service", "expected"),
    [
        (
            "RoleManagement",
            "Add eligible member to role in PIM completed (permanent)",
            "PIM",
            "permission_change",
        ),
        ("Policy", "Update authentication methods policy", "Core Directory", "permission_change"),
        (
            "ApplicationManagement",
            "Add delegated permission grant",
            "Core Directory",
            "permission_change",
        ),
        (
            "ApplicationManagement",
            "Remove owner from application",
            "Core Directory",
            "permission_change",
        ),
        ("ApplicationManagement", "Update external secrets", "Core Directory", "permission_change"),
        (
            "ApplicationManagement",
            "Add app role assignment grant to user",
            "Core Directory",
            "permission_change",
        ),
        ("ApplicationManagement", "Update application", "Core Directory", "other"),
        ("ApplicationManagement", "Add service principal", "Core Directory", "other"),
        ("UserManagement", "Change user password", "Core Directory", "authentication"),
        (
            "UserManagement",
            "Reset password (self-service)",
            "Self-service Password Management",
            "authentication",
        ),
        (
            "UserManagement",
            "Admin deleted security info",
            "Authentication Methods",
            "authentication",
        ),
        ("UserManagement", "Update user", "Core Directory", "other"),
        ("GroupManagement", "Add member to group", "Core Directory", "other"),
    ],
)
def test_it_categorizes_activities(
    category: str, activity: str, service: str, expected: str
) -> None:
    record = _graph_audit(
        category=category, activityDisplayName=activity, loggedByService=service, targetResources=[]
    )

    assert PARSER.parse(record).category == expected


# --- malformed records ------------------------------------------------------------------


def _with_target(**fields: Any) -> dict[str, Any]:
    target: dict[str, Any] = {"id": PAYROLL_SP, "type": "ServicePrincipal"}
    target.update(fields)
    return _graph_audit(targetResources=[target])


@pytest.mark.parametrize(
    ("record", "named"),
    [
        (_graph_audit(activityDateTime=None), "activityDateTime"),
        (_graph_audit(activityDateTime="13/05/2024"), "activityDateTime"),
        (_monitor_audit(activityDateTime=None) | {"time": None}, "time"),
        (_monitor_audit() | {"properties": ["id"]}, "properties"),
        (_graph_audit(activityDisplayName={"name": "x"}), "activityDisplayName"),
        (_graph_audit(result=["success"]), "result"),
        (_graph_audit(initiatedBy="alice"), "initiatedBy"),
        (_graph_audit(initiatedBy={"user": "alice@example.com"}), "initiatedBy.user"),
        (_graph_audit(initiatedBy={"app": [PAYROLL_APP]}), "initiatedBy.app"),
        (
            _graph_audit(initiatedBy={"user": {"userPrincipalName": ["a@example.com"]}}),
            "initiatedBy.user.userPrincipalName",
        ),
        (
            _monitor_audit(initiatedBy={"user": {"ipAddress": {"v4": "x"}}}),
            "properties.initiatedBy.user.ipAddress",
        ),
        (_graph_audit(targetResources={"id": "x"}), "targetResources"),
        (_graph_audit(targetResources=["x"]), "targetResources[0]"),
        (_with_target(displayName=["payroll"]), "targetResources[0].displayName"),
        (
            _with_target(modifiedProperties="KeyDescription"),
            "targetResources[0].modifiedProperties",
        ),
        (
            _with_target(modifiedProperties=[{"displayName": "KeyDescription", "newValue": ["k"]}]),
            "targetResources[0].modifiedProperties[0].newValue",
        ),
        (_graph_audit(additionalDetails={"User-Agent": "x"}), "additionalDetails"),
        (
            _graph_audit(additionalDetails=[{"key": "User-Agent", "value": {}}]),
            "additionalDetails[0].value",
        ),
        (_monitor_audit() | {"identity": {"claims": {}}}, "identity"),
    ],
)
def test_it_names_the_field_it_cannot_read(record: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{named}'")):
        PARSER.parse(record)


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        PARSER.parse(["audit"])  # type: ignore[arg-type]


def test_it_sniffs_both_shapes_and_nothing_close() -> None:
    assert PARSER.sniff(_graph_audit())
    assert PARSER.sniff(_monitor_audit())
    assert not PARSER.sniff({"category": "AuditLogs", "time": "2024-05-14T09:30:12Z"})
    assert not PARSER.sniff({"activityDateTime": "2024-05-14T09:30:12Z", "initiatedBy": {}})
    assert not PARSER.sniff({**_monitor_audit(), "category": "SignInLogs"})


# --- Log Analytics / Sentinel export ----------------------------------------------------


def test_it_maps_a_log_analytics_row_like_the_graph_resource() -> None:
    secret, role = _events("log_analytics_audit_logs.json")

    assert (
        secret.source_event_id == "Directory_c0ffee02-0000-4000-8000-000000000002_9AB2Q_301301842"
    )
    # ActivityDateTime, not TimeGenerated (when the row reached the workspace).
    assert secret.event_time == datetime(2024, 5, 15, 7, 55, 41, 220000, tzinfo=UTC)
    assert (secret.actor_principal, secret.actor_kind) == ("alice@example.com", "user")
    assert secret.actor_account == TENANT  # AADTenantId, not the workspace's TenantId
    assert secret.source_address == "198.51.100.23"
    assert secret.user_agent.startswith("Mozilla/5.0")
    # InitiatedBy, TargetResources and AdditionalDetails came as JSON text.
    assert secret.attrs["credential_key_ids"] == ["3f4a5b6c-7d8e-4f9a-8b0c-1d2e3f4a5b6c"]
    assert secret.attrs["audit_category"] == "ApplicationManagement"
    assert (role.actor_kind, role.attrs["app_display_name"]) == ("service_principal", "MS-PIM")
    assert role.attrs["role_name"] == "Application Administrator"
    assert role.resource == "dana@example.com"


def test_it_names_the_log_analytics_column_it_cannot_read() -> None:
    row = dict(sample_records("entra_audit", "log_analytics_audit_logs.json")[1])
    row["InitiatedBy"] = ["MS-PIM"]

    with pytest.raises(RecordError, match="'InitiatedBy'"):
        PARSER.parse(row)


def test_it_reads_audits_as_graph_powershell_returns_them() -> None:
    records = sample_records("entra_audit", "graph_powershell_audits.json")

    assert "InitiatedBy" in records[0]
    assert _events("graph_powershell_audits.json") == _events("graph_directory_audits.json")[:3]


def test_a_pim_record_takes_the_address_among_its_additional_details() -> None:
    # PIM writes no ipAddress in initiatedBy; its details carry "ipaddr".
    user = {"id": ALICE_ID, "userPrincipalName": "alice@example.com", "ipAddress": None}
    record = _graph_audit(
        category="RoleManagement",
        loggedByService="PIM",
        activityDisplayName="Add member to role completed (PIM activation)",
        initiatedBy={"app": None, "user": user},
        additionalDetails=[
            {"key": "RoleDefinitionOriginId", "value": "62e90394-69f5-4237-9190-012177145e10"},
            {"key": "ipaddr", "value": "198.51.100.23"},
        ],
    )

    assert PARSER.parse(record).source_address == "198.51.100.23"
    # The caller's own address, when the record has it, comes first.
    user["ipAddress"] = "203.0.113.5"
    assert PARSER.parse(record).source_address == "203.0.113.5"


def test_a_service_principal_made_with_a_credential_is_a_permission_change() -> None:
    # az ad sp create-for-rbac: one "Add service principal" whose target gets a certificate.
    def made(credential: str) -> NormalizedEvent:
        target = {
            "id": PAYROLL_SP,
            "displayName": "payroll-exporter",
            "type": "ServicePrincipal",
            "userPrincipalName": None,
            "modifiedProperties": [
                {
                    "displayName": "AppPrincipalId",
                    "oldValue": "[]",
                    "newValue": f'["{PAYROLL_APP}"]',
                },
                {"displayName": "Credential", "oldValue": "[]", "newValue": credential},
            ],
        }
        record = _graph_audit(
            activityDisplayName="Add service principal",
            operationType="Add",
            targetResources=[target],
        )
        return PARSER.parse(record)

    given = '[{"CredentialType":2,"KeyStoreId":"291154f0-a9f5-45bb-87be-9c8ee5b6d62c"}]'
    assert made(given).category == "permission_change"
    assert made("[]").category == "other"
