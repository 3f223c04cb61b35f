"""Bytes that are not valid UTF-8 inside a file read as a stream of text (arrays, wrappers,
concatenated or pretty-printed objects): the record holding one is quarantined for it, and
reading goes on, as it does for a bad line of JSON Lines."""

from __future__ import annotations

import gzip
import io

import pytest

from forensics.engine.reader import iter_records


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def test_a_bad_byte_costs_its_record_and_every_record_after_it_is_read():
    body = b",".join(b'{"n": %d, "pad": "%s"}' % (n, b"x" * 100) for n in range(20_000))
    after = b",".join(b'{"n": %d}' % n for n in range(20_001, 20_004))
    data = b"[" + body + b', {"n": "\xff"}, ' + after + b"]"
    recs = read(data)
    assert [r.data["n"] for r in recs[:20_000]] == list(range(20_000))
    bad = recs[20_000]
    assert bad.data is None and bad.position == "record 20001"
    assert bad.error == "invalid UTF-8 at byte 7 of the record"
    assert [r.data["n"] for r in recs[20_001:]] == [20_001, 20_002, 20_003]


def test_the_byte_is_counted_in_the_record_s_own_bytes_after_multibyte_characters():
    data = '{"Records": [{"a": "é日"}, {"b": "é\xffx"}, {"c": 1}]}'.encode(
        "utf-8", "surrogateescape"
    )
    recs = read(data.replace(b"\xc3\xbf", b"\xff"))  # "\xff" as the lone byte 0xFF
    assert recs[0].data == {"a": "é日"}
    # {"b": "é is 9 bytes: the bad byte is byte 9 of the record.
    assert recs[1].error == "invalid UTF-8 at byte 9 of the record"
    assert recs[2].data == {"c": 1}


def test_characters_cut_by_a_chunk_s_end_are_not_taken_for_bad_bytes(small_reads):
    small_reads(7, None)
    values = ["é", "日本語", "𝄞 clef", "Ünïcødé"]
    data = ("[" + ", ".join(f'{{"v": "{v}"}}' for v in values) + "]").encode()
    recs = read(data)
    assert [r.error for r in recs] == ["", "", "", ""]
    assert [r.data["v"] for r in recs] == values


def test_a_bad_byte_between_values_names_the_byte_and_the_json_error():
    recs = read(b'[{"n": 1}, {"n": \xff}, {"n": 3}]')
    assert [r.data for r in recs] == [{"n": 1}, None, {"n": 3}]
    assert recs[1].error.startswith("invalid UTF-8 at byte 6 of the record; invalid JSON")


def test_pretty_printed_objects_go_on_after_one_with_a_bad_byte():
    data = b'{\n  "a": "ok"\n}\n{\n  "b": "\xfe"\n}\n{\n  "c": "ok"\n}\n'
    recs = read(data)
    assert [r.data for r in recs] == [{"a": "ok"}, None, {"c": "ok"}]
    assert recs[1].error == "invalid UTF-8 at byte 10 of the record"
    assert recs[1].position == "line 4"


@pytest.mark.parametrize("compressed", [False, True])
def test_gzip_data_inside_the_text_still_ends_it_where_it_starts(compressed):
    inner = gzip.compress(b'[{"x": 1}]')
    data = b'[{"a": 1}, ' + inner
    if compressed:
        (rec,) = read(gzip.compress(inner))
        assert rec.error.startswith("gzip inside gzip at byte 0")
        return
    recs = read(data)
    assert recs[0].data == {"a": 1}
    assert recs[-1].error == (
        f"gzip data at byte {len(data) - len(inner)}, inside the file; the rest of the file, "
        f"from byte {len(data) - len(inner)}, was not read"
    )
