from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import NormalizedEvent, RecordError
from forensics.engine.parsers.gcp_audit import PARSER, actor_kind, delegation_chain
from tests.engine.parsers.foreign import sample_records

ALICE = "alice@example.com"
SA_DEPLOYER = "sa-deployer@example-ops.iam.gserviceaccount.com"
SA_EXPORTS = "sa-exports@example-data.iam.gserviceaccount.com"
WIF_PRINCIPAL = (
    "principal://iam.googleapis.com/projects/123456789012/locations/global/"
    "workloadIdentityPools/github-actions/subject/repo:example-org/payroll-sync:ref:refs/heads/main"
)


def _events(name: str) -> list[NormalizedEvent]:
    return [PARSER.parse(record) for record in sample_records("gcp_audit", name)]


def _sink() -> list[NormalizedEvent]:
    return _events("cloudaudit_sink.jsonl")


def _entry(**payload: Any) -> dict[str, Any]:
    """A minimal Data Access LogEntry with the given protoPayload members."""
    return {
        "insertId": "abc123",
        "logName": "projects/example-ops/logs/cloudaudit.googleapis.com%2Fdata_access",
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", **payload},
        "resource": {"type": "gcs_bucket", "labels": {"project_id": "example-ops"}},
        "timestamp": "2024-03-12T09:15:02.118542907Z",
    }


def test_it_reads_every_line_of_a_sink_file() -> None:
    records = sample_records("gcp_audit", "cloudaudit_sink.jsonl")

    assert len(records) == 12
    assert all(PARSER.sniff(r) for r in records)
    assert [e.source_event_id for e in _sink()][:3] == [
        "1q8x2f9e4kd7",
        "-w3k8z7e1b2c",
        "9d2b7a0e5f1c3",
    ]


def test_it_reads_the_gcloud_json_array() -> None:
    events = _events("gcloud_logging_read.json")

    assert [e.action for e in events] == [
        "storage.objects.list",
        "GenerateAccessToken",
        "GenerateIdToken",
        "google.iam.admin.v1.SetIAMPolicy",
    ]
    assert all(e.source_kind == "gcp_audit" for e in events)


def test_it_keeps_nanosecond_timestamps_as_utc_microseconds() -> None:
    event = _sink()[2]

    assert event.event_time == datetime(2024, 3, 12, 9, 15, 2, 118542, tzinfo=UTC)


def test_it_attributes_the_impersonation_chain_from_the_original_caller() -> None:
    read = _sink()[2]

    assert read.actor_principal == SA_EXPORTS
    assert read.actor_kind == "service_account"
    assert read.attrs["delegation_chain"] == [ALICE, SA_DEPLOYER]
    assert read.category == "data_access"
    assert read.resource == "gs://example-customer-exports/2024/03/customers-eu.csv"
    assert read.resource_type == "gcs_bucket"
    assert read.source_address == "2001:db8:4f2a::17"
    assert read.actor_account == "example-data"


def test_it_records_each_impersonation_step_as_a_credential_issue() -> None:
    first, second = _sink()[:2]

    assert (first.actor_principal, first.issued_principal) == (ALICE, SA_DEPLOYER)
    assert (second.actor_principal, second.issued_principal) == (SA_DEPLOYER, SA_EXPORTS)
    assert second.attrs["delegation_chain"] == [ALICE]
    for event in (first, second):
        assert event.category == "credential_issue"
        assert event.issue_method == "impersonation"
        assert event.credential_issued == ""  # the token itself is never logged
        assert event.attrs["event_source"] == "iamcredentials.googleapis.com"
        assert event.attrs["log_name"] == "data_access"


