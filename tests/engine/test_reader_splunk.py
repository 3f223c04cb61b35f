"""Events pulled out of Splunk: a search export's lines, a results page or a CSV export. Each
record is the event in ``_raw``, as the producer sent it and Splunk indexed it."""

from __future__ import annotations

import csv
import io
import json

from forensics.engine.parsers.cloudtrail import PARSER
from forensics.engine.reader import iter_records
from tests.engine.parsers.foreign import SAMPLES, sample_records

EVENT = {"eventVersion": "1.09", "eventID": "e1", "eventTime": "2024-03-05T09:58:12Z"}


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def result(raw: str, **fields: str) -> dict[str, str]:
    return {"_raw": raw, "_time": "2024-03-05T09:58:12.000+00:00", "sourcetype": "x", **fields}


def export_line(raw: str, offset: int = 0) -> bytes:
    line = {"preview": False, "offset": offset, "result": result(raw)}
    return json.dumps(line).encode() + b"\n"


def test_a_search_export_gives_the_events_splunk_indexed():
    exported = sample_records("cloudtrail", "splunk_search_export.json")
    delivered = sample_records("cloudtrail", "saml_role_chain.json")
    assert [PARSER.parse(r) for r in exported] == [PARSER.parse(r) for r in delivered]
    path = SAMPLES / "cloudtrail" / "splunk_search_export.json"
    with path.open("rb") as stream:
        recs = list(iter_records(stream))
    lines = path.read_text().splitlines()
    assert [r.text for r in recs] == [json.loads(line)["result"]["_raw"] for line in lines]
    assert [r.position for r in recs] == ["line 1", "line 2", "line 3"]


def test_each_record_keeps_the_raw_event_as_its_text():
    raw = json.dumps(EVENT)
    (rec,) = read(export_line(raw))
    assert rec.text == raw and rec.data == EVENT


def test_a_results_page_and_a_csv_export_read_the_same():
    raw = json.dumps(EVENT)
    page = {
        "preview": False,
        "init_offset": 0,
        "messages": [],
        "fields": [{"name": "_raw"}, {"name": "_time"}],
        "results": [result(raw), result(raw.replace("e1", "e2"))],
        "highlighted": {},
    }
    recs = read(json.dumps(page, indent=2).encode())
    assert [r.data["eventID"] for r in recs] == ["e1", "e2"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["_time", "sourcetype", "_raw"])
    writer.writerow(["2024-03-05T09:58:12.000+00:00", "aws:cloudtrail", raw])
    (row,) = read(out.getvalue().encode())
    assert row.data == EVENT and row.text == raw


def test_a_raw_batch_gives_its_records_and_later_records_are_numbered_after_them():
    batch = json.dumps({"records": [{"id": "a"}, {"id": "b"}]})
    data = export_line(batch) + export_line(json.dumps({"id": "c"}), 1) + b"not json\n"
    recs = read(data)
    assert [r.data and r.data["id"] for r in recs] == ["a", "b", "c", None]
    assert [r.index for r in recs] == [1, 2, 3, 4]
    assert [r.position for r in recs] == [
        "line 1, record 1",
        "line 1, record 2",
        "line 2",
        "line 3",
    ]


def test_an_event_that_is_not_json_is_quarantined_with_its_result():
    line = export_line("Mar  5 09:58:12 host sshd[42]: Accepted publickey for root")
    (rec,) = read(line)
    assert rec.data is None and rec.text == line.decode().strip()
    assert rec.error.startswith("Splunk result whose _raw is not a JSON object")


def test_a_record_that_only_has_such_a_member_is_left_as_it_is():
    own = {"_raw": "x", "level": "info"}  # no _time or sourcetype: not Splunk's
    result_member = {"result": {"_raw": "{}", "_time": "t"}, "status": "ok"}  # no preview
    recs = read(json.dumps(own).encode() + b"\n" + json.dumps(result_member).encode() + b"\n")
    assert [r.data for r in recs] == [own, result_member]
