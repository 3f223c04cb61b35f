"""`manage.py ingest`: summary lines, idempotency, quarantine, exit codes."""

from __future__ import annotations

import gzip
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from forensics.ingest.models import Event, IngestBatch, QuarantinedRecord
from forensics.ingest.rawstore import raw_path
from tests.conftest import SAMPLES
from tests.ingest.helpers import ct_record, jsonl, records_file

pytestmark = pytest.mark.django_db


def run_ingest(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_it_ingests_a_records_file_and_prints_the_summary(tmp_path: Path):
    f = tmp_path / "trail.json"
    f.write_bytes(records_file([ct_record(i) for i in range(5)]))
    code, out, _ = run_ingest(str(f))
    assert code == 0
    assert out.strip() == f"{f}: received 5, stored 5, duplicates 0, quarantined 0"
    assert Event.objects.count() == 5
    event = Event.objects.get(source_event_id="00000000-0000-4000-8000-000000000003")
    assert event.actor_principal == "arn:aws:iam::111122223333:user/alice"
    assert json.loads(event.raw) == ct_record(3)


def test_ingesting_the_same_file_twice_stores_nothing_the_second_time(tmp_path: Path):
    f = tmp_path / "trail.json.gz"
    f.write_bytes(gzip.compress(records_file([ct_record(i) for i in range(4)])))
    run_ingest(str(f))
    code, out, _ = run_ingest(str(f))
    assert code == 0
    assert out.strip().endswith("received 4, stored 0, duplicates 4, quarantined 0")
    assert Event.objects.count() == 4


def test_the_same_event_in_another_file_shape_is_a_duplicate(tmp_path: Path):
    (tmp_path / "a.json").write_bytes(records_file([ct_record(1), ct_record(2)]))
    (tmp_path / "b.jsonl").write_bytes(jsonl([ct_record(2), ct_record(3)]))
    code, out, _ = run_ingest(str(tmp_path))
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].endswith("received 2, stored 2, duplicates 0, quarantined 0")
    assert lines[1].endswith("received 2, stored 1, duplicates 1, quarantined 0")


def test_bad_records_are_quarantined_with_position_and_error_and_counts_add_up(tmp_path: Path):
    no_time = ct_record(2)
    del no_time["eventTime"]
    wrong_type = ct_record(3, userIdentity="not-an-object")
    lines = [
        json.dumps(ct_record(1)),
        "{not json",
        json.dumps(no_time),
        json.dumps(wrong_type),
        json.dumps(ct_record(5)),
    ]
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join(lines) + "\n")
    code, out, _ = run_ingest(str(f))
    assert code == 0
    assert out.strip().endswith("received 5, stored 2, duplicates 0, quarantined 3")
    bad = list(QuarantinedRecord.objects.order_by("index"))
    assert [q.position for q in bad] == ["line 2", "line 3", "line 4"]
    assert "invalid JSON" in bad[0].error
    assert "eventTime" in bad[1].error
    assert "userIdentity" in bad[2].error
    assert bad[2].raw == lines[3]
    batch = IngestBatch.objects.get()
    assert batch.received == batch.stored + batch.duplicates + batch.quarantined