def test_it_names_the_target_by_email_even_when_the_resource_is_a_unique_id() -> None:
    record = _entry(
        serviceName="iamcredentials.googleapis.com",
        methodName="GenerateAccessToken",
        resourceName="projects/-/serviceAccounts/104729384756102938475",
        authenticationInfo={"principalEmail": ALICE},
    )
    record["resource"] = {
        "type": "service_account",
        "labels": {"email_id": SA_DEPLOYER, "project_id": "example-ops"},
    }

    assert PARSER.parse(record).issued_principal == SA_DEPLOYER
    del record["resource"]["labels"]["email_id"]
    assert PARSER.parse(record).issued_principal == "104729384756102938475"


def test_it_lists_the_delegates_of_a_delegated_request() -> None:
    id_token = _events("gcloud_logging_read.json")[2]

    assert id_token.category == "credential_issue"
    assert id_token.actor_principal == "carol@example.com"
    assert id_token.issued_principal == "payroll-invoker@example-ops.iam.gserviceaccount.com"
    assert id_token.attrs["delegates"] == ["sa-jump@example-ops.iam.gserviceaccount.com"]


def test_it_uses_the_key_id_of_a_user_managed_key_as_the_credential() -> None:
    secret_read = _sink()[3]

    assert secret_read.credential_used == "3f1c9e07b2d84a6c5e0f1a2b3c4d5e6f708192a3"
    assert secret_read.attrs["service_account_key_name"].startswith(
        "//iam.googleapis.com/projects/example-ops/serviceAccounts/ci-runner@"
    )
    assert secret_read.category == "data_access"
    # Not an address: what callerIp says for a VM without one, from another project.
    assert secret_read.source_address == ""
    assert secret_read.attrs["caller_ip"] == "gce-internal-ip"


def test_it_names_bigquery_tables_canonically() -> None:
    query_read = _sink()[4]

    assert query_read.resource == "bq://example-analytics/crm/customers"
    assert query_read.category == "data_access"
    assert query_read.actor_kind == "user"
    assert query_read.attrs["permissions"] == ["bigquery.tables.getData"]
    assert query_read.attrs["granted"] == "true"


def test_it_counts_bigquery_table_reads_without_a_permission_type_as_data_access() -> None:
    record = _entry(
        serviceName="bigquery.googleapis.com",
        methodName="google.cloud.bigquery.v2.JobService.InsertJob",
        resourceName="projects/example-analytics/datasets/crm/tables/customers",
        authenticationInfo={"principalEmail": "bob@example.com"},
        metadata={"tableDataRead": {"reason": "JOB"}},
    )

    assert PARSER.parse(record).category == "data_access"
    record["logName"] = "projects/example-ops/logs/cloudaudit.googleapis.com%2Factivity"
    assert PARSER.parse(record).category == "other"


def test_it_records_set_iam_policy_as_a_permission_change() -> None:
    grant = _sink()[5]
    sa_grant = _events("gcloud_logging_read.json")[3]

    assert grant.category == "permission_change"
    assert grant.attrs["log_name"] == "activity"
    assert grant.event_time == datetime(2024, 3, 11, 16, 40, 12, 330000, tzinfo=UTC)
    assert sa_grant.category == "permission_change"


def test_it_records_the_workload_identity_token_exchange() -> None:
    exchange, impersonation, write = _sink()[6:9]

    assert exchange.category == "credential_issue"
    assert exchange.issue_method == "token-exchange"
    assert exchange.actor_principal == "repo:example-org/payroll-sync:ref:refs/heads/main"
    assert exchange.actor_kind == "federated_session"
    assert exchange.issued_principal == WIF_PRINCIPAL
    assert exchange.attrs["federation_subject"] == exchange.actor_principal
    assert exchange.attrs["federation_audience"].endswith("/providers/github")

    assert impersonation.actor_principal == WIF_PRINCIPAL
    assert impersonation.actor_kind == "federated_session"
    assert impersonation.issued_principal == "payroll-sync@example-ops.iam.gserviceaccount.com"

    assert write.attrs["delegation_chain"] == [WIF_PRINCIPAL]
    assert write.category == "data_access"
    assert write.resource == "gs://example-payroll-inbox/runs/2024-03-12/payslips.parquet"


