from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import NormalizedEvent, RecordError
from forensics.engine.parsers.k8s_audit import PARSER, k8s_actor_kind, k8s_category, k8s_resource
from tests.engine.parsers.foreign import sample_records

BILLING_SA = "system:serviceaccount:payments:billing-api"
POD = "billing-api-7d9f8c6b5-x2kfp"


def _records(name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for record in sample_records("k8s_audit", name):
        # A webhook EventList comes whole from a reader that does not unwrap "items"; its
        # events are then taken out here, the way the reader unwraps other batch wrappers.
        if record.get("kind") == "EventList":
            found.extend(record["items"])
        else:
            found.append(record)
    return found


def _events(name: str) -> list[NormalizedEvent]:
    return [PARSER.parse(record) for record in _records(name)]


def _log() -> list[NormalizedEvent]:
    return _events("audit.log")


def _event(**fields: Any) -> dict[str, Any]:
    """A minimal audit Event with the given members."""
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": "11111111-2222-4333-8444-555555555555",
        "stage": "ResponseComplete",
        "requestReceivedTimestamp": "2024-03-12T09:15:02.104118Z",
        "stageTimestamp": "2024-03-12T09:15:02.109537Z",
        **fields,
    }


def test_it_reads_every_line_of_the_log_backend_file() -> None:
    records = _records("audit.log")

    assert len(records) == 9
    assert all(PARSER.sniff(r) for r in records)
    assert all(e.source_kind == "k8s_audit" for e in _log())


def test_stages_of_one_request_share_the_audit_id_and_keep_their_stage() -> None:
    received, complete = _log()[1:3]

    assert received.source_event_id == complete.source_event_id == complete.request_id
    assert received.attrs["audit_stage"] == "RequestReceived"
    assert complete.attrs["audit_stage"] == "ResponseComplete"
    assert received.outcome == "unknown"
    assert complete.outcome == "success"
    assert complete.attrs["response_code"] == "200"


def test_it_attributes_a_pod_token_to_its_service_account_and_pod() -> None:
    read = _log()[2]

    assert read.actor_principal == BILLING_SA
    assert read.actor_kind == "service_account"
    assert read.credential_used == "JTI=7f3e2b9c-41d6-4a8e-b05f-9c2d1e6a8b47"
    assert read.session_name == POD
    assert read.attrs["pod_name"] == POD
    assert read.attrs["pod_uid"] == "3c1f9a2e-6b7d-4e08-9a51-2d8f0c7b6e14"
    assert read.attrs["node_name"] == "worker-2"
    assert read.attrs["user_groups"][1] == "system:serviceaccounts:payments"
    assert read.category == "data_access"
    assert read.action == "get secrets"
    assert read.resource == "k8s://payments/secrets/db-credentials"
    assert read.resource_type == "secrets"
    assert read.source_address == "198.51.100.47"
    assert read.actor_account == ""


def test_it_links_the_token_request_to_the_credential_it_issued() -> None:
    issue, _, read = _log()[:3]

    assert issue.category == "credential_issue"
    assert issue.issue_method == "token-exchange"
    assert issue.issued_principal == BILLING_SA
    assert issue.credential_issued == read.credential_used
    assert issue.session_name == POD
    assert issue.actor_principal == "system:node:worker-2"
    assert issue.actor_kind == "service"
    assert issue.credential_used.startswith("X509SHA256=")
    assert issue.resource == "k8s://payments/serviceaccounts/token/billing-api"


def test_it_keeps_the_impersonator_as_the_actor() -> None:
    listing = _log()[3]

    assert listing.actor_principal == "alice@example.com"
    assert listing.actor_kind == "user"
    assert listing.attrs["impersonated_user"] == "ops-admin"
    assert listing.attrs["impersonated_groups"] == ["payments-operators", "system:authenticated"]
    assert listing.resource == "k8s://payments/secrets"
    assert listing.action == "list secrets"


def test_it_carries_the_eks_iam_session_behind_the_user() -> None:
    exec_event = _log()[4]

    assert (
        exec_event.actor_principal == "arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/alice"
    )
    assert exec_event.attrs["eks_arn"] == exec_event.actor_principal
    assert exec_event.attrs["eks_canonical_arn"] == "arn:aws:iam::111122223333:role/EKSClusterAdmin"
    assert exec_event.attrs["eks_session_name"] == "alice"
    assert exec_event.attrs["eks_access_key_id"] == "ASIAEXAMPLE5XQ2R7TWN"
    assert exec_event.attrs["eks_principal_id"] == "AROAEXAMPLE7K2Q4ZBN3D"
    assert exec_event.credential_used == ""


