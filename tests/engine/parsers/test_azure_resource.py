from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, NormalizedEvent, RecordError
from forensics.engine.parsers import all_parsers, detect
from forensics.engine.parsers.azure_resource import KEYVAULT_PARSER, STORAGE_PARSER
from tests.engine.parsers.foreign import sample_records

TENANT = "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
ALICE_ID = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
PAYROLL_APP = "a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
PAYROLL_SP = "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c"
VM_APP = "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f"
VM_SP = "9e8d7c6b-5a4f-4e3d-a2c1-b0a9f8e7d6c5"
CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
VAULT = "https://kv-hr-prod.vault.azure.net"
ACCOUNT = "https://sthrexports01.blob.core.windows.net"
KEYVAULT_SAMPLES = ("PT1H.json", "eventhub_keyvault.json")
STORAGE_SAMPLES = ("PT1H.json", "eventhub_storage.json")


def _vault(name: str) -> list[NormalizedEvent]:
    return [KEYVAULT_PARSER.parse(r) for r in sample_records("azure_keyvault", name)]


def _storage(name: str) -> list[NormalizedEvent]:
    return [STORAGE_PARSER.parse(r) for r in sample_records("azure_storage", name)]


def _vault_record(**fields: Any) -> dict[str, Any]:
    record = copy.deepcopy(sample_records("azure_keyvault", "PT1H.json")[0])
    record.update(fields)
    return record


def _storage_record(**fields: Any) -> dict[str, Any]:
    record = copy.deepcopy(sample_records("azure_storage", "PT1H.json")[0])
    record.update(fields)
    return record


# --- the samples ------------------------------------------------------------------------


def test_it_reads_every_record_of_every_sample() -> None:
    assert [len(_vault(n)) for n in KEYVAULT_SAMPLES] == [6, 4]
    assert [len(_storage(n)) for n in STORAGE_SAMPLES] == [5, 4]
    for name in KEYVAULT_SAMPLES:
        for event in _vault(name):
            assert event.source_kind == "azure_keyvault"
            assert set(event.attrs) <= set(ATTR_KEYS), event.action
    for name in STORAGE_SAMPLES:
        for event in _storage(name):
            assert event.source_kind == "azure_storage"
            assert set(event.attrs) <= set(ATTR_KEYS), event.action


@pytest.mark.parametrize(
    ("source", "name"),
    [("azure_keyvault", n) for n in KEYVAULT_SAMPLES]
    + [("azure_storage", n) for n in STORAGE_SAMPLES],
)
def test_detection_picks_the_parser_of_each_sample(source: str, name: str) -> None:
    records = sample_records(source, name)

    assert detect(records).kind == source
    for record in records:
        assert [p.kind for p in all_parsers() if p.sniff(record)] == [source]


@pytest.mark.parametrize(
    ("source", "name", "kind"),
    [
        ("azure_activity", "eventhub_activity.json", "azure_activity"),
        ("azure_activity", "activity_log_api.json", "azure_activity"),
        ("entra", "PT1H.json", "entra"),
        ("entra", "eventhub_signins.json", "entra"),
        ("entra_audit", "PT1H.json", "entra_audit"),
        ("entra_audit", "eventhub_audit.json", "entra_audit"),
    ],
)
def test_the_other_azure_samples_are_not_data_plane_records(
    source: str, name: str, kind: str
) -> None:
    records = sample_records(source, name)

    assert detect(records).kind == kind
    assert not any(KEYVAULT_PARSER.sniff(r) or STORAGE_PARSER.sniff(r) for r in records)


# --- Key Vault --------------------------------------------------------------------------