def test_it_does_not_name_a_caller_the_entry_leaves_out() -> None:
    refused = _sink()[9]

    assert refused.actor_principal == ""
    assert refused.actor_kind == "unknown"
    assert refused.outcome == "failure"
    assert refused.attrs["error_code"] == "7"
    assert refused.attrs["granted"] == "false"


def test_it_marks_an_unauthenticated_caller_anonymous() -> None:
    anonymous = _sink()[10]

    assert anonymous.actor_principal == ""
    assert anonymous.actor_kind == "anonymous"
    assert anonymous.outcome == "failure"


@pytest.mark.parametrize("marker", ["*****", "REDACTED", "HIDDEN_DUE_TO_SECURITY_REASONS"])
def test_it_treats_a_redacted_principal_as_unknown(marker: str) -> None:
    record = _entry(authenticationInfo={"principalEmail": marker}, methodName="storage.objects.get")

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")


def test_it_falls_back_to_the_principal_subject() -> None:
    record = _entry(authenticationInfo={"principalSubject": "serviceAccount:" + SA_EXPORTS})

    event = PARSER.parse(record)

    assert event.actor_principal == "serviceAccount:" + SA_EXPORTS
    assert event.actor_kind == "service_account"
    assert event.attrs["principal_subject"] == "serviceAccount:" + SA_EXPORTS


@pytest.mark.parametrize(
    ("principal", "kind"),
    [
        ("alice@example.com", "user"),
        ("user:alice@example.com", "user"),
        ("sa-exports@example-data.iam.gserviceaccount.com", "service_account"),
        ("123456789012-compute@developer.gserviceaccount.com", "service_account"),
        ("service-123456789012@container-engine-robot.iam.gserviceaccount.com", "service"),
        ("service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com", "service"),
        ("123456789012@cloudservices.gserviceaccount.com", "service"),
        ("cloud-logs@system.gserviceaccount.com", "service"),
        (WIF_PRINCIPAL, "federated_session"),
        (
            "principal://iam.googleapis.com/projects/123456789012/locations/global/"
            "workloadIdentityPools/example-ops.svc.id.goog/subject/ns/payments/sa/billing-api",
            "service_account",
        ),
        ("serviceAccount:example-ops.svc.id.goog[payments/billing-api]", "service_account"),
        ("system:serviceaccount:payments:billing-api", "service_account"),
        ("system:anonymous", "anonymous"),
        ("", "unknown"),
    ],
)
def test_it_classifies_principals(principal: str, kind: str) -> None:
    assert actor_kind(principal) == kind


def test_it_classifies_the_gke_service_agent_as_a_service() -> None:
    agent = _sink()[11]

    assert agent.actor_kind == "service"
    # A call inside Google's network: callerIp names no address.
    assert (agent.source_address, agent.attrs["caller_ip"]) == ("", "private")
    assert agent.request_id == "operation-1710253207198-613f2a9c1e4d5-5b2e9a1c-7d3f4e21"
    assert agent.category == "other"


def test_it_puts_the_human_origin_first_whichever_way_the_entries_run() -> None:
    newest_first = [
        {"firstPartyPrincipal": {"principalEmail": SA_DEPLOYER}},
        {"firstPartyPrincipal": {"principalEmail": ALICE}},
    ]

    assert delegation_chain(newest_first) == [ALICE, SA_DEPLOYER]
    assert delegation_chain(newest_first[::-1]) == [ALICE, SA_DEPLOYER]


def test_it_keeps_an_unnamed_delegator_in_its_place() -> None:
    entries = [
        {"firstPartyPrincipal": {"principalEmail": SA_DEPLOYER}},
        {"thirdPartyPrincipal": {"thirdPartyClaims": {}}},
    ]

    # The origin is not named: the chain must not make sa-deployer the origin.
    assert delegation_chain(entries) == ["", SA_DEPLOYER]
    # Listed the other way round, the unnamed entry is the nearest delegator, not the origin.
    assert delegation_chain(entries[::-1]) == [SA_DEPLOYER, ""]