def test_it_counts_an_exec_stream_upgrade_as_success() -> None:
    exec_event = _log()[4]

    assert exec_event.action == "create pods/exec"
    assert exec_event.category == "data_access"
    assert exec_event.outcome == "success"
    assert exec_event.resource == f"k8s://payments/pods/exec/{POD}"


def test_it_marks_an_anonymous_refused_request() -> None:
    anonymous = _log()[5]

    assert anonymous.actor_principal == "system:anonymous"
    assert anonymous.actor_kind == "anonymous"
    assert anonymous.outcome == "failure"
    assert anonymous.attrs["error_code"] == "Forbidden"
    assert "cannot list resource" in anonymous.attrs["error_message"]
    assert anonymous.resource == "k8s://_cluster/secrets"


def test_it_records_an_rbac_binding_as_a_permission_change() -> None:
    binding = _log()[6]

    assert binding.category == "permission_change"
    assert binding.resource == "k8s://_cluster/clusterrolebindings/payments-secret-readers"
    assert binding.outcome == "success"


def test_it_takes_the_certificate_credential_of_a_user() -> None:
    logs = _log()[7]

    assert logs.actor_principal == "carol"
    assert logs.credential_used.startswith("X509SHA256=9c8b")
    assert logs.category == "data_access"
    assert logs.session_name == ""


def test_it_classifies_control_plane_components_as_services() -> None:
    lease = _log()[8]

    assert lease.actor_kind == "service"
    assert lease.category == "other"
    assert lease.resource == "k8s://kube-system/leases/kube-controller-manager"


def test_it_reads_the_events_of_webhook_batches() -> None:
    created, issued, used, refused = _events("webhook_eventlist.jsonl")

    assert created.category == "permission_change"
    assert issued.category == "credential_issue"
    assert issued.issued_principal == "system:serviceaccount:ci:ci-bot"
    assert issued.session_name == ""  # a token made with kubectl is bound to no pod
    assert used.actor_principal == issued.issued_principal
    assert used.credential_used == issued.credential_issued != ""
    assert used.category == "data_access"
    assert refused.category == "permission_change"
    assert refused.outcome == "failure"


def test_webhook_items_without_api_version_are_read_alike() -> None:
    # The webhook backend writes its EventList's items without kind or apiVersion.
    bare = _records("webhook_eventlist_bare_items.jsonl")
    assert all("apiVersion" not in r and PARSER.sniff(r) for r in bare)
    assert [PARSER.parse(r) for r in bare] == _events("webhook_eventlist.jsonl")
    # Members of an Event alone do not make any object one.
    assert not PARSER.sniff({"auditID": "a", "stage": "x", "verb": "get"})
    assert not PARSER.sniff({**bare[0], "kind": "Pod"})


def test_kubernetes_1_29_named_the_issued_token_id_otherwise() -> None:
    _created, issued, _used, _refused = _records("webhook_eventlist.jsonl")
    annotations = issued["annotations"]
    jti = annotations.pop("authentication.kubernetes.io/issued-credential-id")
    annotations["authentication.k8s.io/issued-credential-id"] = jti
    assert PARSER.parse(issued).credential_issued == jti != ""


def test_it_refuses_an_event_list_naming_its_items() -> None:
    event_list = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [_event()]}

    assert PARSER.sniff(event_list)
    with pytest.raises(RecordError, match="'items'"):
        PARSER.parse(event_list)


def test_it_keeps_microseconds_of_the_stage_time() -> None:
    event = PARSER.parse(_event())

    assert event.event_time == datetime(2024, 3, 12, 9, 15, 2, 109537, tzinfo=UTC)


def test_it_falls_back_to_the_request_received_time() -> None:
    record = _event()
    del record["stageTimestamp"]

    assert PARSER.parse(record).event_time == datetime(2024, 3, 12, 9, 15, 2, 104118, tzinfo=UTC)


def test_it_names_the_stage_time_when_no_time_is_present() -> None:
    record = _event(stageTimestamp=None)
    del record["requestReceivedTimestamp"]

    with pytest.raises(RecordError, match="'stageTimestamp'"):
        PARSER.parse(record)