def test_a_truncated_gzip_keeps_what_was_readable(tmp_path: Path):
    data = gzip.compress(jsonl([ct_record(i) for i in range(3000)]))
    f = tmp_path / "cut.json.gz"
    f.write_bytes(data[: len(data) * 2 // 3])
    code, _, _ = run_ingest(str(f))
    assert code == 0
    batch = IngestBatch.objects.get()
    assert batch.stored > 100
    assert batch.quarantined == 1
    assert batch.received == batch.stored + batch.quarantined
    assert "truncated or corrupt gzip" in QuarantinedRecord.objects.get().error


def test_the_raw_file_is_kept_byte_exact(tmp_path: Path):
    payload = records_file([ct_record(1)])
    f = tmp_path / "t.json"
    f.write_bytes(payload)
    run_ingest(str(f))
    batch = IngestBatch.objects.get()
    assert raw_path(batch.sha256).read_bytes() == payload
    assert batch.size == len(payload)


def test_an_unknown_format_exits_2_with_one_line(tmp_path: Path):
    f = tmp_path / "weird.json"
    f.write_text('{"hello": "world"}\n')
    code, out, err = run_ingest(str(f))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "unrecognized log format" in err


def test_a_synced_trail_bucket_ingests_its_logs_and_names_its_digest_files(tmp_path: Path):
    """A copy of a trail's S3 prefix holds CloudTrail/, CloudTrail-Insight/ and
    CloudTrail-Digest/; the digests hold no events and are named as what they are."""
    account = tmp_path / "AWSLogs" / "444455556666"
    logs = account / "CloudTrail" / "us-east-1" / "2024" / "04" / "10"
    insights = account / "CloudTrail-Insight" / "us-east-1" / "2024" / "04" / "10"
    digests = account / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10"
    for folder in (logs, insights, digests):
        folder.mkdir(parents=True)
    shutil.copy(SAMPLES / "cloudtrail" / "saml_role_chain.json", logs)
    insight = "444455556666_CloudTrail-Insight_us-east-1_20240410T1440Z_InsightEXAMPLE.json.gz"
    shutil.copy(SAMPLES / "cloudtrail" / insight, insights)
    digest = {
        "awsAccountId": "444455556666",
        "digestStartTime": "2024-04-10T14:00:00Z",
        "digestEndTime": "2024-04-10T15:00:00Z",
        "digestS3Bucket": "amzn-s3-demo-bucket",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": None,
        "oldestEventTime": None,
        "previousDigestSignature": None,
        "logFiles": [],
    }
    name = "444455556666_CloudTrail-Digest_us-east-1_trail_us-east-1_20240410T150000Z.json.gz"
    (digests / name).write_bytes(gzip.compress(json.dumps(digest).encode()))
    code, out, err = run_ingest(str(tmp_path))
    assert code == 2  # one file was refused
    assert "CloudTrail digest file" in err and name in err
    assert "unrecognized" not in err
    assert out.count("received 3, stored 3") == 2, out
    assert IngestBatch.objects.filter(status=IngestBatch.DONE).count() == 2
    assert Event.objects.filter(action="cloudtrail:ApiCallRateInsight").count() == 2


def test_a_missing_file_exits_2():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as info:
        call_command("ingest", "/nonexistent/file.json", stdout=StringIO(), stderr=StringIO())
    assert info.value.returncode == 2


def test_an_unknown_forced_format_exits_2(tmp_path: Path):
    from django.core.management.base import CommandError

    f = tmp_path / "t.json"
    f.write_bytes(records_file([ct_record(1)]))
    with pytest.raises(CommandError) as info:
        call_command("ingest", str(f), "--format", "syslog", stdout=StringIO(), stderr=StringIO())
    assert info.value.returncode == 2


def test_a_forced_format_is_used(tmp_path: Path):
    f = tmp_path / "t.json"
    f.write_bytes(records_file([ct_record(1)]))
    code, _, _ = run_ingest(str(f), "--format", "cloudtrail", "--source", "org-trail")
    assert code == 0
    assert IngestBatch.objects.get().source.name == "org-trail"


def test_a_file_mixing_one_producers_categories_reads_each_record_by_its_own_format(tmp_path):
    """An Event Hub capture can hold sign-ins, directory audits and Graph requests together."""
    mixed = tmp_path / "PT1H.json"
    mixed.write_bytes(
        b"".join(
            (SAMPLES / folder / "PT1H.json").read_bytes()
            for folder in ("entra", "entra_audit", "graph_activity")
        )
    )
    code, out, _err = run_ingest(str(mixed))
    assert code == 0
    assert "received 14, stored 14, duplicates 0, quarantined 0" in out
    kinds = set(Event.objects.values_list("source_kind", flat=True))
    assert kinds == {"entra", "entra_audit", "graph_activity"}
    # A format asked for is the format used: the others' records are quarantined.
    forced = tmp_path / "forced.json"
    forced.write_bytes(mixed.read_bytes() + b"\n")
    code, out, _err = run_ingest(str(forced), "--format", "entra")
    assert "quarantined 9" in out


def test_a_record_no_format_recognizes_says_so_beside_what_the_files_parser_missed(tmp_path):
    signins = (SAMPLES / "entra" / "PT1H.json").read_bytes()
    unknown = {"time": "2024-05-14T09:00:00Z", "category": "NetworkAccessAlerts", "properties": {}}
    broken = json.loads(signins.splitlines()[0])
    del broken["properties"]["createdDateTime"], broken["time"]
    mixed = tmp_path / "PT1H.json"
    mixed.write_bytes(signins + jsonl([unknown, broken]))
    _code, out, _err = run_ingest(str(mixed))
    assert "received 7, stored 5, duplicates 0, quarantined 2" in out
    first, second = QuarantinedRecord.objects.order_by("index").values_list("error", flat=True)
    assert first == (
        "no format recognizes this record; read as the file's (Microsoft Entra sign-ins): "
        "required field 'createdDateTime' (event time) is missing"
    )
    # A sign-in the parser recognizes keeps its own reason.
    assert second.startswith("required field")


def test_an_azure_category_no_parser_reads_is_named(tmp_path):
    # One diagnostic setting sends an AKS cluster's kube-audit and kube-controller-manager
    # logs to the same place.
    audit = json.loads((SAMPLES / "k8s_audit" / "aks_PT1H.json").read_bytes().splitlines()[0])
    controller = {
        **{k: audit[k] for k in ("operationName", "resourceId", "time")},
        "category": "kube-controller-manager",
        "properties": {"log": "I1208 06:00:00.000000 1 controller.go:123] synced", "pod": "x"},
    }
    mixed = tmp_path / "PT1H.json"
    mixed.write_bytes(jsonl([audit, controller]))
    _code, out, _err = run_ingest(str(mixed))
    assert "received 2, stored 1, duplicates 0, quarantined 1" in out
    assert QuarantinedRecord.objects.get().error == (
        "an Azure Monitor record of category 'kube-controller-manager', which is not read: "
        "no format recognizes it"
    )


@pytest.mark.parametrize(
    "body", [b'{"Records": []}', b"[]", b"", b"\n\n", gzip.compress(b""), b'{"records": []}\n']
)
def test_a_file_with_no_records_is_ingested_as_nothing(tmp_path: Path, body: bytes):
    """An empty API page or export (an Okta page with no events, an empty Records list)."""
    f = tmp_path / "empty.json"
    f.write_bytes(body)
    code, out, err = run_ingest(str(f))
    assert (code, err) == (0, "")
    assert "received 0, stored 0, duplicates 0, quarantined 0" in out
    batch = IngestBatch.objects.get()
    assert batch.status == IngestBatch.DONE and batch.detected_format == ""


def test_a_file_of_which_nothing_reads_says_why(tmp_path: Path):
    f = tmp_path / "notes.txt"
    f.write_text("these are not log records\n")
    code, out, err = run_ingest(str(f))
    assert code == 2 and out == ""
    assert "no record could be read: invalid JSON" in err
