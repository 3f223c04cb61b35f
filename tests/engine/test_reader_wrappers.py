"""Wrapper objects: the record arrays of CloudTrail files, Graph and Azure REST pages, Event
Hubs messages and Kubernetes webhook batches, read whole or a record at a time."""

from __future__ import annotations

import base64
import io
import json

from forensics.engine.reader import iter_records


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def test_it_reads_a_records_wrapper_with_exact_text():
    recs = read(b'{"Records": [{"a": 1},  {"b": "x]}"}\n]}')
    assert [r.text for r in recs] == ['{"a": 1}', '{"b": "x]}"}']
    assert [r.data for r in recs] == [{"a": 1}, {"b": "x]}"}]
    assert all(not r.error for r in recs)


def test_it_expands_a_value_wrapper_that_is_not_the_first_key():
    recs = read(b'{"@odata.context": "x", "value": [{"id": "1"}, {"id": "2"}]}')
    assert [r.data for r in recs] == [{"id": "1"}, {"id": "2"}]
    assert recs[0].text == '{"id": "1"}'


def test_it_unwraps_a_kubernetes_webhook_event_list():
    recs = read(
        b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a"},{"auditID":"b"}]}\n'
    )
    assert [r.data["auditID"] for r in recs] == ["a", "b"]


def test_an_items_array_of_another_kind_is_one_record():
    recs = read(b'{"kind":"Other","items":[{"x":1}]}\n')
    assert len(recs) == 1 and recs[0].data["kind"] == "Other"


def _graph_page(records: list[str], after: str = ', "@odata.nextLink": "https://x/?$skiptoken=a"'):
    """A Graph or Azure REST page as it is saved: pretty-printed, the records after a plain
    member, a link to the next page after them."""
    body = ",\n    ".join(records)
    return (
        '{\n  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",'
        f'\n  "value": [\n    {body}\n  ]{after}\n}}\n'
    ).encode()


def test_a_value_page_larger_than_any_record_streams_a_record_at_a_time(small_reads):
    # Read whole, the page would be one value over the size limit, and refused.
    small_reads(256, 1000)
    records = [f'{{"id": "{n}", "userPrincipalName": "u{n}@example.com"}}' for n in range(300)]
    data = _graph_page(records)
    assert len(data) > 10 * 1000

    recs = read(data)

    assert [r.text for r in recs] == records
    assert [r.data["id"] for r in recs] == [str(n) for n in range(300)]
    assert [r.position for r in recs] == [f"record {n}" for n in range(1, 301)]


def test_a_bad_record_in_a_streamed_records_wrapper_costs_itself_only():
    records = [f'{{"n": {n}}}' for n in range(5)]
    records[2] = '{"n": 2, "oops": }'
    data = ('{\n  "records": [\n    ' + ",\n    ".join(records) + "\n  ]\n}\n").encode()

    recs = read(data)

    assert [r.data and r.data["n"] for r in recs] == [0, 1, None, 3, 4]
    assert recs[2].error.startswith("invalid JSON")


def test_a_second_record_array_after_the_streamed_one_is_reported():
    data = _graph_page(['{"id": "1"}'], after=',\n  "items": [{"id": "2"}, {"id": "3"}]')

    recs = read(data)

    assert recs[0].data == {"id": "1"}
    assert recs[1].data is None
    assert recs[1].text == '[{"id": "2"}, {"id": "3"}]'  # what was not read, as evidence
    assert (
        recs[1].error
        == 'a second record array, "items", after the value array: its 2 records were not read'
    )
    assert len(recs) == 2


def test_content_after_a_streamed_value_array_names_where_reading_stopped():
    data = _graph_page(['{"id": "1"}'], after=" junk")

    recs = read(data)

    at = data.index(b"junk") - 1  # after the array's "]", at the white space before it
    assert recs[0].data == {"id": "1"}
    assert recs[1].error == (
        f"unexpected content after the value array; the rest of the file, from byte {at + 1},"
        " was not read"
    )


def test_json_lines_of_small_wrappers_are_read_a_line_at_a_time():
    # One Event Hubs message a line: a bad line costs that line, and positions name lines.
    data = b'{"records": [{"n": 1}, {"n": 2}]}\n{"records": [{"n": 3}\n{"records": [{"n": 4}]}\n'

    recs = read(data)

    assert [(r.position, r.data and r.data["n"]) for r in recs] == [
        ("line 1, record 1", 1),
        ("line 1, record 2", 2),
        ("line 2", None),
        ("line 3, record 4", 4),  # records are numbered through the file
    ]


