"""The credentials line up: every key a call signs with was issued once, to that session."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from forensics.estate import Summary
from tests.estate.files import (
    azure_events,
    cloudtrail_records,
    entra_signins,
    expected,
    gcp_entries,
    k8s_events,
    ocsf_events,
)

ISSUERS = ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _expiry(text: str) -> datetime:
    return datetime.strptime(text + " +0000", "%b %d, %Y, %I:%M:%S %p %z")


def _cloudtrail(
    root: Path,
) -> tuple[dict[str, list[tuple[Path, dict[str, Any]]]], list[tuple[Path, dict[str, Any]]]]:
    """Issuing calls by the key they returned, and every call signed with a temporary key."""
    issued: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    used = []
    for path, rec in cloudtrail_records(root):
        creds = (rec.get("responseElements") or {}).get("credentials")
        if rec["eventName"] in ISSUERS and creds:
            issued[creds["accessKeyId"]].append((path, rec))
        if str(rec["userIdentity"].get("accessKeyId", "")).startswith("ASIA"):
            used.append((path, rec))
    return issued, used


def _story_ids(root: Path, story: str) -> set[str]:
    return {e["source_event_id"] for e in expected(root) if e["story"] == story}


def test_every_temporary_key_has_exactly_one_issuing_call(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    issued, used = _cloudtrail(root)
    orphans = _story_ids(root, "missing-issuer")
    assert len(used) > 500
    for _, rec in used:
        key = rec["userIdentity"]["accessKeyId"]
        calls = {r["requestID"] for _, r in issued.get(key, [])}
        if rec["eventID"] in orphans:
            assert not calls, "the missing-issuer scenario must have no issuer"
        else:
            assert len(calls) == 1, (key, rec["eventName"])
    assert orphans


def test_role_sessions_match_the_call_that_issued_them(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    issued, used = _cloudtrail(root)
    checked = ec2 = 0
    for _, rec in used:
        calls = issued.get(rec["userIdentity"]["accessKeyId"])
        if not calls:
            continue
        issuer = calls[0][1]
        who = rec["userIdentity"]
        assumed = issuer["responseElements"]["assumedRoleUser"]
        assert who["arn"] == assumed["arn"]
        assert who["principalId"] == assumed["assumedRoleId"]
        context = who["sessionContext"]
        assert context["attributes"]["creationDate"] == issuer["eventTime"]
        assert context["sessionIssuer"]["arn"] == issuer["requestParameters"]["roleArn"]
        assert who["accountId"] == issuer["requestParameters"]["roleArn"].split(":")[4]
        assert context.get("sourceIdentity") == issuer["requestParameters"].get("sourceIdentity")
        if "inScopeOf" in who:
            # Instance-profile sessions are named after the instance EC2 delivered them to.
            instance = who["inScopeOf"]["credentialsIssuedTo"].rsplit("/", 1)[1]
            assert who["arn"].endswith("/" + instance) and context["ec2RoleDelivery"] == "2.0"
            ec2 += 1
        at = _time(rec["eventTime"])
        assert (
            _time(issuer["eventTime"])
            < at
            < _expiry(issuer["responseElements"]["credentials"]["expiration"])
        )
        checked += 1
    assert checked > 500 and ec2 > 10


def test_cross_account_role_hops_are_logged_on_both_sides_with_one_shared_event_id(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    sides: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, rec in cloudtrail_records(root):
        if rec["eventName"] == "AssumeRole" and rec["userIdentity"]["type"] != "AWSService":
            caller = rec["userIdentity"]["accountId"]
            role_account = rec["requestParameters"]["roleArn"].split(":")[4]
            if caller != role_account:
                sides[rec["sharedEventID"]].append(rec)
    assert len(sides) > 20
    for copies in sides.values():
        assert len(copies) == 2
        mine, theirs = sorted(copies, key=lambda r: r["userIdentity"]["type"] == "AWSAccount")
        assert theirs["userIdentity"]["type"] == "AWSAccount"
        assert mine["recipientAccountId"] == mine["userIdentity"]["accountId"]
        assert theirs["recipientAccountId"] == mine["requestParameters"]["roleArn"].split(":")[4]
        assert mine["requestID"] == theirs["requestID"] and mine["eventID"] != theirs["eventID"]
        assert mine["responseElements"] == theirs["responseElements"]


def test_early_events_depend_on_issuers_that_arrive_late(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    issued, used = _cloudtrail(root)
    waiting = [
        rec
        for path, rec in used
        if path.relative_to(root).parts[0] != "late"
        and any(
            p.relative_to(root).parts[0] == "late"
            for p, _ in issued.get(rec["userIdentity"]["accessKeyId"], [])
        )
    ]
    late_story = _story_ids(root, "late-region-delivery")
    assert {r["eventID"] for r in waiting} & late_story
    assert all(r["awsRegion"] != "eu-west-1" for r in waiting)


def test_long_lived_keys_belong_to_iam_users(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    owners: dict[str, set[str]] = defaultdict(set)
    for _, rec in cloudtrail_records(root):
        key = str(rec["userIdentity"].get("accessKeyId", ""))
        if key.startswith("AKIA"):
            assert rec["userIdentity"]["type"] == "IAMUser"
            owners[key].add(rec["userIdentity"]["arn"])
    assert len(owners) >= 5
    assert all(len(arns) == 1 for arns in owners.values())


def test_azure_activity_tokens_come_from_entra_sign_ins(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    tokens = {s["uniqueTokenIdentifier"]: s for _, s in entra_signins(root)}
    events = list(azure_events(root))
    assert events
    for _, ev in events:
        signin = tokens[ev["claims"]["uti"]]
        issued = _time(signin["createdDateTime"])
        assert issued <= _time(ev["eventTimestamp"]) < issued + timedelta(minutes=75)
        assert ev["claims"]["appid"] == signin["appId"]
        oid = ev["claims"]["http://schemas.microsoft.com/identity/claims/objectidentifier"]
        assert oid == (signin["userId"] or signin["servicePrincipalId"])


def test_gcp_delegation_chains_start_where_a_token_was_minted(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    minted: set[tuple[str, str]] = set()
    chains = 0
    for _, entry in gcp_entries(root):
        payload = entry["protoPayload"]
        auth = payload["authenticationInfo"]
        if payload["methodName"] == "GenerateAccessToken":
            minted.add((auth["principalEmail"], entry["resource"]["labels"]["email_id"]))
        delegates = [
            d["firstPartyPrincipal"]["principalEmail"]
            for d in auth.get("serviceAccountDelegationInfo", [])
        ]
        if delegates:
            chain = [*delegates, auth["principalEmail"]]
            assert all(pair in minted for pair in itertools.pairwise(chain))
            chains += 1
    assert chains > 10


def test_k8s_users_carry_the_credentials_behind_them(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    issued, _ = _cloudtrail(root)
    eks = pods = 0
    for _, ev in k8s_events(root):
        extra = ev["user"].get("extra", {})
        if "accessKeyId" in extra:
            calls = issued[extra["accessKeyId"][0]]
            assert len({r["requestID"] for _, r in calls}) == 1
            assert calls[0][1]["responseElements"]["assumedRoleUser"]["arn"] == extra["arn"][0]
            eks += 1
        if ev["user"]["username"].startswith("system:serviceaccount:"):
            assert extra["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")
            pods += 1
    assert eks and pods


def test_hr_api_reads_name_a_session_its_logon_opened(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    opened: dict[str, Any] = {}
    reads = 0
    for _, ev in ocsf_events(root):
        if ev["class_uid"] == 3002:
            opened[ev["session"]["uid"]] = ev["user"]["uid"]
        elif ev["class_uid"] == 6003:
            assert ev["actor"]["session"]["uid"] in opened
            reads += 1
    assert reads > 10
