"""Real producer files through the reader, the parsers and correlation together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.engine.correlation import Directory, EngineEvent, MemoryIndex, attribute_all
from forensics.engine.correlation.attribution import Alias, Attribution
from forensics.engine.model import RecordError
from forensics.engine.parsers import all_parsers
from forensics.engine.reader import iter_records

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _load(*names: str) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    for name in names:
        path = SAMPLES / name
        if not path.exists():
            pytest.skip(f"sample {name} is not present")
        with path.open("rb") as stream:
            for record in iter_records(stream):
                if record.data is None:
                    continue
                parser = next((p for p in all_parsers() if p.sniff(record.data)), None)
                if parser is None:
                    continue
                try:
                    event = parser.parse(record.data)
                except RecordError:
                    continue
                events.append(EngineEvent(f"{name}#{record.index}", event))
    return events


def _correlate(events: list[EngineEvent]) -> list[tuple[EngineEvent, Attribution]]:
    results = attribute_all(
        events, MemoryIndex(events), Directory(), now=NOW, grace=timedelta(hours=2)
    )
    return list(zip(events, results, strict=True))


def _by_action(pairs: list[tuple[EngineEvent, Attribution]], action: str) -> list[Attribution]:
    found = [a for e, a in pairs if e.event.action == action]
    assert found, f"no {action} in the sample"
    return found


def test_it_traces_a_cloudtrail_saml_role_chain_to_the_person() -> None:
    pairs = _correlate(_load("cloudtrail/saml_role_chain.json"))
    for result in _by_action(pairs, "s3:GetObject"):
        assert result.status == "attributed"
        assert result.origin is not None and result.origin.kind == "human"
        assert [h.method for h in result.hops] == ["saml-federation", "assume-role"]
        assert {h.evidence for h in result.hops} == {"exact"}


def test_it_traces_a_compressed_github_actions_trail_to_the_workflow() -> None:
    pairs = _correlate(
        _load("cloudtrail/111122223333_CloudTrail_us-east-1_20240410T1425Z_GhOidcEXAMPLE.json.gz")
    )
    using = [a for e, a in pairs if e.event.category != "credential_issue"]
    assert using
    for result in using:
        assert result.status == "attributed"
        assert result.origin is not None and result.origin.kind == "workload"
        assert any(str(a).startswith("web_identity:token.actions") for a in result.origin.aliases)


def test_it_joins_both_accounts_records_of_a_cross_account_call() -> None:
    pairs = _correlate(_load("cloudtrail/cross_account_assume_role.json"))
    statuses = {a.status for _, a in pairs}
    assert statuses == {"attributed"}
    origins = {a.origin.name for _, a in pairs if a.origin is not None}
    assert len(origins) == 1


def test_it_ties_okta_session_events_to_the_user_who_signed_in() -> None:
    pairs = _correlate(_load("okta/system_log_page.json"))
    grants = _by_action(pairs, "app.oauth2.as.token.grant.access_token")
    for result in grants:
        assert result.status == "attributed"
        assert [h.method for h in result.hops] == ["sign-in"]


def test_it_follows_a_kubernetes_token_a_person_requested() -> None:
    pairs = _correlate(_load("k8s_audit/webhook_eventlist.jsonl"))
    reads = _by_action(pairs, "get configmaps")
    for result in reads:
        assert result.status == "attributed"
        assert result.origin is not None and result.origin.kind == "human"
        assert [h.evidence for h in result.hops] == ["exact"]


def test_it_traces_gcp_chained_impersonation_to_the_user() -> None:
    pairs = _correlate(_load("gcp_audit/cloudaudit_sink.jsonl"))
    reads = _by_action(pairs, "storage.objects.get")
    chained = [a for a in reads if len(a.hops) == 2]
    assert chained
    for result in chained:
        assert result.status == "attributed"
        assert result.origin is not None and result.origin.kind == "human"
        assert {h.method for h in result.hops} == {"impersonation"}


def test_a_federated_workload_is_one_identity_from_its_token_exchange_on() -> None:
    pairs = _correlate(_load("gcp_audit/workload_identity_federation.jsonl"))
    mtls, exchange, impersonation, _sign_jwt = (a for _e, a in pairs)
    pool = "iam.googleapis.com/projects/210987654321/locations/global/workloadIdentityPools"
    assert mtls.status == "attributed" and mtls.origin is not None
    assert mtls.origin.aliases == (Alias("web_identity", f"{pool}/cert-pool|inventory-agent"),)
    # The exchange names the principal its IdP subject was mapped to, as the later call
    # does; [{}] beside a federated caller hides no one (only accounts are impersonated).
    for result in (exchange, impersonation):
        assert result.status == "attributed" and result.origin is not None
        assert result.origin.kind == "workload"
    assert (
        exchange.origin.aliases
        == impersonation.origin.aliases
        == (Alias("web_identity", f"{pool}/azure-pool|a1234bcd-5678-9012-efa3-4b5cd678ef9a"),)
    )


def test_it_attributes_entra_directory_changes_to_their_initiator() -> None:
    pairs = _correlate(
        _load(
            "entra_audit/graph_directory_audits.json",
            "entra_audit/PT1H.json",
            "entra_audit/eventhub_audit.json",
        )
    )
    by_kind: dict[str, list[Attribution]] = {}
    for event, result in pairs:
        by_kind.setdefault(event.event.actor_kind, []).append(result)
    for result in by_kind["user"]:
        assert result.status == "attributed" and not result.hops
        assert result.origin is not None and result.origin.kind == "human"
    apps = [r for r in by_kind["service_principal"] if r.status == "attributed"]
    assert apps, "an app-initiated change with an application id"
    for result in apps:
        assert result.origin is not None and result.origin.kind == "workload"
        assert {a.namespace for a in result.origin.aliases} == {"entra_app"}
    # The Managed Service Identity service names no application id; a system deletion
    # names no initiator at all: neither is guessed.
    unattributed = [r for r in by_kind["service_principal"] if r.status != "attributed"]
    assert unattributed and all(r.status == "unattributed" for r in unattributed)
    assert all(r.status == "unattributed" for r in by_kind["unknown"])


def test_it_attributes_key_vault_reads_to_the_caller_its_token_named() -> None:
    pairs = _correlate(_load("azure_keyvault/PT1H.json", "azure_keyvault/eventhub_keyvault.json"))
    by_kind: dict[str, list[Attribution]] = {}
    for event, result in pairs:
        by_kind.setdefault(event.event.actor_kind, []).append(result)
    for result in by_kind["user"]:  # the denied read too: Bob's token was accepted
        assert result.status == "attributed" and not result.hops
        assert result.origin is not None and result.origin.kind == "human"
        assert {a.namespace for a in result.origin.aliases} == {"entra_user", "email"}
    for kind, namespace in (
        ("managed_identity", "azure_managed_identity"),
        ("service_principal", "entra_app"),
    ):
        assert by_kind[kind]
        for result in by_kind[kind]:
            assert result.status == "attributed" and not result.hops
            assert result.origin is not None and result.origin.kind == "workload"
            assert {a.namespace for a in result.origin.aliases} == {namespace}
    # A request refused for want of a token, and a vault notification: nobody to name.
    assert [r.status for r in by_kind["unknown"]] == ["unattributed", "unattributed"]


def test_it_attributes_oauth_blob_access_and_refuses_shared_secrets() -> None:
    pairs = _correlate(_load("azure_storage/PT1H.json", "azure_storage/eventhub_storage.json"))
    by_auth: dict[str, list[tuple[EngineEvent, Attribution]]] = {}
    for event, result in pairs:
        by_auth.setdefault(event.event.attrs.get("auth_type", ""), []).append((event, result))
    for event, result in by_auth["OAuth"]:
        assert result.status == "attributed" and not result.hops
        assert result.origin is not None
        if event.event.actor_kind == "user":
            assert result.origin.kind == "human"
        else:  # Storage cannot tell a managed identity from an app: its app id is the alias
            assert [str(a) for a in result.origin.aliases] == [
                f"entra_app:{event.event.attrs['app_id']}"
            ]
    reasons = {auth: [r.reason for _, r in by_auth[auth]] for auth in ("SAS", "AccountKey")}
    assert reasons == {"SAS": ["unknown_principal"], "AccountKey": ["long_lived_shared_key"]}
    assert [(r.status, r.reason) for _, r in by_auth["Anonymous"]] == [
        ("unattributed", "anonymous")
    ]
    for auth in ("SAS", "AccountKey", "Anonymous", ""):
        for _, result in by_auth[auth]:
            assert result.status == "unattributed" and result.origin is None
            assert not result.hops and not result.candidates
    sas = by_auth["SAS"][0][1]
    assert "shared access signature" in sas.explanation


def test_a_key_vault_managed_identity_is_the_one_its_sign_in_names() -> None:
    vault = _correlate(_load("azure_keyvault/PT1H.json"))
    signins = _correlate(_load("entra/graph_signins.json"))
    managed = [a for e, a in vault if e.event.actor_kind == "managed_identity"]
    signed_in = [a for e, a in signins if e.event.actor_kind == "managed_identity"]

    assert managed and signed_in
    assert {str(a) for r in managed if r.origin for a in r.origin.aliases} == {
        str(a) for r in signed_in if r.origin for a in r.origin.aliases
    }


def test_it_traces_log_analytics_activity_to_the_sign_in_that_issued_its_token() -> None:
    pairs = _correlate(
        _load("entra/log_analytics_signins.json", "azure_activity/log_analytics_activity.json")
    )
    (keys,) = _by_action(pairs, "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION")

    assert keys.status == "attributed"
    assert keys.origin is not None and keys.origin.name == "dana@example.com"
    assert [(h.method, h.evidence) for h in keys.hops] == [("sign-in", "exact")]
    assert keys.hops[0].via_event == "entra/log_analytics_signins.json#2"
