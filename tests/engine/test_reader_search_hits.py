"""Events pulled out of Elasticsearch or OpenSearch: a search response's hits, or hits one a
line (a scroll, elasticdump). A hit gives the original event an integration kept in
``event.original``, or its document as a shipper forwarded it unchanged."""

from __future__ import annotations

import io
import json

import pytest

from forensics.engine.parsers import UnknownFormat, detect
from forensics.engine.parsers.cloudtrail import PARSER
from forensics.engine.reader import iter_records
from tests.engine.parsers.foreign import sample_records

EVENT = {"eventVersion": "1.09", "eventID": "e1", "eventTime": "2024-03-05T09:58:12Z"}


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def hit(source: dict, n: int = 0) -> dict:
    return {"_index": "logs", "_id": f"id{n}", "_score": 1.0, "_source": source}


def test_a_search_response_gives_the_events_it_found():
    found = sample_records("cloudtrail", "elasticsearch_search.json")
    delivered = sample_records("cloudtrail", "saml_role_chain.json")
    assert [PARSER.parse(r) for r in found] == [PARSER.parse(r) for r in delivered]


def test_each_hit_keeps_its_document_or_original_event_as_its_text():
    forwarded = '{"eventVersion": "1.09",  "eventID": "e1"}'
    original = json.dumps(EVENT)
    line = (
        '{"_index": "logs", "_id": "a", "_source": ' + forwarded + "}\n"
        + json.dumps(hit({"@timestamp": "t", "event": {"original": original}}, 1))
        + "\n"
    )  # fmt: skip
    recs = read(line.encode())
    assert [r.text for r in recs] == [forwarded, original]
    assert [r.data for r in recs] == [json.loads(forwarded), EVENT]
    assert [r.position for r in recs] == ["line 1", "line 2"]


def response(*hits: dict) -> dict:
    return {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0, "hits": hits},
    }


def test_hits_of_a_response_on_one_line_are_numbered_and_placed():
    page = response(hit(EVENT), hit({"event.original": json.dumps({"id": "x"})}, 1))
    recs = read(json.dumps(page).encode() + b"\nnot json\n")
    assert [r.position for r in recs] == ["line 1, hit 1", "line 1, hit 2", "line 2"]
    assert [r.index for r in recs] == [1, 2, 3]
    assert recs[1].data == {"id": "x"}


def test_a_response_larger_than_any_record_is_read_a_hit_at_a_time(small_reads):
    small_reads()
    hits = [hit({**EVENT, "eventID": f"e{n}"}, n) for n in range(200)]
    pages = [json.dumps(response(*hits[:150]), indent=2), json.dumps(response(*hits[150:]))]
    data = ("\n".join(pages) + "\n").encode()
    assert len(data) > 10 * 2000
    recs = read(data)
    assert [r.data["eventID"] for r in recs] == [f"e{n}" for n in range(200)]
    assert [r.position for r in recs[:2]] == ["hit 1", "hit 2"] and recs[-1].position == "hit 200"
    assert not any(r.error for r in recs)
    cut = read(data[: len(data) // 2])
    assert cut[-1].error and 10 < len(cut) < 200


def test_a_splunk_results_page_is_read_a_result_at_a_time(small_reads):
    small_reads()
    results = [
        {"_raw": json.dumps({**EVENT, "eventID": f"e{n}"}), "_time": "t", "sourcetype": "x"}
        for n in range(100)
    ]
    page = {
        "preview": False,
        "init_offset": 0,
        "messages": [],
        "fields": [{"name": "_raw"}, {"name": "_time"}, {"name": "sourcetype"}],
        "results": results,
        "highlighted": {},
    }
    recs = read(json.dumps(page, indent=2).encode())
    assert [r.data["eventID"] for r in recs] == [f"e{n}" for n in range(100)]
    assert recs[0].position == "result 1" and recs[0].text == results[0]["_raw"]


def test_a_splunk_export_whose_first_line_is_long_is_still_read_line_by_line(small_reads):
    small_reads()
    lines = [
        json.dumps({"preview": False, "offset": n, "result": {
            "_raw": json.dumps({**EVENT, "eventID": f"e{n}", "pad": "p" * 900}),
            "_time": "t", "sourcetype": "x"}})
        for n in range(3)
    ]  # fmt: skip
    recs = read(("\n".join(lines) + "\n").encode())
    assert [r.data["eventID"] for r in recs] == ["e0", "e1", "e2"]
    assert [r.position for r in recs] == ["line 1", "line 2", "line 3"]


def test_an_original_event_that_is_not_json_is_quarantined_with_its_hit():
    source = {"event": {"original": "<134>May 14 09:20:17 fw1 allow tcp"}}
    (rec,) = read(json.dumps(hit(source)).encode())
    assert rec.data is None and rec.error.startswith("search hit whose event.original is not")


def test_a_record_with_a_source_member_of_its_own_is_left_as_it_is():
    own = {"_source": {"a": 1}, "kind": "mine"}  # no _index or _id: not a hit
    (rec,) = read(json.dumps(own).encode())
    assert rec.data == own


def test_documents_an_integration_renamed_are_refused_by_what_they_are():
    ecs = {"@timestamp": "2024-03-05T09:58:12.000Z", "ecs": {"version": "8.11.0"},
           "event": {"action": "GetObject"}}  # fmt: skip
    (rec,) = read(json.dumps(hit(ecs)).encode())
    with pytest.raises(UnknownFormat) as refused:
        detect([rec.data])
    assert str(refused.value).startswith("Elastic Common Schema documents")
    assert "event.original" in str(refused.value)
