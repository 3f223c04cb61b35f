"""Log Analytics query API responses read a row at a time: a response may hold up to
500,000 rows, more than one record may, so it is never decoded whole."""

from __future__ import annotations

import io
import json

from forensics.engine.reader import iter_records

COLUMNS = [{"name": "TimeGenerated", "type": "datetime"}, {"name": "Id", "type": "string"}]


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def response(ids: list[str], **beside) -> dict:
    rows = [["2024-05-14T09:20:17Z", i] for i in ids]
    return {"tables": [{"name": "PrimaryResult", "columns": COLUMNS, "rows": rows}], **beside}


def test_a_response_larger_than_any_record_is_read_a_row_at_a_time(small_reads):
    small_reads()
    ids = [f"id-{n}" for n in range(300)]
    data = json.dumps(response(ids, statistics={"query": {"executionTime": 0.2}}), indent=2)
    assert len(data) > 10 * 2000
    recs = read(data.encode())
    assert [r.data["Id"] for r in recs] == ids and not any(r.error for r in recs)
    assert recs[0].position == "line 1, table 1, row 1"
    # Each row's text is its own, as the response has it.
    assert recs[0].text in data and json.loads(recs[0].text) == ["2024-05-14T09:20:17Z", "id-0"]


def test_responses_appended_one_after_another_are_all_read(small_reads):
    small_reads()
    pages = [json.dumps(response([f"a{n}" for n in range(40)]), indent=2)]
    pages.append(json.dumps(response(["b0", "b1"]), indent=2))
    recs = read("\n".join(pages).encode())
    assert [r.data["Id"] for r in recs][-3:] == ["a39", "b0", "b1"]
    assert recs[-1].position == "response 2, table 1, row 2"


def test_a_partial_result_says_its_rows_may_be_incomplete(small_reads):
    error = {"code": "PartialError", "message": "Query exceeded the limit of 64 MB"}
    one_line = json.dumps(response(["a"], error=error)).encode()
    small_reads(512, 10_000)
    pretty = json.dumps(response(["a"], error=error), indent=2).encode()
    for data in (one_line, pretty):
        first, last = read(data)
        assert first.data["Id"] == "a"
        assert last.data is None and last.error == (
            "the query's response reports an error, so its rows may be incomplete "
            "(PartialError: Query exceeded the limit of 64 MB)"
        )


def test_a_response_cut_short_keeps_the_rows_before_the_cut(small_reads):
    small_reads()
    data = json.dumps(response([f"id-{n}" for n in range(300)]), indent=2).encode()
    recs = read(data[: len(data) // 2])
    good = [r for r in recs if not r.error]
    assert 50 < len(good) < 300
    assert [r.data["Id"] for r in good] == [f"id-{n}" for n in range(len(good))]
    assert recs[-1].error


def test_rows_before_their_columns_are_refused_with_the_reason():
    data = '{\n  "tables": [{"name": "T", "rows": [[1, 2]], "columns": []}]\n}\n'
    (rec,) = read(data.encode())
    assert rec.position == "line 1, table 1"
    assert rec.error.startswith("the table's rows come before its columns")


def test_responses_one_a_line_are_read_line_by_line():
    data = b"\n".join(json.dumps(response([i])).encode() for i in ("a", "b")) + b"\n"
    recs = read(data)
    assert [(r.position, r.data["Id"]) for r in recs] == [
        ("line 1, table 1, row 1", "a"),
        ("line 2, table 1, row 1", "b"),
    ]
