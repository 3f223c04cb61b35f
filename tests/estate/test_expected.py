"""expected.jsonl covers every generated access and says only what the logs can support."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from forensics.engine.model import ALIAS_NAMESPACES
from forensics.estate import Summary
from forensics.estate.expected import FIELDS, REASONS, STATUSES
from forensics.estate.org import ATTACKER_IP
from forensics.estate.roster import build_org
from tests.estate.conftest import SEED
from tests.estate.files import (
    cloudtrail_records,
    event_ids,
    expected,
    gcp_entries,
    k8s_events,
    ocsf_events,
)


def test_every_written_event_has_exactly_one_expectation(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    lines = expected(root)
    keys = Counter((e["source_kind"], e["source_event_id"]) for e in lines)
    assert max(keys.values()) == 1
    # Kubernetes stages of one request share their auditID and one expectation.
    assert set(event_ids(root)) == set(keys)


def test_expectations_use_only_known_statuses_reasons_and_alias_namespaces(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    for e in expected(root):
        assert tuple(e) == FIELDS
        assert e["status"] in STATUSES
        if e["status"] == "attributed":
            assert e["reason"] is None
            assert e["origin"]["kind"] in ("human", "workload")
            assert e["origin"]["alias"]["namespace"] in ALIAS_NAMESPACES
            assert e["origin"]["alias"]["value"]
        else:
            assert e["origin"] is None and e["reason"] in REASONS
    reasons = {e["reason"] for e in expected(root)} - {None}
    assert reasons == set(REASONS)


def test_every_data_access_is_expected(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    keys = {(e["source_kind"], e["source_event_id"]) for e in expected(root)}
    data = [
        ("cloudtrail", r["eventID"])
        for _, r in cloudtrail_records(root)
        if r["eventCategory"] == "Data"
    ]
    data += [
        ("gcp_audit", r["insertId"])
        for _, r in gcp_entries(root)
        if r["protoPayload"]["serviceName"] == "storage.googleapis.com"
    ]
    data += [
        ("k8s_audit", r["auditID"])
        for _, r in k8s_events(root)
        if r["objectRef"]["resource"] == "secrets"
    ]
    data += [("ocsf", r["metadata"]["uid"]) for _, r in ocsf_events(root) if r["class_uid"] == 6003]
    assert len(data) > 1500
    assert set(data) <= keys


def _directory(root: Path) -> list[dict[str, str]]:
    with (root / "directory.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_attributed_origins_are_unshared_directory_identities_or_unclaimed_iam_users(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    known = {(r["alias_namespace"], r["alias_value"]): r for r in _directory(root)}
    unclaimed: set[tuple[str, str]] = set()
    for e in expected(root):
        if e["status"] != "attributed":
            continue
        alias = (e["origin"]["alias"]["namespace"], e["origin"]["alias"]["value"])
        if alias == ("aws_service", "ec2.amazonaws.com"):
            continue  # EC2's own credential calls for instance profiles
        if alias not in known:
            # An IAM user is an origin of its own; the engine proposes an unknown one as human.
            assert alias[0] == "aws_iam_user" and e["origin"]["kind"] == "human", alias
            unclaimed.add(alias)
            continue
        assert known[alias]["kind"] == e["origin"]["kind"]
        assert known[alias]["shared"] == "false"
    assert unclaimed == {("aws_iam_user", build_org(SEED).legacy_sync.arn)}


def test_no_alias_is_given_to_two_identities(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    holders: dict[tuple[str, str], set[str]] = {}
    for r in _directory(root):
        holders.setdefault((r["alias_namespace"], r["alias_value"]), set()).add(r["identity"])
    assert len(holders) > 60
    assert {alias: names for alias, names in holders.items() if len(names) > 1} == {}


def test_every_access_of_a_shared_identity_is_expected_unattributed_as_shared(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    rows = _directory(root)
    shared = {r["identity"] for r in rows if r["shared"] == "true"}
    assert all(r["shared"] == "true" for r in rows if r["identity"] in shared)
    alias_of = {(r["alias_namespace"], r["alias_value"]): r["identity"] for r in rows}
    by_key = {(e["source_kind"], e["source_event_id"]): e for e in expected(root)}
    accesses: dict[str, list[tuple[str, dict[str, object]]]] = {name: [] for name in shared}
    for _, r in cloudtrail_records(root):
        who = alias_of.get(("aws_iam_user", r["userIdentity"].get("arn", "")))
        if who in shared:
            accesses[who].append(("shared_account", by_key[("cloudtrail", r["eventID"])]))
    for _, r in gcp_entries(root):
        email = r["protoPayload"]["authenticationInfo"].get("principalEmail", "")
        who = alias_of.get(("gcp_service_account", email))
        if who in shared:
            # A service account acting through a downloaded key file: the key is what is shared.
            reason = "long_lived_shared_key"
            accesses[who].append((reason, by_key[("gcp_audit", r["insertId"])]))
    assert len(shared) == 2 and all(len(found) > 3 for found in accesses.values())
    for found in accesses.values():
        for reason, e in found:
            assert (e["status"], e["origin"], e["reason"]) == ("unattributed", None, reason)


def test_instance_profile_sessions_go_back_to_the_instance(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    by_key = {(e["source_kind"], e["source_event_id"]): e for e in expected(root)}
    records = [r for _, r in cloudtrail_records(root)]
    issued = [
        r
        for r in records
        if r["eventName"] == "AssumeRole"
        and r["userIdentity"].get("invokedBy") == "ec2.amazonaws.com"
    ]
    assert len(issued) > 2
    instances = set()
    for r in issued:
        # The EC2 service makes the credential call itself.
        origin = by_key[("cloudtrail", r["eventID"])]["origin"]
        assert origin == {
            "kind": "workload",
            "alias": {"namespace": "aws_service", "value": "ec2.amazonaws.com"},
        }
        instances.add(r["requestParameters"]["roleSessionName"])
    used = [
        r
        for r in records
        if r["userIdentity"].get("inScopeOf", {}).get("credentialsIssuedTo", "").split("/")[-1]
        in instances
    ]
    assert used
    for r in used:
        origin = by_key[("cloudtrail", r["eventID"])]["origin"]
        issued_to = r["userIdentity"]["inScopeOf"]["credentialsIssuedTo"]
        assert origin["alias"] == {"namespace": "aws_workload", "value": issued_to}


def test_the_leaked_key_incident_goes_back_to_the_contractor_key(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    incident = [e for e in expected(root) if e["story"] == "leaked-contractor-key"]
    ids = {e["source_event_id"] for e in incident}
    records = [r for _, r in cloudtrail_records(root) if r["eventID"] in ids]
    assert len(records) == len(incident) > 8
    assert {r["sourceIPAddress"] for r in records} == {ATTACKER_IP}
    hops = [
        r
        for r in records
        if r["eventName"] == "AssumeRole" and r["userIdentity"]["type"] != "AWSAccount"
    ]
    assert len(hops) == 2
    reads = [r for r in records if r["eventName"] == "GetObject"]
    assert reads and {r["requestParameters"]["bucketName"] for r in reads} == {"hr-payroll"}
    origins = {
        (e["status"], e["origin"]["alias"]["namespace"], e["origin"]["alias"]["value"])
        for e in incident
    }
    assert origins == {
        ("attributed", "aws_iam_user", "arn:aws:iam::111122223333:user/contractor-rsilva")
    }


def test_each_dead_end_scenario_carries_its_reason(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    by_story: dict[str, set[tuple[str, str | None]]] = {}
    for e in expected(root):
        by_story.setdefault(e["story"], set()).add((e["status"], e["reason"]))
    assert by_story["missing-issuer"] == {("unattributed", "missing_issuer")}
    assert by_story["anonymous-read"] == {("unattributed", "anonymous")}
    assert by_story["unknown-principal"] == {("unattributed", "unknown_principal")}
    assert by_story["gcp-long-lived-key"] == {("unattributed", "long_lived_shared_key")}
    assert by_story["shared-deploy-bot"] == {("unattributed", "shared_account")}
    assert by_story["hr-app-session-conflict"] >= {("unattributed", "conflicting_evidence")}
    assert by_story["late-region-delivery"] == {("attributed", None)}


def test_the_unclaimed_iam_user_is_its_own_origin(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    legacy = build_org(SEED).legacy_sync
    lines = [e for e in expected(root) if e["story"] == "unclaimed-iam-user"]
    assert lines
    assert {(e["status"], e["origin"]["kind"], e["origin"]["alias"]["value"]) for e in lines} == {
        ("attributed", "human", legacy.arn)
    }
    assert legacy.arn not in {r["alias_value"] for r in _directory(root)}