def test_it_reads_a_refused_impersonation_without_a_caller() -> None:
    refused = _events("gcloud_logging_read.json")[1]

    assert refused.category == "credential_issue"
    assert refused.outcome == "failure"
    assert refused.actor_kind == "unknown"
    assert refused.issued_principal == SA_DEPLOYER
    assert refused.attrs["granted"] == "false"


def test_it_reads_the_status_code_written_as_text() -> None:
    record = _entry(status={"code": "5", "message": "NOT_FOUND"})

    event = PARSER.parse(record)

    assert event.outcome == "failure"
    assert (event.attrs["error_code"], event.attrs["error_message"]) == ("5", "NOT_FOUND")
    record["protoPayload"]["status"] = {"code": 0}
    assert PARSER.parse(record).outcome == "success"


def test_it_reads_unencoded_audit_log_names() -> None:
    record = _entry()
    record["logName"] = "organizations/123456789012/logs/cloudaudit.googleapis.com/policy"

    assert PARSER.parse(record).attrs["log_name"] == "policy"


def test_it_reads_gke_kubernetes_calls() -> None:
    secret_read = _entry(
        serviceName="k8s.io",
        methodName="io.k8s.core.v1.secrets.get",
        resourceName="core/v1/namespaces/payments/secrets/db-credentials",
        authenticationInfo={"principalEmail": "system:serviceaccount:payments:billing-api"},
    )
    token = _entry(
        serviceName="k8s.io",
        methodName="io.k8s.core.v1.serviceaccounts.token.create",
        resourceName="core/v1/namespaces/ci/serviceaccounts/ci-bot/token",
        authenticationInfo={"principalEmail": "alice@example.com"},
    )
    binding = _entry(
        serviceName="k8s.io",
        methodName="io.k8s.authorization.rbac.v1.clusterrolebindings.create",
        resourceName="rbac.authorization.k8s.io/v1/clusterrolebindings/readers",
    )

    read = PARSER.parse(secret_read)
    issue = PARSER.parse(token)

    assert (read.category, read.actor_kind) == ("data_access", "service_account")
    assert issue.category == "credential_issue"
    assert issue.issued_principal == "system:serviceaccount:ci:ci-bot"
    assert PARSER.parse(binding).category == "permission_change"
    # Objects are named as the cluster's own audit log names them.
    assert (read.resource, read.resource_type) == (
        "k8s://payments/secrets/db-credentials",
        "secrets",
    )
    assert issue.resource == "k8s://ci/serviceaccounts/token/ci-bot"
    assert PARSER.parse(binding).resource == "k8s://_cluster/clusterrolebindings/readers"
    shell = _entry(
        serviceName="k8s.io",
        methodName="io.k8s.core.v1.pods.exec.create",
        resourceName="core/v1/namespaces/payments/pods/billing-api-7d9f/exec",
    )
    shell["resource"] = {
        "type": "k8s_cluster",
        "labels": {"cluster_name": "prod-eu", "location": "europe-west1", "project_id": "p"},
    }
    opened = PARSER.parse(shell)
    assert (opened.category, opened.resource) == (
        "data_access",
        "k8s://payments/pods/exec/billing-api-7d9f",
    )
    assert opened.attrs["cluster_name"] == "prod-eu"


def test_it_tolerates_an_entry_with_almost_nothing() -> None:
    record = {
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog"},
        "timestamp": "2024-03-12T09:15:02Z",
        "resource": None,
        "operation": None,
    }

    event = PARSER.parse(record)

    assert (event.category, event.outcome, event.actor_kind) == ("other", "success", "unknown")
    assert (event.source_event_id, event.resource, event.actor_account) == ("", "", "")
    assert event.attrs == {}


def test_it_keeps_a_number_where_text_is_expected() -> None:
    record = _entry(requestMetadata={"callerIp": "203.0.113.7", "callerSuppliedUserAgent": 42})

    assert PARSER.parse(record).user_agent == "42"