def test_it_maps_a_user_reading_a_secret() -> None:
    event = _vault("PT1H.json")[0]

    assert event.event_time == datetime(2024, 5, 14, 13, 20, 4, 183456, tzinfo=UTC)
    assert (event.action, event.category, event.outcome) == (
        "keyvault:SecretGet",
        "data_access",
        "success",
    )
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.actor_account == TENANT
    assert event.source_event_id == ""  # the log has no id of its own
    assert event.correlation_id == "6a1b2c3d-0000-4000-8000-00000000a001"
    assert event.source_address == "198.51.100.23"
    assert event.user_agent.startswith("azsdk-python-keyvault-secrets/4.7.0")
    # The version goes to attrs, so every read of the secret has one resource name.
    assert event.resource == f"{VAULT}/secrets/payroll-db-password"
    assert event.resource_type == "keyvault_secret"
    assert (event.credential_used, event.credential_issued) == ("", "")
    assert event.attrs == {
        "caller_object_id": ALICE_ID,
        "app_id": CLI_APP,
        "tenant_id": TENANT,
        "object_version": "4c39bacace9a49b2bd542ce61bd6f312",
        "http_status": "200",
        "access_policy_match": "false",
        "rbac_authorized": "true",
        "role_assignment_id": "5e6f7a8b9c0d4e1f8a2b3c4d5e6f7a8b",
    }


def test_it_names_a_managed_identity_only_when_the_token_says_so() -> None:
    managed, app = _vault("PT1H.json")[1:3]

    assert (managed.actor_principal, managed.actor_kind) == (VM_SP, "managed_identity")
    assert managed.attrs["app_id"] == VM_APP
    assert managed.attrs["managed_identity_resource_id"].endswith("/vm-reporting-01")
    assert managed.resource == f"{VAULT}/secrets/reporting-api-key"
    # An app-only token without xms_mirid: an application, named by its client id.
    assert (app.actor_principal, app.actor_kind) == (PAYROLL_APP, "service_principal")
    assert app.attrs["caller_object_id"] == PAYROLL_SP
    assert "managed_identity_resource_id" not in app.attrs
    assert app.attrs["access_policy_match"] == "true"


def test_it_records_a_denied_read_of_the_requested_secret() -> None:
    event = _vault("PT1H.json")[3]

    assert (event.category, event.outcome) == ("data_access", "failure")
    assert (event.actor_principal, event.actor_kind) == ("bob@example.com", "user")
    # Nothing was returned, so no id: the request URI names what was asked for.
    assert event.resource == f"{VAULT}/secrets/payroll-db-password"
    assert event.attrs["http_status"] == "403"
    assert event.attrs["access_policy_match"] == "false"
    assert event.attrs["error_code"] == "Forbidden"
    assert event.attrs["error_message"].startswith("Caller is not authorized")
    assert "object_version" not in event.attrs


def test_it_files_a_vault_update_as_a_permission_change_on_the_vault() -> None:
    event = _vault("PT1H.json")[4]

    assert (event.action, event.category) == ("keyvault:VaultPatch", "permission_change")
    assert event.actor_principal == "carol.admin@example.com"
    assert (event.resource, event.resource_type) == (VAULT, "keyvault_vault")
    assert event.user_agent == "azure-resource-manager/2.0"


def test_it_keeps_an_unauthenticated_request_without_an_actor() -> None:
    event = _vault("PT1H.json")[5]

    assert (event.action, event.category, event.outcome) == (
        "keyvault:Authentication",
        "authentication",
        "failure",
    )
    assert (event.actor_principal, event.actor_kind, event.actor_account) == ("", "unknown", "")
    assert (event.source_address, event.correlation_id, event.user_agent) == ("", "", "")
    assert event.attrs["http_status"] == "401"


def test_it_maps_listing_keys_certificates_and_notifications() -> None:
    listing, certificate, unwrap, notice = _vault("eventhub_keyvault.json")

    assert (listing.category, listing.resource, listing.resource_type) == (
        "other",
        f"{VAULT}/secrets",
        "keyvault_vault",
    )
    assert listing.source_address == "2001:db8:4a2f::9"
    assert (certificate.category, certificate.resource_type) == (
        "data_access",
        "keyvault_certificate",
    )
    assert certificate.actor_kind == "managed_identity"
    assert unwrap.action == "keyvault:KeyUnwrap"
    assert (unwrap.category, unwrap.resource) == ("data_access", f"{VAULT}/keys/payroll-export-kek")
    assert unwrap.actor_kind == "service_principal"
    assert notice.category == "other"
    assert (notice.actor_principal, notice.actor_kind, notice.user_agent) == ("", "unknown", "")
    assert notice.resource == f"{VAULT}/secrets/sftp-upload-password"


