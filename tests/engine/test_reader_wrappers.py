"""Wrapper objects: the record arrays of CloudTrail files, Graph and Azure REST pages, Event
Hubs messages and Kubernetes webhook batches, read whole or a record at a time."""

from __future__ import annotations

import io

from forensics.engine import jsontext, reader
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


def test_a_value_page_larger_than_any_record_streams_a_record_at_a_time(monkeypatch):
    # Read whole, the page would be one value over the size limit, and refused.
    monkeypatch.setattr(reader, "CHUNK_CHARS", 256)
    monkeypatch.setattr(jsontext, "CHUNK_CHARS", 256)
    monkeypatch.setattr(jsontext, "MAX_RECORD_CHARS", 1000)
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