def test_it_names_the_timestamp_when_the_time_is_missing() -> None:
    record = _entry()
    del record["timestamp"]

    with pytest.raises(RecordError, match="'timestamp'"):
        PARSER.parse(record)


def test_it_names_the_timestamp_when_the_time_is_garbage() -> None:
    record = _entry()
    record["timestamp"] = "yesterday"

    with pytest.raises(RecordError, match="'timestamp'"):
        PARSER.parse(record)


def test_it_names_authentication_info_when_it_is_not_an_object() -> None:
    record = _entry(authenticationInfo="alice@example.com")

    with pytest.raises(RecordError, match=r"'protoPayload\.authenticationInfo'"):
        PARSER.parse(record)


def test_it_names_the_principal_email_when_it_is_wrong_typed() -> None:
    record = _entry(authenticationInfo={"principalEmail": ["alice@example.com"]})

    with pytest.raises(RecordError, match="principalEmail"):
        PARSER.parse(record)


def test_it_names_the_payload_when_there_is_none() -> None:
    record = _entry()
    del record["protoPayload"]

    with pytest.raises(RecordError, match="'protoPayload'"):
        PARSER.parse(record)


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        PARSER.parse(["not", "an", "entry"])  # type: ignore[arg-type]


def test_sniff_accepts_audit_log_entries() -> None:
    by_type = _entry()
    by_log_name = copy.deepcopy(by_type)
    del by_log_name["protoPayload"]["@type"]

    assert PARSER.sniff(by_type)
    assert PARSER.sniff(by_log_name)


# --- BigQuery sink exports ----------------------------------------------------------------


def test_it_reads_bigquery_rows_as_the_entries_they_were_made_from() -> None:
    # The same three entries as the sink file's first lines, routed to BigQuery instead:
    # payload renamed, request and metadata as JSON text, times as BigQuery writes them.
    rows = sample_records("gcp_audit", "bigquery_export.jsonl")

    assert all(PARSER.sniff(row) and "protoPayload" not in row for row in rows)
    assert _events("bigquery_export.jsonl") == _sink()[:3]


def test_it_follows_the_impersonation_chain_of_a_bigquery_row() -> None:
    read = _events("bigquery_export.jsonl")[2]

    assert read.event_time == datetime(2024, 3, 12, 9, 15, 2, 118542, tzinfo=UTC)
    assert read.actor_principal == SA_EXPORTS
    assert read.attrs["delegation_chain"] == [ALICE, SA_DEPLOYER]
    assert read.resource == "gs://example-customer-exports/2024/03/customers-eu.csv"


def test_it_keeps_a_bigquery_row_whose_request_text_does_not_decode() -> None:
    row = copy.deepcopy(sample_records("gcp_audit", "bigquery_export.jsonl")[0])
    row["protopayload_auditlog"]["requestJson"] = '{"name": "projects/-/serviceAc'

    event = PARSER.parse(row)

    assert event.actor_principal == ALICE
    assert event.issued_principal == _sink()[0].issued_principal


def test_it_names_the_bigquery_column_it_cannot_read() -> None:
    row = copy.deepcopy(sample_records("gcp_audit", "bigquery_export.jsonl")[0])
    row["protopayload_auditlog"]["authenticationInfo"] = "alice@example.com"

    with pytest.raises(RecordError, match=re.escape("'protopayload_auditlog.authenticationInfo'")):
        PARSER.parse(row)


def test_entries_published_to_pubsub_read_as_the_sink_writes_them() -> None:
    from forensics.engine.parsers.gcp_audit import PARSER as GCP

    pushed = [GCP.parse(r) for r in sample_records("gcp_audit", "pubsub_push.jsonl")]
    sunk = [GCP.parse(r) for r in sample_records("gcp_audit", "cloudaudit_sink.jsonl")][:3]
    assert pushed == sunk