@pytest.mark.parametrize(
    ("operation", "category"),
    [
        ("SecretSet", "data_access"),
        ("SecretBackup", "data_access"),
        ("SecretPurge", "data_access"),
        ("SecretUpdate", "other"),
        ("SecretListVersions", "other"),
        ("KeySign", "data_access"),
        ("KeyRotationPolicyGet", "other"),
        ("CertificateImport", "data_access"),
        ("CertificatePolicyUpdate", "other"),
        ("VaultPut", "permission_change"),
        ("VaultGet", "other"),
        ("RoleAssignmentCreate", "permission_change"),
        ("VaultAccessPolicyChangedEventGridNotification", "other"),
    ],
)
def test_it_files_each_vault_operation(operation: str, category: str) -> None:
    assert KEYVAULT_PARSER.parse(_vault_record(operationName=operation)).category == category


@pytest.mark.parametrize(
    ("status", "signature", "result", "outcome"),
    [
        (200, "OK", "Success", "success"),
        (403, "Forbidden", "Success", "failure"),  # the HTTP status decides
        (None, "Unauthorized", "Success", "failure"),
        (None, "", "Success", "success"),
        (None, "", "Failure", "failure"),
        ("503", "", "", "failure"),
        (None, "", "", "unknown"),
    ],
)
def test_the_vault_outcome_follows_the_http_status(
    status: Any, signature: str, result: str, outcome: str
) -> None:
    record = _vault_record(resultSignature=signature, resultType=result)
    record["properties"]["httpStatusCode"] = status

    assert KEYVAULT_PARSER.parse(record).outcome == outcome


def test_a_delegated_token_without_a_name_is_the_user_it_was_issued_to() -> None:
    claims = {"oid": ALICE_ID, "appid": CLI_APP, "scp": "user_impersonation"}
    event = KEYVAULT_PARSER.parse(_vault_record(identity={"claim": claims}))

    assert (event.actor_principal, event.actor_kind) == (ALICE_ID, "user")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_vault_record(identity="alice@example.com"), "identity"),
        (_vault_record(identity={"claim": ["oid"]}), "identity.claim"),
        (_vault_record(identity={"claim": {"oid": {"v": 1}}}), "identity.claim.oid"),
        (_vault_record(properties=[]), "properties"),
        (_vault_record(time=None), "time"),
        (_vault_record(time="yesterday"), "time"),
        (_vault_record(operationName={"value": "SecretGet"}), "operationName"),
    ],
)
def test_a_wrong_typed_vault_field_is_named(record: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordError, match=f"'{field}'"):
        KEYVAULT_PARSER.parse(record)


# --- Storage ----------------------------------------------------------------------------


def test_it_maps_a_user_reading_a_blob_with_oauth() -> None:
    event = _storage("PT1H.json")[0]

    assert event.event_time == datetime(2024, 5, 14, 14, 20, 31, 441772, tzinfo=UTC)
    assert (event.action, event.category, event.outcome) == (
        "storage:GetBlob",
        "data_access",
        "success",
    )
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.actor_account == TENANT
    assert event.source_address == "198.51.100.23"  # without the port
    assert event.correlation_id == "b1c2d3e4-801e-0042-4ea6-772bbb000001"
    assert event.user_agent.startswith("AZURECLI/2.60.0")
    assert event.resource == f"{ACCOUNT}/payroll/2024-05/salaries.csv"
    assert event.resource_type == "storage_blob"
    assert event.credential_used == (
        "3F1A9C0E5B7D2468ACE13579BDF02468ACE13579BDF02468ACE13579BDF0A1B2"
    )
    assert event.attrs == {
        "auth_type": "OAuth",
        "caller_object_id": ALICE_ID,
        "app_id": CLI_APP,
        "tenant_id": TENANT,
        "principal_type": "User",
        "storage_account": "sthrexports01",
        "http_status": "200",
        "role_assignment_id": "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
        "authorization_result": "Granted",
    }


def test_it_names_the_application_of_an_app_only_write() -> None:
    event = _storage("PT1H.json")[1]

    assert (event.action, event.category) == ("storage:PutBlob", "data_access")
    assert (event.actor_principal, event.actor_kind) == (PAYROLL_APP, "service_principal")
    assert event.attrs["caller_object_id"] == PAYROLL_SP
    assert event.attrs["principal_type"] == "ServicePrincipal"
    assert event.source_address == "192.0.2.15"