def test_it_names_the_user_when_it_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="'user'"):
        PARSER.parse(_event(user="alice@example.com"))


def test_it_names_the_username_when_it_is_wrong_typed() -> None:
    with pytest.raises(RecordError, match=r"'user\.username'"):
        PARSER.parse(_event(user={"username": {"name": "alice"}}))


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        PARSER.parse("an event")  # type: ignore[arg-type]


def test_it_tolerates_an_event_with_almost_nothing() -> None:
    record = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "stageTimestamp": "2024-03-12T09:15:02Z",
    }

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind, event.outcome) == ("", "unknown", "unknown")
    assert (event.category, event.action, event.resource) == ("other", "", "")
    assert event.attrs == {}
    without_verb = PARSER.parse({**record, "objectRef": {"resource": "pods", "name": "web-1"}})
    assert without_verb.action == "pods"


def test_it_tolerates_null_members_and_extra_written_as_text() -> None:
    record = _event(
        verb="get",
        user={
            "username": BILLING_SA,
            "groups": None,
            "extra": {"authentication.kubernetes.io/pod-name": POD, "arn": None},
        },
        sourceIPs=None,
        objectRef={"resource": "configmaps", "namespace": "payments", "apiGroup": None},
        responseStatus={"metadata": {}, "code": "200"},
    )

    event = PARSER.parse(record)

    assert event.session_name == POD
    assert event.source_address == ""
    assert event.outcome == "success"
    assert "eks_arn" not in event.attrs
    assert event.category == "data_access"


def test_it_names_a_non_resource_request_by_its_path() -> None:
    record = _event(
        verb="get", requestURI="/healthz?verbose=1", user={"username": "system:anonymous"}
    )

    event = PARSER.parse(record)

    assert event.action == "get /healthz"
    assert event.resource == ""


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(200, "success"), (201, "success"), (101, "success"), (403, "failure"), (500, "failure")],
)
def test_it_reads_the_outcome_from_the_response_code(code: int, outcome: str) -> None:
    record = _event(responseStatus={"metadata": {}, "code": code})

    assert PARSER.parse(record).outcome == outcome


@pytest.mark.parametrize(
    ("username", "kind"),
    [
        ("system:serviceaccount:payments:billing-api", "service_account"),
        ("system:anonymous", "anonymous"),
        ("system:kube-scheduler", "service"),
        ("system:node:worker-2", "service"),
        ("eks:cloud-controller-manager", "service"),
        ("alice@example.com", "user"),
        ("kubernetes-admin", "user"),
        ("system:admin", "user"),
        ("", "unknown"),
    ],
)
def test_it_classifies_usernames(username: str, kind: str) -> None:
    assert k8s_actor_kind(username) == kind


@pytest.mark.parametrize(
    ("verb", "resource", "subresource", "group", "category"),
    [
        ("get", "secrets", "", "", "data_access"),
        ("watch", "configmaps", "", "", "data_access"),
        ("update", "secrets", "", "", "other"),
        ("get", "pods", "log", "", "data_access"),
        ("get", "pods", "exec", "", "data_access"),
        ("get", "pods", "", "", "other"),
        ("patch", "rolebindings", "", "rbac.authorization.k8s.io", "permission_change"),
        ("delete", "clusterroles", "", "rbac.authorization.k8s.io", "permission_change"),
        ("create", "roles", "", "example.com", "other"),
        ("create", "serviceaccounts", "", "", "permission_change"),
        ("get", "clusterrolebindings", "", "rbac.authorization.k8s.io", "other"),
        ("create", "serviceaccounts", "token", "", "credential_issue"),
        ("get", "serviceaccounts", "token", "", "other"),
    ],
)
def test_it_categorizes_requests(
    verb: str, resource: str, subresource: str, group: str, category: str
) -> None:
    assert k8s_category(verb, resource, subresource, group) == category


def test_it_builds_resource_names() -> None:
    assert k8s_resource("", "nodes", "", "worker-2") == "k8s://_cluster/nodes/worker-2"
    assert k8s_resource("payments", "pods", "log", POD) == f"k8s://payments/pods/log/{POD}"
    assert k8s_resource("payments", "secrets", "", "") == "k8s://payments/secrets"
    assert k8s_resource("payments", "", "", "x") == ""


def test_sniff_accepts_audit_events() -> None:
    assert PARSER.sniff(_event())
    assert PARSER.sniff(_event(apiVersion="audit.k8s.io/v1beta1"))


