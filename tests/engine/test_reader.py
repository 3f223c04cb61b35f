"""The streaming reader: every file shape, exact record text, errors instead of exceptions."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import lzma
from pathlib import Path

import pytest
from backports import zstd
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.engine import jsontext, reader
from forensics.engine.reader import iter_records

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def test_it_reads_a_top_level_array():
    recs = read(b'[{"a":1},{"b":2}]')
    assert [r.position for r in recs] == ["record 1", "record 2"]


def test_it_reads_json_lines_and_quarantines_a_bad_line_without_stopping():
    recs = read(b'{"a":1}\nnot json\n\n{"b":2}\n[1]\n')
    assert [(r.position, bool(r.error)) for r in recs] == [
        ("line 1", False),
        ("line 2", True),
        ("line 4", False),
        ("line 5", True),
    ]
    assert "invalid JSON" in recs[1].error
    assert recs[3].error == "line is not a JSON object"


def test_it_reads_concatenated_pretty_printed_objects():
    recs = read(b'{\n  "a": 1\n}\n{\n  "b": 2\n}\n')
    assert [r.data for r in recs] == [{"a": 1}, {"b": 2}]
    assert recs[1].position == "line 4"


def test_it_reads_gzip_transparently():
    recs = read(gzip.compress(b'{"Records":[{"a":1}]}'))
    assert [r.data for r in recs] == [{"a": 1}]


def test_a_truncated_gzip_keeps_the_good_records_and_reports_the_break():
    full = gzip.compress(b"".join(b'{"n": %d}\n' % i for i in range(5000)))
    recs = read(full[: len(full) - 40])
    good = [r for r in recs if not r.error]
    bad = [r for r in recs if r.error]
    assert len(good) > 1000
    assert len(bad) == 1
    assert "truncated or corrupt gzip" in bad[0].error
    assert [r.data["n"] for r in good] == list(range(len(good)))


COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": zstd.compress,
}


@pytest.mark.parametrize("name", list(COMPRESSORS))
def test_it_reads_each_compression_log_shippers_write(name):
    recs = read(COMPRESSORS[name](b'{"Records":[{"a":1}]}\n'))
    assert [r.data for r in recs] == [{"a": 1}]


@pytest.mark.parametrize("name", list(COMPRESSORS))
def test_a_truncated_stream_of_any_compression_keeps_the_records_before_the_break(name):
    full = COMPRESSORS[name](
        b"".join(b'{"n": %d, "r": %d}\n' % (i, i * 7919 % 10007) for i in range(120_000))
    )
    # bzip2 decompresses 900 kB blocks whole: the cut must leave at least one behind it.
    recs = read(full[: len(full) * 3 // 4])
    good = [r for r in recs if not r.error]
    assert len(good) > 1000
    assert [r.data["n"] for r in good] == list(range(len(good)))
    assert recs[-1].error.startswith(f"truncated or corrupt {name} stream after ")


def test_text_that_only_starts_like_bzip2_is_read_as_text():
    recs = read(b"BZh,count\nx,1\n")  # a CSV whose first column is named BZh
    assert [r.data for r in recs] == [{"BZh": "x", "count": "1"}]


def test_a_truncated_array_reports_the_broken_record():
    recs = read(b'[{"a":1},{"b":')
    assert recs[0].data == {"a": 1}
    assert recs[1].error.startswith("invalid JSON")


def test_trailing_garbage_after_an_array_is_reported_not_dropped():
    recs = read(b'[{"a":1}] junk')
    assert recs[-1].error == (
        "unexpected content after the record array; the rest of the file, from byte 10,"
        " was not read"
    )


def test_an_empty_file_has_no_records():
    assert read(b"") == []
    assert read(b"\n\n") == []


def test_it_streams_a_large_records_file_in_bounded_chunks():
    # 30 MB of records: the reader must hand them out one by one (indexes in order).
    body = b",".join(b'{"eventID": "%d", "pad": "%s"}' % (i, b"x" * 200) for i in range(120_000))
    count = 0
    for r in iter_records(io.BytesIO(b'{"Records": [' + body + b"]}")):
        count += 1
        assert r.index == count
    assert count == 120_000


TRICKY_ELEMENTS = [
    '{"note": "a string holding },{ and }] and } , {", "n": 1}',
    '{"resources": [{"arn": "a"}, {"arn": "b"}], "n": 2}',
    '{"deep": [[{"x": [{}]}]], "n": 3}',
    '{"inf": Infinity, "n": 4}',  # the standard decoder accepts it; orjson does not
    '{"big": 123456789012345678901234567890, "n": 5}',
    '{\n  "pretty": {\n    "a": [\n      {"b": 1},\n      {"c": 2}\n    ]\n  },\n  "n": 6\n}',
    '{"escaped": "quote \\" then },{", "n": 7}',
]


@pytest.mark.parametrize("wrapper", ['{"Records": [%s]}', "[%s]", "[\n  %s\n]"])
def test_array_elements_are_read_exactly_whichever_decoder_finds_them(wrapper, monkeypatch):
    text = wrapper % ",\n ".join(TRICKY_ELEMENTS)
    quick = list(iter_records(io.BytesIO(text.encode())))
    only_standard(monkeypatch)
    standard = list(iter_records(io.BytesIO(text.encode())))
    assert [r.text for r in quick] == TRICKY_ELEMENTS
    assert [(r.text, r.data, r.error) for r in quick] == [
        (r.text, r.data, r.error) for r in standard
    ]


def only_standard(monkeypatch):
    """Turn both quick searches off: every element goes to the standard decoder."""
    monkeypatch.setattr(jsontext, "_ALIKE_GIVE_UP", 0)
    monkeypatch.setattr(jsontext, "_QUICK_TRIES", 0)


# Records that start alike, with false ends that look like the next record's start.
ALIKE_ELEMENTS = [
    '{"eventVersion": "1", "resources": [{"eventVersion": "x"}, {"eventVersion": "y"}], "n": 1}',
    '{"eventVersion": "2", "note": "},{\\"eventVersion\\": 3}", "n": 2}',
    '{"eventVersion": "3", "big": 123456789012345678901234567890}',
    '{"eventVersion" : "4", "inf": Infinity}',
    '{"other": 5, "nested": [{"eventVersion": 0}]}',
    '{"eventVersion": "6", "tail": [{"a": 1}]}',
    '{"eventVersion": "7"}',
]


@pytest.mark.parametrize("wrapper", ['{"Records": [%s]}', "[%s]", "[\n  %s\n]"])
def test_elements_found_by_their_alike_successor_are_read_exactly(wrapper, monkeypatch):
    text = wrapper % ",\n ".join(ALIKE_ELEMENTS * 20)
    quick = list(iter_records(io.BytesIO(text.encode())))
    only_standard(monkeypatch)
    standard = list(iter_records(io.BytesIO(text.encode())))
    assert [r.text for r in quick] == ALIKE_ELEMENTS * 20
    assert quick == standard
    assert quick[2].data["big"] == 123456789012345678901234567890


def test_every_sample_file_reads_the_same_with_either_decoder(monkeypatch):
    samples = sorted(p for p in SAMPLES.rglob("*") if p.is_file())
    quick = {p: list(iter_records(io.BytesIO(p.read_bytes()))) for p in samples}
    only_standard(monkeypatch)
    for path in samples:
        assert quick[path] == list(iter_records(io.BytesIO(path.read_bytes()))), path


def test_an_integer_wider_than_64_bits_keeps_every_digit_in_json_lines():
    (rec,) = read(b'{"id": 123456789012345678901, "n": 1}\n')
    assert rec.data == {"id": 123456789012345678901, "n": 1}


def test_an_integer_wider_than_64_bits_keeps_every_digit_in_a_wrapper_on_one_line():
    (rec,) = read(b'{"value": [{"id": 123456789012345678901, "n": 1}]}\n')
    assert rec.data == {"id": 123456789012345678901, "n": 1}


def test_it_unwraps_cloudtrail_lookup_events_output():
    path = SAMPLES / "cloudtrail" / "lookup_events_cli.json"
    recs = read(path.read_bytes())
    assert [r.data["EventName"] for r in recs] == ["AssumeRoleWithSAML", "AssumeRole"]
    assert all(not r.error for r in recs)
    # Pretty-printed, as the CLI prints it: read a record at a time, as a Records file is.
    assert recs[1].position == "record 2"


def test_an_events_key_of_another_shape_is_not_unwrapped():
    (rec,) = read(b'{"Events": [{"name": "a"}], "total": 1}\n')
    assert rec.data == {"Events": [{"name": "a"}], "total": 1}
    assert read(b'{"Events": [], "NextToken": "x"}') == []


# --- records that went through CloudWatch Logs -------------------------------------------


def test_it_reads_the_messages_of_filter_log_events_output():
    path = SAMPLES / "k8s_audit" / "eks_filter_log_events.json"
    recs = read(path.read_bytes())
    audit_lines = (SAMPLES / "k8s_audit" / "audit.log").read_text().splitlines()

    assert [r.data for r in recs] == [reader.loads(line) for line in audit_lines[:4]]
    assert all(not r.error for r in recs)
    # The raw text is the log event as written, message and all.
    assert all(r.text.lstrip().startswith("{") and '"eventId"' in r.text for r in recs)
    assert [r.position for r in recs] == [f"record {n}" for n in range(1, 5)]


def test_it_reads_the_lines_of_an_export_to_s3_after_their_timestamps():
    path = SAMPLES / "k8s_audit" / "eks_export_000000.gz"
    recs = read(path.read_bytes())
    audit_lines = (SAMPLES / "k8s_audit" / "audit.log").read_text().splitlines()

    assert [r.data for r in recs] == [reader.loads(line) for line in audit_lines[4:9]]
    assert [r.text[25:] for r in recs] == audit_lines[4:9]
    assert recs[0].text[:25] == "2024-03-12T10:05:44.262Z "


def test_it_reads_subscription_deliveries_written_one_after_another():
    path = SAMPLES / "cloudtrail" / "cloudwatch_firehose_delivery.gz"
    recs = read(path.read_bytes())

    assert [r.data["eventName"] for r in recs] == ["AssumeRoleWithSAML", "AssumeRole", "GetObject"]
    assert all(not r.error and r.text.startswith('{"id":') for r in recs)
    assert [r.index for r in recs] == [1, 2, 3]


def test_a_subscription_control_message_is_an_error_record_not_a_drop():
    control = (
        b'{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"",'
        b'"logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,'
        b'"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}'
    )
    (rec,) = read(control)
    assert rec.data is None
    assert rec.error == "CloudWatch Logs control message (a delivery check), not a log record"


def test_a_log_event_whose_message_is_not_json_is_an_error_record():
    recs = read(
        b'{"events": [{"timestamp": 1, "message": "plain text"}, '
        b'{"timestamp": 2, "message": "[1, 2]"}, {"timestamp": 3}], "nextToken": "t"}'
    )
    assert [r.data for r in recs] == [None, None, None]
    assert {r.error for r in recs} == {"CloudWatch Logs event whose message is not a JSON object"}
    assert recs[0].text == '{"timestamp": 1, "message": "plain text"}'


def test_a_log_event_whose_message_was_cut_short_says_its_json_is_invalid():
    # CloudWatch Logs cuts an event over its size limit: the record's object is unfinished.
    (rec,) = read(b'{"events": [{"timestamp": 1, "message": "{\\"eventVersion\\": \\"1.0"}]}')
    assert rec.data is None
    assert rec.error.startswith("CloudWatch Logs event whose message is invalid JSON: ")


def test_an_events_array_beside_other_members_is_not_unwrapped():
    (rec,) = read(b'{"events": [{"message": "{}"}], "total": 1}\n')
    assert rec.data == {"events": [{"message": "{}"}], "total": 1}


def test_a_line_that_only_starts_like_an_export_line_is_an_error():
    recs = read(b'2024-05-14T09:21:03.514Z {"a": 1}\n2024-05-14T09:21:04Z {"b": \n')
    assert recs[0].data == {"a": 1}
    assert recs[1].data is None and recs[1].error.startswith("invalid JSON")


@pytest.mark.parametrize(
    "prefix",
    [
        b"2024-05-14T09:21:03.514Z ",  # an export to S3
        b"2024-05-14T09:21:03.514000+00:00 111122223333_CloudTrail_us-east-1 ",  # aws logs tail
        b"/aws/cloudtrail 111122223333_CloudTrail_us-east-1 ",  # awslogs get
        b"2024-05-14T09:21:03\t",
    ],
)
def test_the_words_cloudwatch_logs_tools_write_before_each_event_are_passed_over(prefix):
    recs = read(prefix + b'{"a": 1}\n' + prefix + b'{"b": {"c": [1]}}\n{"d": 2}\n')
    assert [r.data for r in recs] == [{"a": 1}, {"b": {"c": [1]}}, {"d": 2}]
    # The line as written stays the record's text.
    assert recs[0].text == (prefix + b'{"a": 1}').decode()


@pytest.mark.parametrize(
    "line",
    [b'four words before it {"a": 1}\n', b'"quoted" {"a": 1}\n', b'x [1] {"a": 1}\n'],
)
def test_other_text_before_an_object_is_no_prefix(line):
    (rec,) = read(line)
    assert rec.data is None


# --- Log Analytics query API responses -------------------------------------------------


def test_it_reads_each_row_of_a_query_response_by_column_name():
    path = SAMPLES / "entra" / "log_analytics_query_api.json"
    recs = read(path.read_bytes())

    assert [r.position for r in recs] == [f"line 1, table 1, row {n}" for n in (1, 2, 3)]
    assert [r.data["UserPrincipalName"] for r in recs] == ["dana@example.com"] * 3
    assert recs[0].data["Status"].startswith('{"errorCode":0,')  # dynamic: JSON text
    assert all(r.text.startswith("[") and not r.error for r in recs)


def test_a_row_that_does_not_fit_the_columns_is_an_error_record():
    recs = read(
        b'{"tables": [{"name": "PrimaryResult", "columns": [{"name": "A", "type": "string"},'
        b' {"name": "B", "type": "long"}], "rows": [["x", 1], ["y"], {"A": "z"}]},'
        b' {"name": "Second", "columns": [{"name": "C", "type": "string"}], "rows": [["w"]]}]}'
    )
    assert [(r.index, r.position) for r in recs] == [
        (1, "line 1, table 1, row 1"),
        (2, "line 1, table 1, row 2"),
        (3, "line 1, table 1, row 3"),
        (4, "line 1, table 2, row 1"),
    ]
    assert [r.data for r in recs] == [{"A": "x", "B": 1}, None, None, {"C": "w"}]
    assert recs[1].error == "row should be an array of 2 values, one per column"
    assert recs[2].text == '{"A": "z"}'


def test_a_tables_member_of_another_shape_is_one_record():
    (rec,) = read(b'{"tables": [{"name": "t"}], "owner": "x"}\n')
    assert rec.data == {"tables": [{"name": "t"}], "owner": "x"}


# --- Parquet (AWS Security Lake) ----------------------------------------------------------


def test_it_reads_the_rows_of_a_parquet_file_as_canonical_json():
    path = SAMPLES / "ocsf" / "security_lake_api_activity.gz.parquet"
    recs = read(path.read_bytes())

    assert [r.position for r in recs] == ["row 1", "row 2", "row 3", "row 4"]
    assert all(not r.error for r in recs)
    assert [reader.loads(r.text) for r in recs] == [r.data for r in recs]
    assert [r.data["api"]["operation"] for r in recs] == [
        "GetObject",
        "AssumeRole",
        "Decrypt",
        "PutObject",
    ]
    # A timestamp column reads as ISO 8601 text in UTC.
    assert recs[0].data["time"].endswith("Z")


def test_a_cut_short_parquet_file_is_an_error_record():
    data = (SAMPLES / "ocsf" / "security_lake_api_activity.gz.parquet").read_bytes()
    (rec,) = read(data[: len(data) // 2])
    assert rec.data is None and rec.error.startswith("unreadable Parquet file")


def test_a_parquet_stream_that_cannot_seek_is_an_error_record():
    data = (SAMPLES / "ocsf" / "security_lake_api_activity.gz.parquet").read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            chunk = self._data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    (rec,) = list(iter_records(Pipe()))
    assert rec.error == "a Parquet file can only be read from disk"


def test_a_lake_results_row_keeps_its_own_text_and_an_odd_row_is_named():
    body = (
        b'{"QueryStatus": "FINISHED", "QueryResultRows": ['
        b'[{"eventJson": "{}"}, {"eventTime": "2025-01-15 11:02:09.000"}], '
        b'{"eventJson": "{}"}, [["not", "cells"]]], "NextToken": "abc"}'
    )
    first, second, third = read(body)
    assert first.data == {"eventJson": "{}", "eventTime": "2025-01-15 11:02:09.000"}
    assert first.text == '[{"eventJson": "{}"}, {"eventTime": "2025-01-15 11:02:09.000"}]'
    # On one line with nothing after it, the response is read a row at a time.
    assert first.position == "row 1"
    assert second.data is None and "one per column" in second.error
    assert third.data is None and third.position == "row 3"
    (whole, _, _) = read(body + b"\n")  # a line of its own: read whole, as JSON Lines are
    assert whole.position == "line 1, row 1" and whole.data == first.data
    (only,) = read(b'{"QueryResultRows": [], "Other": 1}')  # not a Lake response: one record
    assert only.data == {"QueryResultRows": [], "Other": 1}


CSV_HEADER = b"RecordId,CreationDate,Operation,AuditData\r\n"


def test_a_csv_export_is_read_row_by_row_with_each_rows_own_text():
    body = (
        b"\xef\xbb\xbf"
        + CSV_HEADER
        + b'r1,2024-04-10T14:25:03Z,FileAccessed,"{""Id"": ""r1""}"\r\n'
        b'r2,2024-04-10T14:26:00Z,FileDownloaded,"a value\r\nover two lines"\r\n'
        b"\r\n"
        b"r3,2024-04-10T14:27:00Z,FilePreviewed\r\n"
    )
    first, second, third = read(body)
    assert first.data == {
        "RecordId": "r1",
        "CreationDate": "2024-04-10T14:25:03Z",
        "Operation": "FileAccessed",
        "AuditData": '{"Id": "r1"}',
    }
    assert first.text == 'r1,2024-04-10T14:25:03Z,FileAccessed,"{""Id"": ""r1""}"'
    assert first.position == "line 2"
    assert second.data["AuditData"] == "a value\r\nover two lines"
    assert second.text == 'r2,2024-04-10T14:26:00Z,FileDownloaded,"a value\r\nover two lines"'
    assert second.position == "line 3"
    assert third.data is None and third.position == "line 6"
    assert third.error == "row has 3 values; the header names 4 columns"


def test_a_csv_export_cut_inside_a_quoted_value_says_so():
    (only,) = read(CSV_HEADER + b'r1,2024-04-10T14:25:03Z,FileAccessed,"{""Id"": \n')
    assert only.data is None and only.error == "file ends inside a quoted value"


def test_text_that_is_not_a_csv_header_is_not_read_as_one():
    for first_line in (b"hello world\n", b"a,a\n", b"name,{json}\n", b"x\n"):
        records = read(first_line + b"1,2\n")
        assert all(r.data is None for r in records), first_line


def test_a_carriage_return_inside_the_first_line_is_an_error_not_a_traceback():
    # Old Macintosh line ends: the whole file is one line to the reader, which the csv
    # module refuses to split; it used to raise out of the reader.
    (rec,) = read(b"RecordId,Operation\rr1,FileAccessed\rr2,FileDeleted\n")
    assert rec.data is None and rec.error


def test_a_pubsub_message_carries_its_record_in_base64_data():
    import base64
    import json

    entry = {"insertId": "abc", "logName": "projects/p/logs/x", "timestamp": "2024-03-12T09:15:02Z"}
    data = base64.b64encode(json.dumps(entry).encode()).decode()
    push = {
        "message": {"data": data, "messageId": "1"},
        "subscription": "projects/p/subscriptions/s",
    }
    pulled = [{"ackId": "A1", "message": {"data": data, "messageId": "2"}}]
    bad = {"message": {"data": "bm90IGpzb24=", "messageId": "3"}, "subscription": "s"}
    (first,) = read(json.dumps(push).encode())
    assert first.data == entry and first.text == json.dumps(push)  # the envelope stays raw
    (second,) = read(json.dumps(pulled).encode())
    assert second.data == entry
    (third,) = read(json.dumps(bad).encode())
    assert third.data is None and "Pub/Sub message" in third.error
    # A record merely having a "message" member is left as it is.
    (plain,) = read(b'{"message": {"data": "x"}, "level": "info"}')
    assert plain.data == {"message": {"data": "x"}, "level": "info"}


# --- a bad record, and what comes after it ------------------------------------------------


@pytest.mark.parametrize("wrapper", ['{"Records": [%s]}', "[%s]"])
def test_a_broken_array_element_is_one_error_record_and_reading_resumes_after_it(wrapper):
    # The second record was cut short and the third written straight after it (as in a
    # damaged copy); "é" makes byte and character offsets differ.
    elements = [
        '{"eventVersion": "1.08", "n": 1, "who": "é"}',
        '{"eventVersion": "1.08", "n": 2, "resources": [{"x": 1}, {"x": 2}], "src": "s3.amaz',
        '{"eventVersion": "1.08", "n": 3}',
        '{"eventVersion": "1.08", "n": 4}',
    ]
    data = (wrapper % ",".join(elements).replace("amaz,", "amaz")).encode()
    recs = read(data)

    assert [r.data and r.data["n"] for r in recs] == [1, None, 3, 4]
    bad = recs[1]
    assert bad.position == "record 2"
    start, resumed = data.index(b'{"eventVersion": "1.08", "n": 2'), data.index(b'{"eventV', 100)
    assert bad.error.endswith(f"(bytes {start} to {resumed} skipped)")
    assert bad.text == elements[1]
    assert [r.index for r in recs] == [1, 2, 3, 4]


def test_when_no_later_record_can_be_found_the_error_says_the_rest_was_not_read():
    recs = read(b'[{"a": 1}, {"b": nope}, {"c": 3}]')
    assert recs[0].data == {"a": 1}
    (bad,) = recs[1:]
    assert bad.error == (
        "invalid JSON: Expecting value at column 7; no later record could be found;"
        " the rest of the file, from byte 11, was not read"
    )


def test_an_error_in_a_record_over_several_lines_names_its_line_and_column():
    # A raw line break inside a string, as hand-edited or documentation records have.
    body = b'{"Records": [{\n  "eventVersion": "1.08",\n  "note": "a\nb"\n}]}'
    (bad,) = read(body)
    assert bad.error == (
        "invalid JSON: Invalid control character at line 3, column 13 of the record;"
        " no later record could be found; the rest of the file, from byte 13, was not read"
    )


@pytest.mark.parametrize("where", [0, 1])
def test_a_record_over_the_size_limit_is_skipped_and_the_next_one_read(where, small_reads):
    small_reads(64, 1000)
    big = '{"n": 0, "doc": {"s": "%s", "list": [{"a": "]}"}, [1, 2]]}}' % ('x\\"}' * 500)
    elements = ['{"n": 1}', '{"n": 2}']
    elements.insert(where, big)
    data = ('{"Records": [' + ", ".join(elements) + "]}").encode()
    recs = read(data)

    assert [r.data and r.data["n"] for r in recs] == [
        *([None] if where == 0 else [1]),
        *([1, 2] if where == 0 else [None, 2]),
    ]
    bad = recs[where]
    start = data.index(b'{"n": 0')
    end = start + len(big)
    assert bad.error == f"record larger than 1000 characters (bytes {start} to {end} skipped)"
    assert len(bad.text) > 1000 and big.startswith(bad.text)  # what was read of it


def test_it_reads_json_arrays_written_one_after_another():
    recs = read(b'[{"n": 1}, {"n": 2}]\n[{"n": 3}][]{"Records": [{"n": 4}]}\n')
    assert [r.data for r in recs] == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert [r.position for r in recs] == [f"record {n}" for n in (1, 2, 3, 4)]


def test_json_lines_with_a_cut_first_line_skip_each_bad_line_and_go_on():
    data = (
        b'"cut":"off","n":0}\n'
        b'{"n": 1}\n'
        b"\n"
        b"{not json}\n"
        b'{"n": 2, "pretty": {\n  "a": 1\n}}\n'
        b'{"n": 3, "s": "raw\tcontrol\n'
        b'{"n": 4}\n'
    )
    recs = read(data)
    assert [(r.position, r.data and r.data["n"]) for r in recs] == [
        ("line 1", None),
        ("line 2", 1),
        ("line 4", None),
        ("line 5", 2),
        ("line 8", None),
        ("line 9", 4),
    ]
    assert recs[0].text == '"cut":"off","n":0}\n'
    assert recs[2].error == (
        "invalid JSON: Expecting property name enclosed in double quotes at line 4"
        f" (bytes {data.index(b'{not')} to {data.index(b'{not') + 11} skipped)"
    )
    assert recs[4].error.startswith("invalid JSON: Invalid control character at line 8 ")


def test_objects_written_with_no_separator_stream_past_a_bad_one(small_reads):
    # Only the record size is limited: a file of objects larger than any whole-file limit
    # streams through, and a bad object in it costs only itself.
    small_reads(256, 1000)
    objects = [b'{"n": %d, "pad": "%s"}' % (n, b"p" * 50) for n in range(2000)]
    objects[700] = b'{"n": 700, "pad": }'
    recs = read(b"".join(objects))

    assert len(recs) == 2000
    assert [r.index for r in recs] == list(range(1, 2001))
    assert recs[700].data is None and recs[700].error.startswith("invalid JSON")
    assert [r.data["n"] for r in recs if r.data] == [n for n in range(2000) if n != 700]


def test_pretty_printed_objects_keep_their_line_numbers_across_chunks(small_reads):
    small_reads(16, None)
    data = b"".join(b'{\n  "n": %d,\n  "s": "\xc3\xa9"\n}\n\n' % n for n in range(50))
    recs = read(data)
    assert [r.position for r in recs] == [f"line {1 + 5 * n}" for n in range(50)]
    assert [r.data for r in recs] == [{"n": n, "s": "é"} for n in range(50)]


# --- wrappers ------------------------------------------------------------------------------


def test_it_unwraps_the_events_of_okta_event_hook_deliveries():
    def delivery(event_id: str, uuids: list[str]) -> str:
        events = [{"uuid": u, "eventType": "user.session.start"} for u in uuids]
        return json.dumps(
            {
                "eventType": "com.okta.event_hook",
                "eventTypeVersion": "1.0",
                "cloudEventsVersion": "0.1",
                "source": "https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Hb0g7",
                "eventId": event_id,
                "data": {"events": events},
                "eventTime": "2024-05-14T09:15:10.000Z",
                "contentType": "application/json",
            }
        )

    recs = read((delivery("d1", ["a", "b"]) + "\n" + delivery("d2", ["c"]) + "\n").encode())
    assert [r.data["uuid"] for r in recs] == ["a", "b", "c"]
    assert [r.position for r in recs] == ["line 1, event 1", "line 1, event 2", "line 2, event 1"]
    assert recs[0].text == '{"uuid": "a", "eventType": "user.session.start"}'
    assert all(not r.error for r in recs)
    # An Okta System Log event is not a delivery, whatever its data holds.
    (event,) = read(b'{"eventType": "user.session.start", "data": {"events": []}}\n')
    assert event.data["eventType"] == "user.session.start"


def test_it_unwraps_lookup_events_saved_from_a_boto3_response():
    body = (
        b'{"Events": [{"EventId": "e1", "CloudTrailEvent": "{}"}], "NextToken": "t",'
        b' "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200, "RetryAttempts": 0}}'
    )
    (rec,) = read(body)
    assert rec.data == {"EventId": "e1", "CloudTrailEvent": "{}"}


# --- encodings -----------------------------------------------------------------------------


UNICODE_RECORDS = ['{"user": "Zoë", "n": 1}', '{"note": "😀 \\u00e9", "n": 2}']


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("shape", ["array", "lines", "csv"])
@pytest.mark.parametrize("gzipped", [False, True])
def test_a_file_in_utf16_or_utf32_with_a_byte_order_mark_is_read(encoding, shape, gzipped):
    # Windows PowerShell writes UTF-16 when it redirects output (> file) or runs Out-File.
    text = {
        "array": "[\r\n" + ",\r\n".join(UNICODE_RECORDS) + "\r\n]",
        "lines": "\r\n".join(UNICODE_RECORDS) + "\r\n",
        "csv": "CreationDate,AuditData\r\n"
        + "".join(f'2026-10-05,"{r.replace(chr(34), 2 * chr(34))}"\r\n' for r in UNICODE_RECORDS),
    }[shape]
    mark = "\ufeff".encode(encoding)
    data = mark + text.encode(encoding)
    recs = read(gzip.compress(data) if gzipped else data)
    assert [r.error for r in recs] == ["", ""]
    if shape == "csv":
        assert [r.data["AuditData"] for r in recs] == UNICODE_RECORDS
    else:
        assert [r.text for r in recs] == UNICODE_RECORDS
        assert [r.data["n"] for r in recs] == [1, 2]
        assert recs[1].data["note"] == "😀 é"


def test_a_utf16_file_read_across_many_chunks_keeps_every_character():
    records = [f'{{"n": {n}, "who": "Zoë-{n}", "pad": "{"😀" * 200}"}}' for n in range(3000)]
    recs = read(("[" + ",".join(records) + "]").encode("utf-16"))
    assert [r.text for r in recs] == records


def test_an_unpaired_surrogate_in_utf16_text_is_read_as_its_escape():
    # A string cut short inside a surrogate pair, as .NET producers write them.
    data = codecs.BOM_UTF16_LE + '{"a": "x'.encode("utf-16-le") + b"\x3d\xd8"
    data += '", "n": 1}\n{"n": 2}\n'.encode("utf-16-le")
    recs = read(data)
    assert recs[0].text == '{"a": "x\\ud83d", "n": 1}'
    assert recs[0].data == {"a": "x\ud83d", "n": 1}
    assert recs[1].data == {"n": 2}


def test_utf16_text_that_ends_inside_a_character_says_where_after_the_records_before_it():
    data = '[{"a": 1}, {"b": 2}]'.encode("utf-16") + b"\x00"
    recs = read(data)
    assert [r.data for r in recs[:2]] == [{"a": 1}, {"b": 2}]
    assert recs[2].error == (
        f"invalid UTF-16 at byte {len(data) - 1} (the file ends inside a character);"
        " the rest of the file was not read"
    )


def test_a_truncated_gzip_of_utf16_text_keeps_the_records_before_the_break():
    full = gzip.compress(
        b"".join(b'{"n": %d}\n' % i for i in range(5000)).decode().encode("utf-16")
    )
    recs = read(full[: len(full) - 40])
    good = [r for r in recs if not r.error]
    assert len(good) > 1000
    assert [r.data["n"] for r in good] == list(range(len(good)))
    assert "truncated or corrupt gzip" in recs[-1].error


def test_a_utf32_mark_is_not_taken_for_a_utf16_one():
    (rec,) = read('{"a": 1}\n'.encode("utf-32"))  # FF FE 00 00: UTF-16's mark, then NUL
    assert rec.data == {"a": 1}


def test_gzip_inside_gzip_is_named_as_such():
    (rec,) = read(gzip.compress(gzip.compress(b'[{"a": 1}]')))
    assert rec.error.startswith("gzip inside gzip at byte 0")


def test_a_run_of_digits_cut_by_a_chunk_boundary_is_seen_by_the_quick_decoder():
    # Neither piece holds 19 digits in a row; together they hold 22.
    buf = jsontext.Buffer(iter([('{"id": 1234567890', 17), ("123456789012}", 13)]))
    buf.more()
    assert buf._loads('{"n": 1}') == {"n": 1}
    buf.more()
    assert buf._loads(buf.text) == {"id": 1234567890123456789012}


def test_a_wide_integer_cut_by_a_chunk_boundary_keeps_every_digit(small_reads):
    # Records longer than a chunk, each with one 20-digit number: many numbers are cut in
    # two by a chunk's end, neither part being 19 digits long.
    small_reads(64, None)
    records = [f'{{"p": "{"x" * (60 + n)}", "id": {10**19 + n}}}' for n in range(64)]
    recs = read(("[" + ", ".join(records) + "]").encode())
    assert [r.data["id"] for r in recs] == [10**19 + n for n in range(64)]


def test_pretty_printed_objects_one_after_another_read_the_same_with_either_decoder(monkeypatch):
    # As `jq '.Records[]'` prints them, or PowerShell's ConvertTo-Json (CRLF, 4 spaces).
    records = [
        {"eventID": "a", "nested": {"list": [{"x": 1}, {"y": "}\n{"}]}, "n": 1},
        {"eventID": "b", "big": 123456789012345678901234567890, "text": "line\nbreak }"},
        {"eventID": "c", "empty": {}, "n": 3},
    ]
    for newline, indent in (("\n", 2), ("\r\n", 4)):
        text = newline.join(json.dumps(r, indent=indent).replace("\n", newline) for r in records)
        quick = read((text + newline).encode())
        only_standard(monkeypatch)
        standard = read((text + newline).encode())
        monkeypatch.undo()
        assert quick == standard
        assert [r.data for r in quick] == records
        assert [r.position for r in quick] == [r.position for r in standard]


def test_a_run_of_digits_inside_a_string_is_not_taken_for_a_wide_number():
    # GCP names service accounts by 21-digit unique ids, and session ids hold long runs of
    # hex digits: in strings, they are left to orjson, which keeps strings whole.
    for text in (
        '{"unique_id":"377808655829615755329"}',
        '{"samlId":"_dbe11be47041962990785621403d57eb"}',
        '{"name":"projects/p/keys/12345678901234567890", "n": 12}',
    ):
        assert not jsontext.has_long_digit_run(text), text
    # A number starts after ":", ",", "[", white space or "-", or where the text starts.
    for text in (
        '{"n":12345678901234567890}',
        '{"n": 12345678901234567890}',
        "[1,12345678901234567890]",
        "[12345678901234567890]",
        '{"n":\n\t12345678901234567890}',
        '{"n":-12345678901234567890}',
        "12345678901234567890",
        '{"s":"abc12345678901234567890", "n": 12345678901234567890}',
    ):
        assert jsontext.has_long_digit_run(text), text


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.from_regex(r"[a-z_/-]{0,3}[0-9]{15,25}[a-z]{0,3}", fullmatch=True),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON_VALUES, spaced=st.booleans(), indent=st.sampled_from([None, 1, "\t"]))
def test_the_quick_decoder_reads_every_value_as_the_standard_one_does(value, spaced, indent):
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, separators=separators, indent=indent)
    decoded = jsontext.loads(text)
    assert decoded == json.loads(text)
    assert repr(decoded) == repr(json.loads(text))  # an int stays an int, digit for digit
