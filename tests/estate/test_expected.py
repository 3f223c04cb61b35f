"""expected.jsonl covers every generated access and says only what the logs can support."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from forensics.engine.model import ALIAS_NAMESPACES
from forensics.estate import Summary
from forensics.estate.expected import FIELDS, REASONS, STATUSES
from forensics.estate.org import ATTACKER_IP
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


def test_attributed_origins_are_identities_the_directory_knows(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    with (root / "directory.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    known = {(r["alias_namespace"], r["alias_value"]): r for r in rows}
    for e in expected(root):
        if e["status"] != "attributed":
            continue
        alias = (e["origin"]["alias"]["namespace"], e["origin"]["alias"]["value"])
        assert alias in known, alias
        assert known[alias]["kind"] == e["origin"]["kind"]
        assert known[alias]["shared"] == "false"


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
    assert by_story["shared-deploy-bot"] == {("ambiguous", "shared_account")}
    assert by_story["hr-app-session-conflict"] >= {("ambiguous", "conflicting_evidence")}
    assert by_story["late-region-delivery"] == {("attributed", None)}