# --- AKS, through Azure Monitor --------------------------------------------------------


def test_it_reads_the_event_an_aks_diagnostic_record_carries() -> None:
    records = sample_records("k8s_audit", "aks_PT1H.json")
    secret, configmap, binding = (PARSER.parse(r) for r in records)

    assert all(PARSER.sniff(r) for r in records)
    assert secret.source_event_id == "6a1f2e3d-4c5b-4a69-8d7e-0f1a2b3c4d51"
    # The Event's own stage time, not the export record's.
    assert secret.event_time == datetime(2024, 5, 15, 12, 1, 7, 409731, tzinfo=UTC)
    assert (secret.actor_principal, secret.actor_kind) == ("alice@example.com", "user")
    assert (secret.category, secret.resource) == (
        "data_access",
        "k8s://payments/secrets/db-credentials",
    )
    assert configmap.actor_kind == "service_account"
    assert configmap.credential_used == "JTI=3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"
    assert configmap.attrs["pod_name"] == "billing-api-7d9c6b5f4-x2k8p"
    assert binding.category == "permission_change"


def test_it_reads_aks_log_analytics_rows_as_the_same_events() -> None:
    rows = sample_records("k8s_audit", "aks_log_analytics.json")

    assert all(PARSER.sniff(r) for r in rows)
    assert [PARSER.parse(r) for r in rows] == _events("aks_PT1H.json")


@pytest.mark.parametrize(
    ("log", "named"),
    [('{"kind": "Event"', "'properties.log'"), (["Event"], "'properties.log'")],
    ids=["cut-short", "array"],
)
def test_it_names_an_aks_log_that_is_not_an_event(log: Any, named: str) -> None:
    record = sample_records("k8s_audit", "aks_PT1H.json")[0]
    record["properties"]["log"] = log

    with pytest.raises(RecordError, match=named):
        PARSER.parse(record)


def test_it_names_the_aks_column_it_cannot_read() -> None:
    row = sample_records("k8s_audit", "aks_log_analytics.json")[0]
    row["User"] = "alice@example.com"

    with pytest.raises(RecordError, match="'User'"):
        PARSER.parse(row)


def test_it_reads_an_aks_row_whose_dynamic_columns_are_empty() -> None:
    row = sample_records("k8s_audit", "aks_log_analytics.json")[0]
    row.update(ImpersonatedUser="", Annotations="", RequestObject="")

    event = PARSER.parse(row)

    assert event.actor_principal == "alice@example.com"
    assert "impersonated_user" not in event.attrs


def test_a_v1beta1_event_with_only_the_request_timestamp_is_read() -> None:
    # audit.k8s.io/v1alpha1 and v1beta1 (Kubernetes 1.7, 1.8) wrote the request's time alone.
    record = _event(apiVersion="audit.k8s.io/v1beta1", timestamp="2017-09-11T19:55:05Z")
    del record["requestReceivedTimestamp"], record["stageTimestamp"]

    assert PARSER.parse(record).event_time == datetime(2017, 9, 11, 19, 55, 5, tzinfo=UTC)


def test_a_record_with_no_time_at_all_names_the_stage_time() -> None:
    record = _event()
    del record["requestReceivedTimestamp"], record["stageTimestamp"]

    with pytest.raises(RecordError, match="stageTimestamp"):
        PARSER.parse(record)


def test_the_source_is_the_address_the_api_server_saw() -> None:
    # All but the last of sourceIPs come from X-Forwarded-For and X-Real-Ip: the client's.
    record = _event(verb="get", sourceIPs=["203.0.113.99", "10.0.0.8", "198.51.100.7"])

    event = PARSER.parse(record)

    assert event.source_address == "198.51.100.7"
    assert event.attrs["source_ips"] == ["203.0.113.99", "10.0.0.8", "198.51.100.7"]


def test_one_source_address_is_kept_as_the_source_alone() -> None:
    event = PARSER.parse(_event(verb="get", sourceIPs=["198.51.100.7"]))

    assert event.source_address == "198.51.100.7"
    assert "source_ips" not in event.attrs


@pytest.mark.parametrize(
    ("username", "kind"),
    [("aksService", "service"), ("eks:certificate-controller", "service"), ("akservice", "user")],
)
def test_managed_control_planes_are_services(username: str, kind: str) -> None:
    assert k8s_actor_kind(username) == kind
