"""ZIP archives of log files: every file read as it would be alone, each record placed by
its file's name; a file that cannot be read is reported and the next one read."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile

from forensics.engine.reader import iter_records
from tests.engine.parsers.foreign import SAMPLES

RECORD = {"eventVersion": "1.09", "eventID": "e1"}


def archive(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def lines(*ids: str) -> bytes:
    return b"".join(json.dumps({**RECORD, "eventID": i}).encode() + b"\n" for i in ids)


def patch_central_entry(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """``data`` with a field of ``name``'s central directory entry set to ``value``."""
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name.encode():
            patched = bytearray(data)
            struct.pack_into(fmt, patched, at + offset, value)
            return bytes(patched)
        at += 4


def test_every_file_is_read_in_the_archive_order_and_placed_by_its_name():
    recs = read(
        archive(
            {
                "logs/": b"",
                "logs/a.jsonl": lines("a1", "a2"),
                "logs/b.json.gz": gzip.compress(json.dumps({"Records": [RECORD]}).encode()),
                "logs/c.csv": b"eventVersion,eventID\n1.09,c1\n",
            }
        )
    )
    assert [r.data["eventID"] for r in recs] == ["a1", "a2", "e1", "c1"]
    assert [r.position for r in recs] == [
        "logs/a.jsonl: line 1",
        "logs/a.jsonl: line 2",
        "logs/b.json.gz: record 1",
        "logs/c.csv: line 2",
    ]
    assert [r.index for r in recs] == [1, 2, 3, 4]
    assert recs[0].text == json.dumps({**RECORD, "eventID": "a1"})


def test_what_macos_adds_to_an_archive_is_no_log_file():
    recs = read(
        archive(
            {
                "logs/a.jsonl": lines("a1"),
                "__MACOSX/logs/._a.jsonl": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X",
                "logs/.DS_Store": b"\x00\x00\x00\x01Bud1",
            }
        )
    )
    assert [(r.position, r.error) for r in recs] == [("logs/a.jsonl: line 1", "")]


def test_a_bad_record_or_an_archive_inside_costs_only_itself():
    inner = archive({"x.jsonl": lines("x1")})
    recs = read(archive({"a.jsonl": b"not json\n", "b.zip": inner, "c.jsonl": lines("c1")}))
    assert [r.position for r in recs] == ["a.jsonl: line 1", "b.zip: byte 0", "c.jsonl: line 1"]
    assert recs[0].error.startswith("invalid JSON")
    assert recs[1].error.startswith("a ZIP archive inside the archive")
    assert recs[2].data["eventID"] == "c1"


def test_a_file_that_cannot_be_opened_is_reported_and_the_next_one_read():
    data = archive({"locked.jsonl": lines("l1"), "odd.jsonl": lines("o1"), "ok.jsonl": lines("k1")})
    data = patch_central_entry(data, "locked.jsonl", 8, "<H", 0x1)  # the encrypted flag
    data = patch_central_entry(data, "odd.jsonl", 10, "<H", 9)  # Deflate64
    recs = read(data)
    assert [r.position for r in recs] == ["locked.jsonl", "odd.jsonl", "ok.jsonl: line 1"]
    assert "encrypted" in recs[0].error
    assert "compression method" in recs[1].error
    assert all(r.error.startswith("cannot read this file of the archive: ") for r in recs[:2])
    assert recs[2].data["eventID"] == "k1"


def test_a_file_whose_checksum_fails_keeps_the_records_read_before_and_says_so():
    # The checksum is checked as the file's last piece is read: what that read decompressed
    # is lost with it, the records read before are kept.
    ids = [f"a{n * 7919 % 100_003}" for n in range(60_000)]
    data = archive({"a.jsonl": lines(*ids), "small.jsonl": lines("s1"), "b.jsonl": lines("b1")})
    data = patch_central_entry(data, "a.jsonl", 16, "<I", 0)  # the CRC-32
    data = patch_central_entry(data, "small.jsonl", 16, "<I", 0)
    recs = read(data)
    kept = [r.data["eventID"] for r in recs if r.data and r.position.startswith("a.jsonl")]
    assert 1000 < len(kept) < len(ids) and kept == ids[: len(kept)]
    assert recs[-1].data["eventID"] == "b1"
    bad = [r for r in recs if r.error]
    assert [r.position for r in bad] == [f"a.jsonl: line {len(kept) + 1}", "small.jsonl: byte 0"]
    assert all("Bad CRC-32" in r.error for r in bad)


def test_a_long_name_keeps_its_end_and_the_place_stays_short():
    name = "exports/" + "x" * 100 + "/signins-2024-05-14.jsonl"
    (rec,) = read(archive({name: lines("s1")}))
    assert rec.position == "\u2026" + name[-47:] + ": line 1"
    assert len(rec.position) <= 80


def test_an_archive_that_cannot_be_read_says_so():
    (rec,) = read(b"PK\x03\x04 but nothing a ZIP archive holds")
    assert rec.error.startswith("unreadable ZIP archive: ")
    assert read(archive({})) == []


def test_an_archive_of_a_version_zipfile_does_not_know_says_so():
    data = patch_central_entry(archive({"a.jsonl": lines("a1")}), "a.jsonl", 6, "<H", 65)
    (rec,) = read(data)
    assert rec.error.startswith("unreadable ZIP archive: zip file version")


def test_a_parquet_file_whose_checksum_fails_is_reported_not_raised():
    parquet = (SAMPLES / "ocsf").glob("*.parquet")
    name, data = next((p.name, p.read_bytes()) for p in parquet)
    zipped = patch_central_entry(archive({name: data, "b.jsonl": lines("b1")}), name, 16, "<I", 1)
    recs = read(zipped)
    assert recs[0].position.startswith(name) and "Bad CRC-32" in recs[0].error
    assert recs[-1].data["eventID"] == "b1"