def test_a_sas_an_account_key_and_an_anonymous_read_name_no_one() -> None:
    sas, key, anonymous = _storage("PT1H.json")[2:]

    assert (sas.actor_principal, sas.actor_kind, sas.attrs["auth_type"]) == ("", "unknown", "SAS")
    assert sas.outcome == "success"  # statusText SASSuccess with status 200
    assert sas.credential_used.startswith("key1(") and "SasSignature(" in sas.credential_used
    assert (key.actor_principal, key.actor_kind) == ("", "unknown")
    assert key.attrs["auth_type"] == "AccountKey"
    assert key.category == "data_access"
    assert key.credential_used == sas.credential_used.split(",")[0]  # the same account key
    assert (anonymous.actor_principal, anonymous.actor_kind) == ("", "anonymous")
    assert anonymous.credential_used == ""
    assert anonymous.resource == f"{ACCOUNT}/public-assets/logo.png"
    for event in (sas, key, anonymous):
        assert not {"caller_object_id", "app_id", "tenant_id"} & set(event.attrs)
        assert event.actor_account == ""


def test_it_maps_ipv6_callers_a_denied_read_and_a_listing() -> None:
    managed, denied, listing, bare = _storage("eventhub_storage.json")

    assert managed.source_address == "2001:db8:4a2f::21"
    # Storage does not say whether an application is a managed identity.
    assert (managed.actor_principal, managed.actor_kind) == (VM_APP, "service_principal")
    assert denied.source_address == "2001:db8:4a2f::9"
    assert (denied.outcome, denied.actor_principal) == ("failure", "bob@example.com")
    assert denied.attrs["authorization_result"] == "Denied"
    assert denied.attrs["error_code"] == "AuthorizationPermissionMismatch"
    assert "role_assignment_id" not in denied.attrs
    assert (listing.action, listing.category) == ("storage:ListBlobs", "other")
    assert (listing.resource, listing.resource_type) == (f"{ACCOUNT}/payroll", "storage_container")
    # No account name, service type or object key: the URI names the blob, decoded.
    assert bare.resource == f"{ACCOUNT}/payroll/2024-04/salaries final.csv"
    assert (bare.outcome, bare.actor_kind, bare.source_address) == ("unknown", "unknown", "")
    assert bare.user_agent.startswith("WA-Storage/6.2.0 (")  # quotes stripped
    assert bare.attrs == {}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.15:44120", "192.0.2.15"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7:50312", "2001:db8::7"),
        ("<Redacted>:62289", ""),
        ("", ""),
        ("192.0.2.15", "192.0.2.15"),
    ],
)
def test_the_storage_caller_address_loses_its_port(address: str, expected: str) -> None:
    event = STORAGE_PARSER.parse(_storage_record(callerIpAddress=address))

    assert event.source_address == expected


@pytest.mark.parametrize(
    ("status", "text", "outcome"),
    [
        (206, "Success", "success"),
        (304, "Success", "success"),
        (404, "BlobNotFound", "failure"),
        (500, "ServerTimeoutError", "failure"),
        ("Unknown", "AnonymousSuccess", "success"),
        ("Unknown", "Failure", "failure"),
        ("Unknown", "NetworkError", "unknown"),
    ],
)
def test_the_storage_outcome_follows_status_code_then_text(
    status: Any, text: str, outcome: str
) -> None:
    event = STORAGE_PARSER.parse(_storage_record(statusCode=status, statusText=text))

    assert event.outcome == outcome


@pytest.mark.parametrize(
    ("operation", "object_key", "category", "resource", "resource_type"),
    [
        ("GetBlobProperties", "/sthrexports01/hr/a.csv", "other", "/hr/a.csv", "storage_blob"),
        ("DeleteBlob", "/sthrexports01/hr/a.csv", "data_access", "/hr/a.csv", "storage_blob"),
        ("SetContainerACL", "/sthrexports01/hr", "permission_change", "/hr", "storage_container"),
        ("ListContainers", "/sthrexports01", "other", "", "storage_account"),
    ],
)
def test_it_files_each_storage_operation(
    operation: str, object_key: str, category: str, resource: str, resource_type: str
) -> None:
    record = _storage_record(operationName=operation)
    record["properties"]["objectKey"] = object_key
    event = STORAGE_PARSER.parse(record)

    assert (event.category, event.resource, event.resource_type) == (
        category,
        ACCOUNT + resource,
        resource_type,
    )


