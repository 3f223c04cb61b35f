"""Google Cloud: delegation chains, service accounts and their long-lived keys."""

from __future__ import annotations

from typing import Any

from forensics.engine.correlation import Alias, Directory, DirectoryIdentity
from forensics.engine.model import DATA_ACCESS
from tests.engine.correlation.builders import aliases, evidence, minutes, normalized, run

LOADER = "etl-loader@analytics-example.iam.gserviceaccount.com"
READER = "pii-reader@analytics-example.iam.gserviceaccount.com"
OBJECT = "gs://crm-exports-example/customers/2026-03-01.csv"


def _read(key: str, principal: str, kind: str, **attrs: Any) -> Any:
    fields: dict[str, Any] = {
        "category": DATA_ACCESS,
        "action": "storage.objects.get",
        "actor_principal": principal,
        "actor_kind": kind,
        "actor_account": "analytics-example",
        "resource": OBJECT,
        "resource_type": "gcs_bucket",
        "attrs": {"event_source": "storage.googleapis.com", "log_name": "data_access", **attrs},
    }
    key_name = attrs.get("service_account_key_name", "")
    if key_name:
        fields["credential_used"] = key_name.rsplit("/", 1)[-1]
    return normalized("gcp_audit", key, minutes(1), **fields)


def test_it_attributes_chained_impersonation_to_the_user_at_its_start() -> None:
    event = _read("read", READER, "service_account", delegation_chain=["alice@example.com", LOADER])
    result = run([event])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {"email:alice@example.com"}
    assert [h.principal for h in result.hops] == [LOADER, READER]
    assert evidence(result) == [("impersonation", "asserted", "read")] * 2


def test_it_accepts_prefixed_members_and_a_chain_that_repeats_the_caller() -> None:
    event = _read(
        "read",
        READER,
        "service_account",
        delegation_chain=["user:Alice@Example.com", f"serviceAccount:{LOADER}", READER],
    )
    result = run([event])["read"]
    assert aliases(result) == {"email:alice@example.com"}
    assert [h.principal for h in result.hops] == [LOADER, READER]


def test_it_does_not_shift_the_origin_when_the_chain_hides_its_first_caller() -> None:
    event = _read("read", READER, "service_account", delegation_chain=["", LOADER])
    result = run([event])["read"]
    assert (result.status, result.reason) == ("unattributed", "unknown_principal")


def test_it_attributes_a_service_account_acting_alone_to_itself() -> None:
    result = run([_read("read", LOADER, "service_account")])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"gcp_service_account:{LOADER}"}
    assert result.hops == ()


def test_it_notes_a_long_lived_key_and_refuses_it_when_the_account_is_shared() -> None:
    key_name = (
        "//iam.googleapis.com/projects/analytics-example/"
        f"serviceAccounts/{LOADER}/keys/0123456789abcdef"
    )
    event = _read("read", LOADER, "service_account", service_account_key_name=key_name)
    unshared = run([event])["read"]
    assert unshared.status == "attributed"
    assert "long-lived key" in unshared.explanation
    directory = Directory(
        [
            DirectoryIdentity(
                "id-etl",
                "workload",
                "ETL loader",
                shared=True,
                owner="data-platform",
                aliases=(Alias("gcp_service_account", LOADER),),
            )
        ]
    )
    shared = run([event], directory)["read"]
    assert (shared.status, shared.reason) == ("unattributed", "long_lived_shared_key")
    keyless = run([_read("read", LOADER, "service_account")], directory)["read"]
    assert keyless.reason == "shared_account"


def test_it_attributes_a_user_to_their_email() -> None:
    result = run([_read("read", "Bob@Example.com", "user")])["read"]
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {"email:bob@example.com"}


def test_it_maps_gke_workload_identity_to_the_kubernetes_service_account() -> None:
    principal = (
        "principal://iam.googleapis.com/projects/123456789012/locations/global/"
        "workloadIdentityPools/analytics-example.svc.id.goog/subject/ns/etl/sa/loader"
    )
    result = run([_read("read", principal, "service_account")])["read"]
    assert aliases(result) == {"k8s_service_account:system:serviceaccount:etl:loader"}


def test_it_reports_all_users_access_as_anonymous() -> None:
    result = run([_read("read", "", "anonymous")])["read"]
    assert (result.status, result.reason) == ("unattributed", "anonymous")


def test_it_names_federated_pool_subjects_by_pool_and_subject() -> None:
    pool = "iam.googleapis.com/locations/global/workforcePools/partners"
    result = run([_read("read", f"principal://{pool}/subject/u-8812", "federated_session")])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {f"web_identity:{pool}|u-8812"}


def test_it_does_not_name_a_principal_set() -> None:
    principal = "principalSet://iam.googleapis.com/locations/global/workforcePools/partners/group/x"
    result = run([_read("read", principal, "federated_session")])["read"]
    assert (result.status, result.reason) == ("unattributed", "unknown_principal")


def test_a_google_service_acting_for_a_user_is_attributed_to_the_user() -> None:
    agent = "bqcx-1234-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com"
    event = _read("read", agent, "service", original_principal="user:Alice@Example.com")
    result = run([event])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {"email:alice@example.com"}
    assert [h.principal for h in result.hops] == [agent]
    assert evidence(result) == [("service", "asserted", "read")]


def test_a_service_that_names_itself_as_the_original_is_its_own_origin() -> None:
    result = run([_read("read", LOADER, "service_account", original_principal=LOADER)])["read"]
    assert aliases(result) == {f"gcp_service_account:{LOADER}"}
    assert result.hops == ()


def test_a_gke_control_plane_component_is_the_workload_the_cluster_log_names() -> None:
    result = run([_read("read", "system:addon-manager", "service")])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {"k8s_user:system:addon-manager"}


def test_a_masked_caller_is_no_one() -> None:
    # Sanitized exports mask the principal; every such entry naming "one person" would
    # join unrelated callers into one identity.
    result = run([_read("read", "xxx@xxx.xxx", "user")])["read"]
    assert (result.status, result.reason) == ("unattributed", "unknown_principal")


def test_a_google_service_agent_handing_out_a_vms_token_is_not_its_origin() -> None:
    # Compute Engine's agent hands a VM its attached account's token; whoever ran on the VM
    # acted, not the agent: the chain starts at the account.
    vm_account = "123456789012-compute@developer.gserviceaccount.com"
    agent = "service-123456789012@compute-system.iam.gserviceaccount.com"
    result = run([_read("read", vm_account, "service_account", delegation_chain=[agent])])["read"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"gcp_service_account:{vm_account}"}
    assert result.hops == ()
    assert agent in (result.explanation or "")


def test_a_caller_the_log_types_a_service_account_is_a_workload_whatever_its_domain() -> None:
    # A re-domained export keeps principalSubject "serviceAccount:...": the parser types the
    # caller, and the chain roots a workload, not a person.
    account = "111111111111-compute@example.com"
    result = run([_read("read", account, "service_account")])["read"]
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"gcp_service_account:{account}"}
