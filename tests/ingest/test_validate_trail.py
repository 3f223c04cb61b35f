"""validate_trail: a copy of a trail's bucket checked against its digest files."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forensics.engine import trail_digest as td
from forensics.engine.model import RecordError
from tests.ingest.trails import (
    ACCOUNT,
    FINGERPRINT,
    FIRST,
    GITHUB,
    LATE,
    PREFIX,
    SAML,
    SECOND,
    digest_key,
    logs_of,
    public_keys_output,
    signing_key,
)

pytestmark = pytest.mark.django_db


def validate(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("validate_trail", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def test_an_untouched_copy_validates(bucket: Path):
    code, out, err = validate(str(bucket), "-v", "2")
    assert code == 0, err
    assert "3 valid, 0 modified, 0 missing, 0 unlisted" in out
    assert "1 links intact, 0 broken, 1 start(s)" in out
    assert f"chain_ok: {SECOND}: links to {FIRST}" in out
    assert "signatures are not checked" in out


def test_a_changed_log_file_is_modified(bucket: Path):
    path = logs_of(bucket) / SAML
    records = json.loads(gzip.decompress(path.read_bytes()))
    records["Records"][0]["sourceIPAddress"] = "198.51.100.7"  # one value edited
    path.write_bytes(gzip.compress(json.dumps(records).encode()))
    code, out, err = validate(str(bucket))
    assert code == 1
    assert f"modified: {SAML}: {path}: its content hashes to" in err
    assert "2 valid, 1 modified" in out


def test_recompressing_a_log_file_changes_nothing(bucket: Path):
    path = logs_of(bucket) / SAML
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1))
    assert validate(str(bucket))[0] == 0


def test_a_deleted_log_file_is_missing(bucket: Path):
    (logs_of(bucket) / LATE).unlink()
    code, out, err = validate(str(bucket))
    assert code == 1
    assert f"missing: {LATE}: listed by {SECOND}" in err
    assert "2 valid, 0 modified, 1 missing" in out


def test_an_edited_digest_breaks_the_chain(bucket: Path):
    first = bucket / PREFIX / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10" / FIRST
    body = json.loads(gzip.decompress(first.read_bytes()))
    body["logFiles"] = body["logFiles"][:1]  # a log file taken off the record
    first.write_bytes(gzip.compress(json.dumps(body).encode()))
    code, out, err = validate(str(bucket))
    assert code == 1
    assert f"broken_chain: {FIRST}: its content hashes to" in err
    assert f"unlisted: {SAML}" in out  # the file the edit hid is still found


def test_a_link_to_the_compressed_digest_file_is_intact_too(bucket: Path):
    folder = bucket / PREFIX / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10"
    second = folder / SECOND
    body = json.loads(gzip.decompress(second.read_bytes()))
    body["previousDigestHashValue"] = hashlib.sha256((folder / FIRST).read_bytes()).hexdigest()
    second.write_bytes(gzip.compress(json.dumps(body).encode()))
    code, out, _err = validate(str(bucket))
    assert code == 0 and "1 links intact, 0 broken" in out


def test_a_log_file_no_digest_lists_is_reported_but_does_not_fail(bucket: Path):
    extra = logs_of(bucket) / f"{ACCOUNT}_CloudTrail_us-east-1_20240410T1700Z_NewEXAMPLE.json.gz"
    shutil.copy(logs_of(bucket) / LATE, extra)
    code, out, _err = validate(str(bucket))
    assert code == 0
    assert f"unlisted: {extra.name}: no digest here lists it ({extra})" in out
    code, out, _err = validate(str(bucket), "--no-unlisted")
    assert code == 0 and "unlisted:" not in out and "0 unlisted" in out


def test_the_store_is_checked_as_ingested(bucket: Path, source):
    from forensics.ingest.services import ingest_path

    logs = logs_of(bucket)
    ingest_path(source, logs / GITHUB)
    ingest_path(source, logs / SAML)
    # A copy of the late file, edited before it was ingested.
    late = json.loads(gzip.decompress((logs / LATE).read_bytes()))
    late["Records"][0]["eventName"] = "AssumeRoleWithWebIdentity"
    edited = bucket.parent / "elsewhere" / LATE
    edited.parent.mkdir()
    edited.write_bytes(gzip.compress(json.dumps(late).encode()))
    batch = ingest_path(source, edited)
    shutil.rmtree(bucket / PREFIX / "CloudTrail")  # only the digests are given
    code, out, err = validate(str(bucket), "--store")
    assert code == 1
    assert f"modified: {LATE}: batch {batch.pk}: its content hashes to" in err
    assert "log files as ingested: 2 valid, 1 modified, 0 missing" in out


def test_a_log_never_ingested_is_missing_from_the_store(bucket: Path, source):
    from forensics.ingest.services import ingest_path

    ingest_path(source, logs_of(bucket) / GITHUB)
    code, out, err = validate(str(bucket / PREFIX / "CloudTrail-Digest"), "--store")
    assert code == 1
    assert f"missing: {SAML}" in err and f"missing: {LATE}" in err
    assert "1 valid, 0 modified, 2 missing" in out


def test_unreadable_files_and_no_digest_exit_2(bucket: Path, tmp_path: Path):
    broken = logs_of(bucket) / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'{"Records": []}')[:-8] + b"garbage!")
    code, _out, err = validate(str(bucket))
    assert code == 2 and f"{broken}:" in err
    code, _out, err = validate(str(logs_of(bucket)))
    assert code == 2 and "no CloudTrail digest file" in err


def test_content_hash_is_of_the_uncompressed_bytes():
    data = b'{"Records": []}\n'
    expected = hashlib.sha256(data).hexdigest()
    assert td.content_sha256(io.BytesIO(data)) == expected
    assert td.content_sha256(io.BytesIO(gzip.compress(data))) == expected
    assert td.content_sha256(io.BytesIO(gzip.compress(data[:5]) + gzip.compress(data[5:]))) == (
        expected
    )


def test_a_digest_with_a_bad_entry_names_the_field():
    body = {"digestStartTime": "", "digestEndTime": "", "logFiles": [{"s3Object": "a"}]}
    with pytest.raises(RecordError, match=r"logFiles\[0\]\.hashValue"):
        td.read_digest(body)
    with pytest.raises(RecordError, match="logFiles"):
        td.read_digest({**body, "logFiles": {"s3Object": "a"}})


def digest_path(root: Path, name: str) -> Path:
    return root / PREFIX / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10" / name


def rewrite(path: Path, change) -> None:
    body = json.loads(gzip.decompress(path.read_bytes()))
    change(body)
    path.write_bytes(gzip.compress(json.dumps(body).encode()))


def test_signatures_verify_with_the_trails_public_keys(bucket: Path):
    keys = str(bucket.parent / "public-keys.json")
    code, out, err = validate(str(bucket), "--public-keys", keys, "-v", "2")
    assert code == 0, err
    # The first digest's signature is recorded in the second; the newest's only in S3.
    assert f"signature_ok: {FIRST}: signature from {SECOND} verifies" in out
    assert f"no_signature: {SECOND}: its signature is in S3 metadata, not given" in out
    assert "digest signatures: 1 verified, 0 bad, 1 not known, 0 without their key" in out
    signatures = str(bucket.parent / "signatures.json")
    code, out, err = validate(str(bucket), "--public-keys", keys, "--signatures", signatures)
    assert code == 0, err
    assert "digest signatures: 2 verified, 0 bad, 0 not known" in out


def test_a_rewritten_digest_chain_passes_the_hashes_but_not_the_signatures(bucket: Path):
    # Someone who edits a log file, then the digest listing it and the next digest's link
    # to that one, leaves every hash consistent; only CloudTrail's signature can tell.
    log = logs_of(bucket) / SAML
    records = json.loads(gzip.decompress(log.read_bytes()))
    records["Records"][0]["sourceIPAddress"] = "198.51.100.7"
    log.write_bytes(gzip.compress(json.dumps(records).encode()))
    first, second = digest_path(bucket, FIRST), digest_path(bucket, SECOND)

    def relist(body):
        for entry in body["logFiles"]:
            if entry["s3Object"].endswith(SAML):
                entry["hashValue"] = hashlib.sha256(gzip.decompress(log.read_bytes())).hexdigest()

    rewrite(first, relist)
    first_hash = hashlib.sha256(gzip.decompress(first.read_bytes())).hexdigest()
    rewrite(second, lambda body: body.update(previousDigestHashValue=first_hash))
    code, out, _err = validate(str(bucket))
    assert code == 0 and "3 valid, 0 modified" in out and "0 broken" in out
    keys = str(bucket.parent / "public-keys.json")
    signatures = str(bucket.parent / "signatures.json")
    code, out, err = validate(str(bucket), "--public-keys", keys, "--signatures", signatures)
    assert code == 1
    assert f"bad_signature: {FIRST}: signature from its S3 metadata does not verify" in err
    # The second digest was edited too (its link): its own signature fails as well.
    assert f"bad_signature: {SECOND}" in err
    assert "digest signatures: 0 verified, 2 bad" in out


def test_another_key_or_an_unknown_fingerprint_does_not_verify(bucket: Path, tmp_path: Path):
    other = tmp_path / "other-keys.json"
    other.write_text(json.dumps(public_keys_output(signing_key(1))))
    code, out, err = validate(str(bucket), "--public-keys", str(other))
    assert code == 1 and f"bad_signature: {FIRST}" in err
    elsewhere = tmp_path / "elsewhere-keys.json"
    elsewhere.write_text(json.dumps(public_keys_output(signing_key(), fingerprint="00ff")))
    code, out, err = validate(str(bucket), "--public-keys", str(elsewhere))
    assert code == 0
    assert f"no_key: {FIRST}: no public key with fingerprint {FINGERPRINT}" in out
    assert "0 verified, 0 bad, 1 not known, 1 without their key" in out


def test_bad_key_and_signature_files_exit_2_naming_the_field(bucket: Path, tmp_path: Path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"PublicKeyList": [{"Value": "bm90IGEga2V5", "Fingerprint": "a"}]}))
    code, _out, err = validate(str(bucket), "--public-keys", str(keys))
    assert code == 2 and "PublicKeyList[0].Value" in err
    keys.write_text("not json")
    code, _out, err = validate(str(bucket), "--public-keys", str(keys))
    assert code == 2 and "the public keys file is not JSON" in err
    signatures = tmp_path / "signatures.json"
    signatures.write_text(json.dumps({digest_key(SECOND): {"Metadata": {}}}))
    good = str(bucket.parent / "public-keys.json")
    code, _out, err = validate(str(bucket), "--public-keys", good, "--signatures", str(signatures))
    assert code == 2 and f"field '{digest_key(SECOND)}' holds no signature" in err
    code, _out, err = validate(str(bucket), "--signatures", str(signatures))
    assert code == 2 and "signatures need the trail's public keys" in err


def test_the_signing_string_is_the_guides():
    body = {
        "digestStartTime": "2015-05-08T06:19:37Z",
        "digestEndTime": "2015-05-08T07:19:37Z",
        "digestS3Bucket": "amzn-s3-demo-bucket",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz",
        "previousDigestSignature": None,
        "logFiles": [],
    }
    digest = td.with_content(td.read_digest(body), "ab" * 32)
    assert td.signing_string(digest) == (
        b"2015-05-08T07:19:37Z\namzn-s3-demo-bucket/AWSLogs/111122223333/CloudTrail-Digest/"
        b"x.json.gz\n" + b"ab" * 32 + b"\nnull"
    )