# --- the AWS CLI's pages: CloudWatch Logs events and LookupEvents ------------------------


def _log_event(n: int, message: str | None = None) -> str:
    """A log event as `aws logs filter-log-events` prints it, its message an audit record."""
    if message is None:
        message = json.dumps({"kind": "Event", "auditID": f"audit-{n}", "verb": "get"})
    return json.dumps(
        {
            "logStreamName": "kube-apiserver-audit-0a1b2c",
            "timestamp": 1710234131481 + n,
            "message": message,
            "ingestionTime": 1710234131999,
            "eventId": f"3790{n:052d}",
        },
        indent=4,
    ).replace("\n", "\n        ")


def _cli_page(key: str, entries: list[str], after: str) -> bytes:
    """One object however many pages the CLI fetched, indented by four as it prints it."""
    body = ",\n        ".join(entries)
    return f'{{\n    "{key}": [\n        {body}\n    ]{after}\n}}\n'.encode()


SEARCHED = (
    ',\n    "searchedLogStreams": [\n        '
    '{"logStreamName": "kube-apiserver-audit-0a1b2c", "searchedCompletely": true}\n    ]'
)


def test_a_log_events_page_larger_than_any_record_streams_its_messages(small_reads):
    # EKS audit logs saved with `aws logs filter-log-events ... > page.json`: read whole,
    # the page was one value over the size limit, and refused.
    small_reads(512, 2000)
    entries = [_log_event(n) for n in range(200)]
    data = _cli_page("events", entries, SEARCHED)
    assert len(data) > 20 * 2000

    recs = read(data)

    # The raw text is the log event as printed; the data is its message, the audit record.
    assert [r.text for r in recs] == entries
    assert [r.data["auditID"] for r in recs] == [f"audit-{n}" for n in range(200)]
    assert all(not r.error for r in recs)  # searchedLogStreams is the page's own


def test_a_log_event_whose_message_is_not_a_record_costs_itself_only():
    entries = [_log_event(0), _log_event(1, "CWL CONTROL MESSAGE: Checking health"), _log_event(2)]
    recs = read(_cli_page("events", entries, SEARCHED))
    assert [r.data and r.data["auditID"] for r in recs] == ["audit-0", None, "audit-2"]
    assert recs[1].error.startswith("CloudWatch Logs control message")


def test_a_lookup_events_page_streams_its_entries_and_passes_over_its_metadata(small_reads):
    # `aws cloudtrail lookup-events > events.json`: larger than any record may be.
    small_reads(512, 2000)
    entries = [
        json.dumps(
            {
                "EventId": f"e{n}",
                "EventName": "GetObject",
                "CloudTrailEvent": json.dumps({"eventID": f"e{n}", "eventVersion": "1.09"}),
            }
        )
        for n in range(100)
    ]
    after = ',\n    "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 200}'
    recs = read(_cli_page("Events", entries, after))
    assert [r.data["EventId"] for r in recs] == [f"e{n}" for n in range(100)]
    assert [r.text for r in recs] == entries and all(not r.error for r in recs)


def test_an_events_array_of_other_objects_is_read_whole_as_before():
    # "events" is a common word: without a log event first, the object is one record.
    data = _cli_page("events", ['{"name": "deploy", "at": 1}'], ',\n    "total": 1')
    (rec,) = read(data)
    assert rec.data == {"events": [{"name": "deploy", "at": 1}], "total": 1}


def test_json_lines_of_log_events_pages_stay_line_by_line():
    page = json.dumps({"events": [json.loads(_log_event(n)) for n in range(2)]})
    recs = read(f"{page}\nnot json\n{page}\n".encode())
    assert [r.position.split(",")[0] for r in recs] == [
        "line 1",
        "line 1",
        "line 2",
        "line 3",
        "line 3",
    ]
    assert [bool(r.error) for r in recs] == [False, False, True, False, False]


def test_a_log_events_page_whose_first_event_runs_past_the_first_read_still_streams(
    small_reads,
):
    small_reads(512, 4000)
    long = json.dumps({"kind": "Event", "auditID": "audit-0", "requestObject": "x" * 1500})
    entries = [_log_event(0, long), *(_log_event(n) for n in range(1, 40))]
    recs = read(_cli_page("events", entries, SEARCHED))
    assert [r.data["auditID"] for r in recs] == [f"audit-{n}" for n in range(40)]


