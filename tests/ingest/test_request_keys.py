"""Ids that several distinct events can carry: a Kubernetes auditID a client chose, and the
placeholders sanitized exports write where an id was withheld. Neither may make one event a
duplicate of another."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from forensics.engine.model import is_placeholder_id
from forensics.ingest.models import Event, EventKey
from tests.conftest import SAMPLES
from tests.ingest.helpers import counts, jsonl_file

pytestmark = pytest.mark.django_db
AUDIT_LOG = SAMPLES / "k8s_audit" / "audit.log"
rekey = importlib.import_module("forensics.ingest.migrations.0014_scoped_request_keys")


def _request(audit_id: str, user: str, verb: str, resource: str, name: str, when: str) -> dict:
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/prod/{resource}/{name}",
        "verb": verb,
        "user": {"username": user},
        "sourceIPs": ["198.51.100.7"],
        "objectRef": {"resource": resource, "namespace": "prod", "name": name},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": when,
        "stageTimestamp": when,
    }


def _trail(event_id: str, user: str, name: str, key: str, when: str) -> dict:
    return {
        "eventVersion": "1.09",
        "eventID": event_id,
        "eventTime": when,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "eventCategory": "Data",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::111122223333:user/{user}",
            "accountId": "111122223333",
        },
        "requestParameters": {"bucketName": "hr", "key": key},
    }


def test_two_requests_sent_under_one_audit_id_are_two_events(source, ingest_files, tmp_path):
    # The API server takes the client's Audit-ID header as the auditID.
    alice = _request("abcde12345", "alice", "list", "configmaps", "", "2024-05-01T10:00:00Z")
    mallory = _request("abcde12345", "mallory", "get", "secrets", "db", "2024-05-02T03:00:00Z")
    path = jsonl_file(tmp_path, "audit.log", alice, mallory)
    [batch] = ingest_files(source, path)
    assert counts(batch) == (2, 2, 0, 0)
    assert set(Event.objects.values_list("actor_principal", flat=True)) == {"alice", "mallory"}
    [again] = ingest_files(source, path)
    assert counts(again) == (2, 0, 2, 0)


def test_the_stages_of_one_request_stay_one_event(source, ingest_files, tmp_path):
    received = _request("r-1", "alice", "get", "secrets", "db", "2024-05-01T10:00:00Z")
    received.update(stage="RequestReceived", stageTimestamp="2024-05-01T10:00:00Z")
    received.pop("responseStatus")
    complete = _request("r-1", "alice", "get", "secrets", "db", "2024-05-01T10:00:00Z")
    complete["stageTimestamp"] = "2024-05-01T10:00:00.300000Z"
    [batch] = ingest_files(source, jsonl_file(tmp_path, "stages.log", received, complete))
    assert (batch.stored, batch.duplicates) == (1, 1)
    assert Event.objects.get().attrs["audit_stage"] == "ResponseComplete"


@pytest.mark.parametrize("event_id", ["redacted", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"])
def test_events_whose_id_was_withheld_are_not_duplicates_of_each_other(
    source, ingest_files, tmp_path, event_id
):
    login = _trail(event_id, "alice", "GetObject", "hr/holidays.csv", "2024-01-01T12:29:00Z")
    payroll = _trail(event_id, "bob", "GetObject", "hr/payroll.csv", "2024-01-01T13:00:00Z")
    path = jsonl_file(tmp_path, "sanitized.json", login, payroll, payroll)
    [batch] = ingest_files(source, path)
    # The same record twice is still one event: keyed by its raw text's hash.
    assert counts(batch) == (3, 2, 1, 0)
    assert sorted(Event.objects.values_list("resource", flat=True)) == [
        "s3://hr/hr/holidays.csv",
        "s3://hr/hr/payroll.csv",
    ]
    assert all(":sha256:" in k for k in Event.objects.values_list("dedupe_key", flat=True))


@pytest.mark.parametrize(
    "value",
    [
        "redacted",
        "[REDACTED]",
        "<redacted>",
        "xxxxxxxx-xxxx",
        "00000000-0000-0000-0000-000000000000",
        "-",
        "N/A",
        "null",
        "unknown",
        "***",
        "xxx@xxx.xxx",  # masks, as sanitized exports write them
        "ASIAXXXXXXXXXXXXXXXX",
    ],
)
def test_placeholders_are_no_ids(value):
    assert is_placeholder_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "EXAMPLE8-9012-3456-7890-123456789012",
        "fed06f42-cb12-4764-8c69-121063dc79b9",
        "abcde12345",
        "-7xwplhe1",
        "00u1f2g3h4J5k6L7m8n9",
        "x1",
        "AKIAIOSFODNN7EXAMPLE",
        "maxx@example.com",
    ],
)
def test_ids_are_not_placeholders(value):
    assert not is_placeholder_id(value)


def test_upgrading_a_store_rekeys_its_events_so_a_re_ingest_finds_them(
    source, ingest_files, tmp_path
):
    payroll = _trail("redacted", "bob", "GetObject", "hr/payroll.csv", "2024-01-01T13:00:00Z")
    sanitized = jsonl_file(tmp_path, "sanitized.json", payroll)
    first = ingest_files(source, AUDIT_LOG, sanitized)
    assert sum(b.stored for b in first) > 1
    keys = set(Event.objects.values_list("dedupe_key", flat=True))
    precedences = dict(EventKey.objects.values_list("dedupe_key", "precedence"))
    assert any(p for p in precedences.values())  # the stages' ranks
    # The store as the previous release left it: an auditID alone, a placeholder as the id.
    editor = SimpleNamespace(connection=connection)
    rekey.backward(apps, editor)
    plain = set(Event.objects.values_list("dedupe_key", flat=True))
    assert "cloudtrail:redacted" in plain and not any("@" in k for k in plain)
    assert set(EventKey.objects.values_list("dedupe_key", flat=True)) == plain
    rekey.forward(apps, editor)
    assert set(Event.objects.values_list("dedupe_key", flat=True)) == keys
    assert dict(EventKey.objects.values_list("dedupe_key", "precedence")) == precedences
    again = ingest_files(source, AUDIT_LOG, sanitized)
    received = sum(b.received for b in first)
    assert (sum(b.stored for b in again), sum(b.duplicates for b in again)) == (0, received)