def test_entries_as_the_logging_api_and_a_pubsub_pull_answer_read_as_the_sink_writes_them() -> None:
    sunk = [PARSER.parse(r) for r in sample_records("gcp_audit", "cloudaudit_sink.jsonl")]
    listed = [PARSER.parse(r) for r in sample_records("gcp_audit", "logging_api_entries.json")]
    pulled = [PARSER.parse(r) for r in sample_records("gcp_audit", "pubsub_pull.json")]
    assert listed == sunk[3:6]
    assert pulled == sunk[:2]


def test_an_entry_of_another_log_in_the_same_export_is_refused_by_its_type() -> None:
    # gcloud logging read returns every log the filter matched: an App Engine request log
    # carries a status and a principal that mean nothing an audit log's would.
    entry = _entry(status={"code": 403}, methodName="GET")
    entry["protoPayload"]["@type"] = "type.googleapis.com/google.appengine.logging.v1.RequestLog"
    with pytest.raises(RecordError, match=r"protoPayload\.@type is .*RequestLog.*not an audit"):
        PARSER.parse(entry)
    untyped = _entry(methodName="storage.objects.get")
    del untyped["protoPayload"]["@type"]
    assert PARSER.parse(untyped).action == "storage.objects.get"


def test_it_keeps_whom_a_google_service_acted_for() -> None:
    agent = "bqcx-1234-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com"
    record = _entry(
        serviceName="bigquery.googleapis.com",
        methodName="google.cloud.bigquery.v2.TableDataService.List",
        authenticationInfo={
            "principalEmail": agent,
            "serviceDelegationHistory": {
                "originalPrincipal": "user:alice@example.com",
                "serviceMetadata": [
                    {
                        "principalSubject": f"serviceAccount:{agent}",
                        "serviceDomain": "bigquery.googleapis.com",
                    },
                    {"serviceDomain": ""},
                    "not an object",
                ],
            },
        },
    )

    event = PARSER.parse(record)

    assert event.actor_principal == agent
    assert event.attrs["original_principal"] == "user:alice@example.com"
    assert event.attrs["delegating_services"] == ["bigquery.googleapis.com"]


@pytest.mark.parametrize("history", [{}, {"originalPrincipal": ""}, {"serviceMetadata": []}])
def test_a_delegation_history_without_its_original_principal_adds_nothing(history) -> None:
    record = _entry(
        authenticationInfo={
            "principalEmail": "alice@example.com",
            "serviceDelegationHistory": history,
        }
    )

    attrs = PARSER.parse(record).attrs

    assert "original_principal" not in attrs and "delegating_services" not in attrs


@pytest.mark.parametrize(
    ("payload", "value"), [("jsonPayload", {"message": "started"}), ("textPayload", "started")]
)
def test_another_logs_entry_is_refused_as_what_it_is(payload: str, value: Any) -> None:
    record = {
        "insertId": "app-1",
        "logName": "projects/example-ops/logs/my%2Fapp",
        payload: value,
        "resource": {"type": "global", "labels": {"project_id": "example-ops"}},
        "timestamp": "2024-03-12T09:15:02Z",
    }

    with pytest.raises(
        RecordError,
        match=rf"not an audit log entry: it has {payload}, not protoPayload "
        r"\(log 'projects/example-ops/logs/my/app'\)",
    ):
        PARSER.parse(record)


def test_a_new_service_account_key_is_a_permission_change_that_names_the_key() -> None:
    key = "projects/example-ops/serviceAccounts/deployer@example-ops.iam.gserviceaccount.com"
    record = _entry(
        serviceName="iam.googleapis.com",
        methodName="google.iam.admin.v1.CreateServiceAccountKey",
        authenticationInfo={"principalEmail": "alice@example.com"},
        request={"name": "projects/-/serviceAccounts/deployer@example-ops.iam.gserviceaccount.com"},
        response={"name": f"{key}/keys/0123456789abcdef0123456789abcdef01234567"},
    )
    record["logName"] = "projects/example-ops/logs/cloudaudit.googleapis.com%2Factivity"

    event = PARSER.parse(record)

    assert event.category == "permission_change"
    assert event.attrs["created_key_id"] == "0123456789abcdef0123456789abcdef01234567"
    assert event.credential_issued == ""