def test_a_sovereign_cloud_account_keeps_its_endpoint_suffix() -> None:
    record = _storage_record(uri="https://sthr.blob.core.chinacloudapi.cn:443/c/b.csv")
    record["properties"] |= {"accountName": "sthr", "objectKey": "/sthr/c/b.csv"}

    assert (
        STORAGE_PARSER.parse(record).resource == "https://sthr.blob.core.chinacloudapi.cn/c/b.csv"
    )


def test_a_kerberos_caller_is_a_user_and_an_untyped_requester_is_a_token() -> None:
    kerberos = _storage_record(identity={"type": "Kerberos", "requester": {"objectId": ALICE_ID}})
    untyped = _storage_record(identity={"requester": {"appId": PAYROLL_APP}})

    assert STORAGE_PARSER.parse(kerberos).actor_kind == "user"
    assert STORAGE_PARSER.parse(untyped).actor_kind == "service_principal"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_storage_record(identity="OAuth"), "identity"),
        (_storage_record(identity={"type": "OAuth", "requester": "alice"}), "identity.requester"),
        (_storage_record(identity={"type": ["OAuth"]}), "identity.type"),
        (
            _storage_record(identity={"authorization": {"result": "Granted"}}),
            "identity.authorization",
        ),
        (_storage_record(identity={"authorization": ["Granted"]}), "identity.authorization[0]"),
        (
            _storage_record(identity={"authorization": [{"principals": ["x"]}]}),
            "identity.authorization[0].principals[0]",
        ),
        (_storage_record(properties="blob"), "properties"),
        (_storage_record(callerIpAddress={"ip": "192.0.2.1"}), "callerIpAddress"),
        (_storage_record(time=12.5e20), "time"),
    ],
)
def test_a_wrong_typed_storage_field_is_named(record: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{field}'")):
        STORAGE_PARSER.parse(record)


def test_neither_parser_claims_the_other_or_a_record_without_a_resource_id() -> None:
    vault = sample_records("azure_keyvault", "PT1H.json")[0]
    blob = sample_records("azure_storage", "PT1H.json")[0]

    assert not STORAGE_PARSER.sniff(vault) and not KEYVAULT_PARSER.sniff(blob)
    assert not KEYVAULT_PARSER.sniff({k: v for k, v in vault.items() if k != "resourceId"})
    assert not STORAGE_PARSER.sniff({**blob, "resourceId": None})


def test_a_request_uri_urllib_refuses_is_kept_out_of_the_resource_not_the_record() -> None:
    # An unbalanced "[" in the host: urlsplit raises, and the record used to be quarantined.
    odd = "https://contoso-pii[.vault.azure.net/secrets/payroll-db-password?api-version=7.4"
    record = _vault_record()
    record["properties"]["requestUri"] = odd
    event = KEYVAULT_PARSER.parse(record)
    assert event.action == "keyvault:SecretGet"
    assert event.resource != odd
    storage = _storage_record()
    storage["uri"] = "https://[examplestorage.blob.core.windows.net/exports/customers.csv"
    assert STORAGE_PARSER.parse(storage).action


def test_a_copy_source_named_by_its_url_is_the_blob_without_its_token() -> None:
    # CopyBlobSource: objectKey holds the source's URL as the copy request gave it.
    record = _storage_record(
        operationName="CopyBlobSource",
        uri="https://stdest.blob.core.windows.net/backup/a.txt",
    )
    record["properties"] |= {
        "accountName": "sthrexports01",
        "objectKey": "https://sthrexports01.blob.core.windows.net/src/pay%20roll.csv"
        "?sv=2018-11-09&sr=b&sig=SECRETSIGNATURE",
    }

    event = STORAGE_PARSER.parse(record)

    assert event.resource == f"{ACCOUNT}/src/pay roll.csv"
    assert "SECRET" not in event.resource