def _log_entry(n: int) -> str:
    """A Cloud Logging LogEntry as entries.list returns it."""
    return json.dumps(
        {
            "insertId": f"1q8x2f9e4k{n:04d}",
            "logName": "projects/example-ops/logs/cloudaudit.googleapis.com%2Fdata_access",
            "protoPayload": {"methodName": "storage.objects.get"},
            "timestamp": "2024-03-12T09:14:55.481937261Z",
        },
        indent=2,
    )


def test_a_cloud_logging_entries_page_streams_its_entries_and_passes_over_its_token(
    small_reads,
):
    # entries.list answers {"entries": [...], "nextPageToken": ...}; a script that saves
    # every page's entries in one response-shaped file can make it any size.
    small_reads(512, 2000)
    entries = [_log_entry(n) for n in range(100)]
    recs = read(_cli_page("entries", entries, ',\n    "nextPageToken": "EAE4wrnRgpb7hQFK"'))
    assert [r.text for r in recs] == entries and all(not r.error for r in recs)
    assert [r.data["insertId"] for r in recs] == [f"1q8x2f9e4k{n:04d}" for n in range(100)]


def test_json_lines_of_entries_pages_are_read_a_line_at_a_time():
    def page(*ns: int) -> str:
        return json.dumps(
            {"entries": [json.loads(_log_entry(n)) for n in ns], "nextPageToken": "t"}
        )

    # A page with no entries leaves the member out and holds its token alone.
    data = f'{page(0, 1)}\n{{"nextPageToken": "t2"}}\n{page(2)}\n'.encode()
    recs = read(data)
    assert [r.data["insertId"] for r in recs] == [f"1q8x2f9e4k{n:04d}" for n in range(3)]
    assert [r.position.split(",")[0] for r in recs] == ["line 1", "line 1", "line 3"]
    assert not any(r.error for r in recs)


def test_an_entries_array_of_other_objects_is_read_whole():
    # "entries" is a common word: without a LogEntry first, the object is one record.
    data = _cli_page("entries", ['{"name": "deploy"}'], "")
    (rec,) = read(data)
    assert rec.data == {"entries": [{"name": "deploy"}]}


def test_a_pubsub_pull_response_gives_the_record_of_each_message():
    entry = {"insertId": "a1", "logName": "projects/p/logs/x", "timestamp": "2024-03-12T09:14:55Z"}
    message = {
        "ackId": "UAYWLF1GSFE3GQhoUQ5PXiM",
        "message": {
            "data": base64.b64encode(json.dumps(entry).encode()).decode(),
            "messageId": "10845732915739420",
            "publishTime": "2024-03-12T09:14:56.012Z",
        },
    }
    other = {**message, "message": {**message["message"], "data": "bm90IGpzb24="}}
    texts = [json.dumps(message, indent=2), json.dumps(other, indent=2)]
    recs = read(_cli_page("receivedMessages", texts, ""))
    # The raw text is the received message, envelope and all; the data is its LogEntry.
    assert [r.text for r in recs] == texts
    assert recs[0].data == entry and not recs[0].error
    assert recs[1].data is None and "base64" in recs[1].error


def test_cloudtrail_lake_results_larger_than_any_record_stream_a_row_at_a_time(small_reads):
    # `aws cloudtrail get-query-results` prints every page's rows in one object, its
    # statistics before them: a day of a busy account's events is more than a record holds.
    small_reads(512, 2000)
    rows = [
        json.dumps(
            [{"eventJson": json.dumps({"eventID": f"e{n}"})}, {"eventTime": "2025-01-15"}],
            indent=4,
        )
        for n in range(150)
    ]
    statistics = {"ResultsCount": 150, "BytesScanned": 81920}
    before = (
        f'{{\n    "QueryStatus": "FINISHED",\n    "QueryStatistics": {json.dumps(statistics)},\n'
    )
    rows_text = ",\n".join(rows)
    after = '\n    ],\n    "NextToken": "AYADeEXAMPLE"\n}\n'
    data = (before + '    "QueryResultRows": [\n' + rows_text + after).encode()
    assert len(data) > 8 * 2000
    recs = read(data)
    assert [json.loads(r.data["eventJson"])["eventID"] for r in recs] == [
        f"e{n}" for n in range(150)
    ]
    assert [r.position for r in recs[:2]] == ["row 1", "row 2"]
    assert not any(r.error for r in recs)


def test_a_wrapper_of_arrays_of_another_key_is_read_whole():
    data = b'{\n  "value": [[1, 2], [3, 4]]\n}\n'
    (rec,) = read(data)
    assert rec.data == {"value": [[1, 2], [3, 4]]}