def _perimeter_refusal(**metadata: Any) -> dict[str, Any]:
    record = _entry(
        serviceName="storage.googleapis.com",
        methodName="google.storage.objects.get",
        resourceName="projects/123456789012",
        authenticationInfo={"principalEmail": "mallory@example.com"},
        status={"code": 7, "message": "Request is prohibited by organization's policy."},
        metadata={
            "@type": "type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata",
            "resourceNames": ["projects/_/buckets/crm-exports/objects/customers.csv"],
            "violationReason": "NO_MATCHING_ACCESS_LEVEL",
            **metadata,
        },
    )
    record["logName"] = "projects/example-ops/logs/cloudaudit.googleapis.com%2Fpolicy"
    return record


def test_a_read_vpc_service_controls_refused_is_a_failed_read_of_the_object() -> None:
    event = PARSER.parse(_perimeter_refusal())

    assert (event.category, event.outcome) == ("data_access", "failure")
    assert event.resource == "gs://crm-exports/customers.csv"
    assert event.attrs["vpc_sc_violation"] == "NO_MATCHING_ACCESS_LEVEL"


def test_a_dry_run_perimeter_does_not_say_the_read_failed() -> None:
    event = PARSER.parse(_perimeter_refusal(dryRun=True))

    assert (event.category, event.outcome) == ("data_access", "unknown")
    assert event.attrs["vpc_sc_dry_run"] == "true"


def test_a_token_exchange_issues_to_the_principal_sts_mapped_its_subject_to() -> None:
    mtls, azure, impersonation, sign_jwt = _events("workload_identity_federation.jsonl")
    pools = "principal://iam.googleapis.com/projects/210987654321/locations/global"
    pool = f"{pools}/workloadIdentityPools"
    # STS writes mapped_principal in its AuditData; a certificate exchange logs no caller.
    assert mtls.category == "credential_issue"
    assert mtls.issued_principal == f"{pool}/cert-pool/subject/inventory-agent"
    assert (mtls.actor_principal, mtls.actor_kind) == (mtls.issued_principal, "federated_session")
    assert mtls.attrs["principal_from"] == "mapped_principal"
    # The IdP's subject stays the caller; what it was mapped to is what was issued.
    assert azure.actor_principal == "b6112abb-5791-4507-adb5-7e8cc306eb2e"
    assert azure.issued_principal == impersonation.actor_principal
    assert "principal_from" not in azure.attrs
    # The IAM API's older signing methods act as the account, as IAM Credentials' do.
    assert (sign_jwt.category, sign_jwt.issue_method) == ("credential_issue", "impersonation")
    assert sign_jwt.issued_principal == "inventory-sync@example-ops.iam.gserviceaccount.com"
    # A web sign-in's metadata spells it mappedPrincipal.
    record = sample_records("gcp_audit", "workload_identity_federation.jsonl")[0]
    record = copy.deepcopy(record)
    metadata = record["protoPayload"]["metadata"]
    metadata["mappedPrincipal"] = metadata.pop("mapped_principal")
    assert PARSER.parse(record).issued_principal == mtls.issued_principal


def test_principal_subject_types_a_service_account_whatever_its_domain() -> None:
    record = _entry(
        authenticationInfo={
            "principalEmail": "111111111111-compute@example.com",
            "principalSubject": "serviceAccount:111111111111-compute@example.com",
        }
    )
    assert PARSER.parse(record).actor_kind == "service_account"
    record["protoPayload"]["authenticationInfo"]["principalSubject"] = "user:al@example.com"
    record["protoPayload"]["authenticationInfo"]["principalEmail"] = "al@example.com"
    assert PARSER.parse(record).actor_kind == "user"
