"""Every file has the shape its producer delivers, under the name the producer gives it."""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.engine.model import ALIAS_NAMESPACES
from forensics.estate import Summary
from forensics.estate.org import LATE_REGION
from tests.estate.files import (
    azure_events,
    cloudtrail_files,
    entra_signins,
    gcp_files,
    json_lines,
    k8s_events,
    ocsf_events,
    okta_events,
)

CT_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z]{2}-[a-z]+-\d)_"
    r"(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
CT_FIELDS = (
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_cloudtrail_files_are_gzip_records_objects_named_as_cloudtrail_delivers(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    files = cloudtrail_files(root)
    assert len(files) > 100
    for path in files:
        rel = path.relative_to(root).parts
        late = rel[0] == "late"
        parts = rel[1:] if late else rel
        assert parts[:2] == ("cloudtrail", "AWSLogs") and parts[3] == "CloudTrail"
        m = CT_NAME.match(path.name)
        assert m, path.name
        assert m["account"] == parts[2] and m["region"] == parts[4]
        assert late == (m["region"] == LATE_REGION)
        delivered = datetime.strptime(m["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        assert "/".join(parts[5:8]) == delivered.strftime("%Y/%m/%d")
        body = json.loads(gzip.decompress(path.read_bytes()))
        assert list(body) == ["Records"] and body["Records"]
        for record in body["Records"]:
            assert all(f in record for f in CT_FIELDS), sorted(set(CT_FIELDS) - set(record))
            assert record["eventVersion"] in ("1.08", "1.09")
            assert record["recipientAccountId"] == m["account"]
            assert record["awsRegion"] == m["region"]
            at = _time(record["eventTime"])
            assert delivered - timedelta(minutes=5) <= at < delivered
            assert record["eventCategory"] == (
                "Data" if not record["managementEvent"] else "Management"
            )


def test_gcp_files_are_hourly_json_lines_of_audit_log_entries(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    files = gcp_files(root)
    assert files
    for path in files:
        project, service, log, yyyy, mm, dd = path.relative_to(root).parts[1:7]
        assert service == "cloudaudit.googleapis.com"
        hour = path.name[:2]
        assert path.name == f"{hour}:00:00_{hour}:59:59_S0.json"
        for entry in json_lines(path):
            assert entry["logName"] == f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}"
            assert entry["timestamp"].startswith(f"{yyyy}-{mm}-{dd}T{hour}:")
            assert re.fullmatch(r".*\.\d{9}Z", entry["timestamp"])
            payload = entry["protoPayload"]
            assert payload["@type"] == "type.googleapis.com/google.cloud.audit.AuditLog"
            assert payload["authenticationInfo"]["principalEmail"]
            assert payload["authorizationInfo"][0]["granted"] is True
            assert entry["resource"]["labels"]["project_id"] == project
            assert _time(entry["receiveTimestamp"]) >= _time(entry["timestamp"])


def test_k8s_audit_logs_are_json_lines_of_events_whose_stages_share_an_audit_id(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    stages: dict[str, list[str]] = {}
    for _, ev in k8s_events(root):
        assert ev["kind"] == "Event" and ev["apiVersion"] == "audit.k8s.io/v1"
        assert ev["user"]["username"] and ev["objectRef"]["resource"]
        assert (ev["stage"] == "RequestReceived") == ("responseStatus" not in ev)
        stages.setdefault(ev["auditID"], []).append(ev["stage"])
    assert len(stages) > 50
    assert {tuple(s) for s in stages.values()} == {
        ("ResponseComplete",),
        ("RequestReceived", "ResponseComplete"),
    }


def test_okta_files_are_arrays_of_log_events_of_their_day(estate: tuple[Path, Summary]) -> None:
    root, _ = estate
    events = list(okta_events(root))
    assert events
    for path, ev in events:
        assert ev["published"][:10] == path.stem.removeprefix("system-log-")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["published"])
        assert ev["actor"]["type"] == "User" and ev["eventType"].startswith("user.")
        assert ev["outcome"]["result"] in ("SUCCESS", "FAILURE")
        assert "externalSessionId" in ev["authenticationContext"]
        assert ev["transaction"]["id"]


def test_entra_and_azure_files_are_graph_and_activity_collections_of_their_day(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    kinds = set()
    for path, signin in entra_signins(root):
        assert signin["createdDateTime"][:10] == path.stem.removeprefix("signins-")
        kinds.update(signin["signInEventTypes"])
        assert signin["uniqueTokenIdentifier"]
    assert kinds == {"interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"}
    for path in sorted(root.glob("entra/*.json")):
        assert json.loads(path.read_bytes())["@odata.context"].endswith("#auditLogs/signIns")
    events = list(azure_events(root))
    assert events
    for path, ev in events:
        assert ev["eventTimestamp"][:10] == path.stem.removeprefix("activity-")
        assert ev["category"]["value"] == "Administrative"
        assert ev["claims"]["uti"] and ev["resourceId"].startswith("/subscriptions/")


def test_ocsf_files_are_json_lines_of_authentication_session_and_api_events(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    classes = set()
    for path, ev in ocsf_events(root):
        classes.add(ev["class_uid"])
        assert ev["type_uid"] == ev["class_uid"] * 100 + ev["activity_id"]
        assert ev["category_uid"] == ev["class_uid"] // 1000
        assert ev["metadata"]["product"]["name"] and ev["metadata"]["version"]
        assert datetime.fromtimestamp(ev["time"] / 1000, tz=UTC).date().isoformat() == path.stem
        if ev["class_uid"] in (3002, 3003):
            assert ev["user"]["email_addr"]
        else:
            assert ev["actor"]["user"] and ev["api"]["operation"] and ev["src_endpoint"]["ip"]
    assert classes == {3002, 3003, 6003}


def test_the_directory_lists_the_deploy_bot_once_as_a_shared_owned_workload(
    estate: tuple[Path, Summary],
) -> None:
    root, _ = estate
    with (root / "directory.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "identity",
        "kind",
        "alias_namespace",
        "alias_value",
        "owner",
        "shared",
    ]
    assert {r["alias_namespace"] for r in rows} <= set(ALIAS_NAMESPACES)
    humans = {r["identity"] for r in rows if r["kind"] == "human"}
    assert len(humans) == 20
    bot = [r for r in rows if r["alias_value"].endswith(":user/deploy-bot")]
    assert len(bot) == 1
    assert bot[0]["identity"] == "deploy-bot" and bot[0]["alias_namespace"] == "aws_iam_user"
    assert (bot[0]["kind"], bot[0]["shared"]) == ("workload", "true")
    # The people who borrow the key keep only their own aliases.
    assert not [r for r in rows if r["identity"] in humans and r["shared"] == "true"]
    workloads = [r for r in rows if r["kind"] == "workload"]
    assert workloads and all(r["owner"] in humans for r in workloads)
    assert {r["shared"] for r in rows} == {"true", "false"}
