"""Avro container files: Azure Event Hubs Capture's messages, each body read as the same
batch in a JSON file is, and rows of other schemas; a bad message or block never raises."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest

from forensics.engine.reader import iter_records
from tests.engine.parsers.foreign import SAMPLES, sample_records

# The schema Event Hubs Capture writes its files with.
CAPTURE_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "EventData",
        "namespace": "Microsoft.ServiceBus.Messaging",
        "fields": [
            {"name": "SequenceNumber", "type": "long"},
            {"name": "Offset", "type": "string"},
            {"name": "EnqueuedTimeUtc", "type": "string"},
            {
                "name": "SystemProperties",
                "type": {"type": "map", "values": ["long", "double", "string", "bytes"]},
            },
            {
                "name": "Properties",
                "type": {"type": "map", "values": ["long", "double", "string", "bytes", "null"]},
            },
            {"name": "Body", "type": ["null", "bytes"]},
        ],
    }
)


def capture(bodies: list[bytes | None], codec: str = "null") -> bytes:
    out = io.BytesIO()
    messages = [
        {
            "SequenceNumber": n,
            "Offset": str(n * 512),
            "EnqueuedTimeUtc": "5/14/2024 2:01:12 PM",
            "SystemProperties": {"x-opt-sequence-number": n},
            "Properties": {},
            "Body": body,
        }
        for n, body in enumerate(bodies)
    ]
    fastavro.writer(out, CAPTURE_SCHEMA, messages, codec=codec)
    return out.getvalue()


def read(data: bytes) -> list[Any]:
    return list(iter_records(io.BytesIO(data)))


def batch(*ids: str) -> bytes:
    return json.dumps({"records": [{"id": i, "category": "SignInLogs"} for i in ids]}).encode()


def test_the_sample_capture_holds_the_records_of_its_two_batches():
    with (SAMPLES / "entra" / "eventhubs_capture.avro").open("rb") as stream:
        recs = list(iter_records(stream))
    first = sample_records("entra", "eventhub_signins.json")
    lines = (SAMPLES / "entra" / "PT1H.json").read_text().splitlines()[:2]
    assert [r.data for r in recs] == [*first, *(json.loads(line) for line in lines)]
    # Each record keeps its own text, as it stands in the message's batch.
    assert [r.text for r in recs][2:] == lines
    assert [r.position for r in recs] == [
        "message 1, record 1",
        "message 1, record 2",
        "message 2, record 3",
        "message 2, record 4",
    ]
    assert not any(r.error for r in recs)


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_every_codec_capture_writes_or_avro_knows_is_read(codec):
    recs = read(capture([batch("a", "b"), batch("c")], codec))
    assert [r.data["id"] for r in recs] == ["a", "b", "c"]


def test_a_bad_message_costs_itself_only():
    bodies = [batch("a"), b"not json", None, "caf\xe9".encode("latin-1"), batch("b")]
    recs = read(capture(bodies))
    assert [r.data and r.data["id"] for r in recs] == ["a", None, None, None, "b"]
    assert [r.position for r in recs[1:4]] == ["message 2", "message 3", "message 4"]
    assert recs[1].error.startswith("message body is not JSON")
    assert recs[2].error == "message with no body"
    assert recs[3].error == "message body is not UTF-8 text: invalid byte at 3"


def test_a_body_may_be_one_record_or_an_array_of_them():
    one = json.dumps({"id": "a", "category": "SignInLogs"}).encode()
    many = b'[{"id": "b"}, {"id": "c"}]'
    recs = read(capture([one, many]))
    assert [r.data["id"] for r in recs] == ["a", "b", "c"]
    assert [r.text for r in recs] == [one.decode(), '{"id": "b"}', '{"id": "c"}']
    assert recs[0].position == "message 1"


def test_a_file_cut_short_keeps_what_came_before_and_says_where_it_stopped():
    out = io.BytesIO()
    messages = [
        {
            "SequenceNumber": n,
            "Offset": str(n),
            "EnqueuedTimeUtc": "5/14/2024 2:01:12 PM",
            "SystemProperties": {},
            "Properties": {},
            "Body": batch(f"m{n}"),
        }
        for n in range(40)
    ]
    # A block of about ten messages at a time, as Capture writes several per file.
    fastavro.writer(out, CAPTURE_SCHEMA, messages, codec="deflate", sync_interval=500)
    data = out.getvalue()
    recs = read(data[: len(data) * 3 // 4])
    read_whole = [r for r in recs if r.data is not None]
    assert 10 <= len(read_whole) < 40
    assert [r.data["id"] for r in read_whole] == [f"m{n}" for n in range(len(read_whole))]
    last = recs[-1]
    assert last.data is None and last.position == f"message {len(read_whole) + 1}"
    assert last.error.startswith(f"unreadable Avro data at datum {len(read_whole) + 1}: ")
    assert last.error.endswith("; the rest was not read")


def test_a_file_that_only_starts_like_avro_is_refused_by_its_header():
    (rec,) = read(b"Obj\x01 and then no header at all")
    assert rec.error.startswith("not a readable Avro file")


def test_rows_of_another_schema_are_read_as_parquet_rows_are():
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "Row",
            "fields": [{"name": "id", "type": "string"}, {"name": "blob", "type": "bytes"}],
        }
    )
    out = io.BytesIO()
    fastavro.writer(out, schema, [{"id": "r1", "blob": b"\x00\x01"}])
    (rec,) = read(out.getvalue())
    assert rec.data == {"id": "r1", "blob": "AAE="}
    assert rec.text == '{"blob":"AAE=","id":"r1"}'
    assert rec.position == "row 1"


def test_a_codec_no_library_here_reads_ends_the_reading_with_its_name():
    data = capture([batch("a")], "deflate")
    # The header names the codec as a string of the same length as "deflate".
    (rec,) = read(data.replace(b"deflate", b"brotli7", 1))
    assert rec.data is None and rec.position == "message 1"
    assert rec.error == (
        "unreadable Avro data at datum 1: Unrecognized codec: brotli7; the rest was not read"
    )
