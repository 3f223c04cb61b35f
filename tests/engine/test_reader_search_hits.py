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


def test_hits_of_a_response_are_numbered_and_placed():
    response = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "max_score": 1.0,
            "hits": [hit(EVENT), hit({"event.original": json.dumps({"id": "x"})}, 1)],
        },
    }
    text = json.dumps(response, indent=2)
    recs = read(f"{text}\nnot json\n".encode())
    after = f"line {text.count(chr(10)) + 2}"
    assert [r.position for r in recs] == ["line 1, hit 1", "line 1, hit 2", after]
    assert [r.index for r in recs] == [1, 2, 3]
    assert recs[1].data == {"id": "x"}


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
