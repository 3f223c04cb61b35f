"""Evidence packs: what a pack holds, and that the offline verifier tells tampering apart."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forensics.cases.models import Case, CaseEvent, CaseIdentity, CaseNote
from forensics.evidence import keys, services, tasks
from forensics.evidence.models import EvidencePack
from forensics.evidence.verify import Unreadable, verify_pack
from tests.evidence import helpers as h
from tests.investigate import factories as f
from tests.investigate.test_every_sample_renders import SAMPLE_FILES

pytestmark = pytest.mark.django_db


def built(user, kind: str, scope: dict) -> EvidencePack:
    pack = services.request_pack(user, kind, scope, queue=False)
    assert services.claim(pack.pk)
    pack = services.build(pack.pk)
    assert pack.status == EvidencePack.READY, pack.error
    return pack


@pytest.fixture
def chain(db):
    alice = f.identity("alice@corp.example")
    return alice, *f.saml_chain(alice)


@pytest.fixture
def trace_pack(chain, auditor) -> Path:
    *_, access = chain
    return services.pack_path(built(auditor, EvidencePack.TRACE, {"event": access.pk}))


def test_a_trace_pack_holds_the_access_every_hop_event_and_the_origin(chain, auditor):
    alice, saml, assume, access = chain
    pack = built(auditor, EvidencePack.TRACE, {"event": access.pk})
    files = h.members(services.pack_path(pack))
    rows = {r["id"]: r for r in h.events(files)}
    assert set(rows) == {str(access.pk), str(saml.pk), str(assume.pk)}
    assert rows[str(access.pk)]["role"] == "subject"
    assert rows[str(saml.pk)]["role"] == rows[str(assume.pk)]["role"] == "hop_evidence"
    # The raw record travels byte-exact, with the hash taken at ingest.
    assert rows[str(access.pk)]["raw"] == access.raw
    assert rows[str(access.pk)]["raw_sha256"] == access.raw_sha256
    assert [hop["evidence"] for hop in rows[str(access.pk)]["hops"]] == ["exact", "exact"]
    assert rows[str(access.pk)]["attribution"]["origin"] == str(alice.pk)
    identities = json.loads(files["identities.json"])
    assert [(i["name"], i["aliases"]) for i in identities] == [
        ("alice@corp.example", ["email:alice@corp.example"])
    ]
    scope = json.loads(files["scope.json"])
    assert scope["trace"]["origin"]["name"] == "alice@corp.example"
    manifest = json.loads(files["manifest.json"])
    assert manifest["counts"]["events"] == 3 and manifest["counts"]["subjects"] == 1
    assert manifest["signer"]["fingerprint"] == keys.fingerprint() == pack.key_fingerprint
    assert pack.events == 3 and pack.personal_data_events == 1
    assert {"verify.py", "README.txt", "custody.jsonl"} <= set(files)


def test_the_chain_of_custody_runs_from_each_file_to_the_pack(chain, auditor):
    _, saml, assume, access = chain
    pack = built(auditor, EvidencePack.TRACE, {"event": access.pk})
    lines = h.members(services.pack_path(pack))["custody.jsonl"].splitlines()
    entries = [json.loads(line) for line in lines]
    # The factory gives every event a file of its own.
    received = {e["file_sha256"] for e in entries if e["action"] == "file received"}
    assert received == {saml.batch.sha256, assume.batch.sha256, access.batch.sha256}
    ingested = [e for e in entries if e["action"] == "file ingested"]
    assert [e["events_in_pack"] for e in ingested] == [1, 1, 1]
    assert [e["action"] for e in entries[-2:]] == ["pack requested", "pack built and signed"]
    assert entries[-2]["by"] == auditor.username
    assert entries[0]["prev"] == ""


def test_a_clean_pack_verifies_and_names_its_key(trace_pack):
    report = verify_pack(str(trace_pack), [keys.fingerprint()])
    assert report.ok, report.problems
    assert any("3 events (1 in scope, 2 backing a hop)" in fact for fact in report.facts)
    assert any("the signing key is one of the trusted keys" in fact for fact in report.facts)


def test_a_key_that_is_not_trusted_fails(trace_pack):
    report = verify_pack(str(trace_pack), ["00" * 32])
    assert not report.ok
    assert "not one of the trusted keys" in report.problems[0]


def _tampered_raw(files: dict[str, bytes]) -> dict[str, bytes]:
    rows = h.events(files)
    rows[0]["raw"] = rows[0]["raw"].replace("198.51.100.7", "203.0.113.9")
    return {**files, "events.jsonl": h.jsonl(rows)}


def _dropped_hop_event(files: dict[str, bytes]) -> dict[str, bytes]:
    rows = [r for r in h.events(files) if r["role"] == "subject"]
    manifest = json.loads(files["manifest.json"])
    manifest["counts"]["events"] = 1
    files = {**files, "events.jsonl": h.jsonl(rows)}
    return {**files, "manifest.json": h.canonical_json(manifest)}


def _edited_custody(files: dict[str, bytes]) -> dict[str, bytes]:
    lines = files["custody.jsonl"].splitlines()
    first = json.loads(lines[0])
    first["by"] = "someone else"
    lines[0] = h.canonical_json(first)
    return {**files, "custody.jsonl": b"\n".join(lines) + b"\n"}


@pytest.mark.parametrize(
    ("tamper", "signed_by", "expected"),
    [
        # An edited file no longer matches the signed manifest.
        (_tampered_raw, None, "events.jsonl: SHA-256"),
        (_edited_custody, None, "custody.jsonl: SHA-256"),
        # Re-listing the hashes breaks the signature.
        (lambda fs: h.relist(_tampered_raw(fs)), None, "signature does not verify"),
        # Even signed with the real key, an edited raw record does not match its ingest hash.
        (_tampered_raw, "server", "does not hash to its raw_sha256"),
        (_dropped_hop_event, "server", "is not in the pack"),
        (_edited_custody, "server", "custody.jsonl line 2: the chain is broken"),
        # Signed with another key: only a pinned fingerprint tells it apart.
        (_tampered_raw, "attacker", "not one of the trusted keys"),
    ],
)
def test_tampering_is_told_apart_from_a_clean_pack(
    trace_pack, tmp_path, tamper, signed_by, expected
):
    files = tamper(h.members(trace_pack))
    if signed_by == "server":
        files = h.resign(files, keys.signing_key())
    elif signed_by == "attacker":
        files = h.resign(files, Ed25519PrivateKey.generate())
    report = verify_pack(str(h.write(tmp_path / "t.zip", files)), [keys.fingerprint()])
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_an_extra_or_a_repeated_file_is_reported(trace_pack, tmp_path):
    files = h.members(trace_pack)
    extra = verify_pack(str(h.write(tmp_path / "a.zip", files, [("notes.txt", b"hi")])))
    assert any("notes.txt is in the archive but not in the manifest" in p for p in extra.problems)
    with pytest.warns(UserWarning, match="Duplicate name"):
        repeated = h.write(tmp_path / "b.zip", files, [("events.jsonl", files["events.jsonl"])])
    twice = verify_pack(str(repeated))
    assert any("events.jsonl is in the archive more than once" in p for p in twice.problems)


def test_a_file_that_is_not_a_pack_is_unreadable(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(Unreadable, match="not a readable ZIP"):
        verify_pack(str(junk))
    empty = h.write(tmp_path / "empty.zip", {"x.txt": b""})
    with pytest.raises(Unreadable, match=r"no manifest\.json"):
        verify_pack(str(empty))


def _run_verifier(verifier: Path, pack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A bare interpreter in an empty directory: nothing of the dashboard is importable.
    return subprocess.run(
        [sys.executable, "-I", str(verifier), str(pack), *args],
        cwd=verifier.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_verifier_inside_the_pack_runs_offline_on_its_own(trace_pack, tmp_path):
    outside = tmp_path / "offline"
    outside.mkdir()
    with zipfile.ZipFile(trace_pack) as zf:
        zf.extract("verify.py", outside)
    fingerprint = keys.fingerprint()
    clean = _run_verifier(outside / "verify.py", trace_pack, "--trust", fingerprint)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("VERIFIED")
    tampered = h.write(tmp_path / "t.zip", _tampered_raw(h.members(trace_pack)))
    bad = _run_verifier(outside / "verify.py", tampered, "--trust", fingerprint, "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["verified"] is False
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"\x00")
    assert _run_verifier(outside / "verify.py", junk).returncode == 2


def test_a_case_pack_holds_its_events_identities_and_notes(chain, investigator, auditor):
    *_, access = chain
    bob = f.identity("bob@corp.example")
    case = Case.objects.create(title="payroll read", created_by=investigator)
    CaseEvent.objects.create(case=case, event=access, added_by=investigator)
    CaseIdentity.objects.create(case=case, identity=bob, added_by=investigator)
    CaseNote.objects.create(case=case, author=investigator, text="key leaked on 2 March")
    files = h.members(services.pack_path(built(auditor, EvidencePack.CASE, {"case": case.pk})))
    subjects = [r["id"] for r in h.events(files) if r["role"] == "subject"]
    assert subjects == [str(access.pk)]
    assert {i["name"] for i in json.loads(files["identities.json"])} == {
        "alice@corp.example",
        "bob@corp.example",
    }
    scope = json.loads(files["scope.json"])
    assert scope["case"]["notes"][0]["text"] == "key leaked on 2 March"


def test_a_query_pack_holds_exactly_the_filtered_events(chain, auditor):
    *_, access = chain
    other = f.event(personal_data=False, resource="s3://public/logo.png")
    pack = built(auditor, EvidencePack.QUERY, {"filters": {"pd": ["true"]}})
    rows = h.events(h.members(services.pack_path(pack)))
    assert [r["id"] for r in rows if r["role"] == "subject"] == [str(access.pk)]
    assert str(other.pk) not in {r["id"] for r in rows}


def test_a_timeline_pack_is_the_identity_s_events_in_time_order(chain, auditor):
    alice, saml, assume, access = chain
    f.event(status="attributed", origin=f.identity("bob@corp.example"))
    pack = built(auditor, EvidencePack.TIMELINE, {"identity": alice.pk, "filters": {}})
    rows = h.events(h.members(services.pack_path(pack)))
    assert [r["id"] for r in rows] == [str(saml.pk), str(assume.pk), str(access.pk)]
    assert {r["role"] for r in rows} == {"subject"}


def test_scopes_that_select_nothing_or_too_much_are_refused(chain, auditor, settings):
    with pytest.raises(services.ScopeError, match="holds no events"):
        services.request_pack(auditor, EvidencePack.QUERY, {"filters": {"action": ["NoSuch"]}})
    with pytest.raises(services.ScopeError, match="invalid filters: status"):
        services.request_pack(auditor, EvidencePack.QUERY, {"filters": {"status": ["bogus"]}})
    settings.EVIDENCE_MAX_EVENTS = 2
    with pytest.raises(services.ScopeError, match="holds 3 events, more than the 2"):
        services.request_pack(auditor, EvidencePack.QUERY, {"filters": {}})
    assert not EvidencePack.objects.exists()


def test_the_task_builds_once_and_a_redelivery_changes_nothing(chain, auditor):
    *_, access = chain
    pack = services.request_pack(auditor, EvidencePack.TRACE, {"event": access.pk}, queue=False)
    assert tasks.build_pack(pack.pk) == f"pack {pack.pk} ready"
    first = EvidencePack.objects.get(pk=pack.pk)
    assert tasks.build_pack(pack.pk) == f"pack {pack.pk} is built or being built elsewhere"
    again = EvidencePack.objects.get(pk=pack.pk)
    assert (again.sha256, again.finished_at) == (first.sha256, first.finished_at)
    assert services.pack_path(again).read_bytes()  # still there


def test_a_pack_a_dead_worker_left_building_is_built_again(chain, auditor):
    from datetime import timedelta

    from django.utils import timezone

    *_, access = chain
    pack = services.request_pack(auditor, EvidencePack.TRACE, {"event": access.pk}, queue=False)
    EvidencePack.objects.filter(pk=pack.pk).update(
        status=EvidencePack.BUILDING, started_at=timezone.now() - timedelta(minutes=5)
    )
    assert not services.claim(pack.pk)
    assert services.stale_packs() == []
    EvidencePack.objects.filter(pk=pack.pk).update(
        started_at=timezone.now() - services.STALE_BUILD - timedelta(seconds=1)
    )
    assert services.stale_packs() == [pack.pk]
    # The sweeper sends it again (tasks run in-process here).
    assert tasks.sweep_packs() == 1
    assert EvidencePack.objects.get(pk=pack.pk).status == EvidencePack.READY
    assert services.stale_packs() == []


def test_a_pack_whose_message_was_lost_is_sent_again(chain, auditor):
    from datetime import timedelta

    from django.utils import timezone

    *_, access = chain
    pack = services.request_pack(auditor, EvidencePack.TRACE, {"event": access.pk}, queue=False)
    assert services.stale_packs() == []
    EvidencePack.objects.filter(pk=pack.pk).update(
        requested_at=timezone.now() - services.STALE_QUEUED - timedelta(seconds=1)
    )
    assert services.stale_packs() == [pack.pk]
    assert tasks.sweep_packs() == 1
    assert EvidencePack.objects.get(pk=pack.pk).status == EvidencePack.READY


def test_the_signing_key_is_made_once_private_and_reused(settings):
    path = Path(settings.EVIDENCE_SIGNING_KEY)
    assert not path.exists()
    first = keys.fingerprint()
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.fingerprint() == first
    assert not list(path.parent.glob(".*.new"))


def test_the_verifier_bounds_what_it_holds_in_memory(trace_pack, tmp_path, monkeypatch):
    from forensics.evidence import verify

    monkeypatch.setattr(verify, "MAX_LINE_BYTES", 100)
    report = verify_pack(str(trace_pack), [keys.fingerprint()])
    assert any("events.jsonl line 1: longer than 100 bytes" in p for p in report.problems)
    monkeypatch.setattr(verify, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(Unreadable, match="larger than 100 bytes"):
        verify_pack(str(trace_pack))


def test_a_value_utf8_cannot_carry_is_escaped_not_fatal():
    from forensics.evidence.verify import canonical_json
    from forensics.evidence.writer import _line

    row = {"b": "caf\u00e9", "a": "\ud800", "n": 1 << 70}
    assert json.loads(_line(row)) == row
    assert json.loads(canonical_json(row)) == row
    assert _line({"b": "caf\u00e9", "a": 1}) == '{"a":1,"b":"caf\u00e9"}\n'.encode()


def _exact_hop_rebacked(files: dict[str, bytes]) -> dict[str, bytes]:
    """The access's first exact hop made to name the second issuing event instead."""
    rows = h.events(files)
    subject = next(r for r in rows if r["role"] == "subject")
    subject["hops"][0]["via_event"] = subject["hops"][1]["via_event"]
    return {**files, "events.jsonl": h.jsonl(rows)}


def test_an_exact_hop_must_name_the_event_that_issued_its_credential(trace_pack, tmp_path):
    files = h.resign(_exact_hop_rebacked(h.members(trace_pack)), keys.signing_key())
    report = verify_pack(str(h.write(tmp_path / "t.zip", files)), [keys.fingerprint()])
    assert report.problems == [
        "events.jsonl line 1: an exact hop with credential 'ASIAADMINEXAMPLE0001' is backed by "
        f"event {h.events(files)[0]['hops'][1]['via_event']}, which issued 'ASIAREADEREXAMPLE001'"
    ]


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_a_pack_of_every_sample_verifies(sample, ingest_sample, auditor):
    """Real producers' records, ingested and correlated: every hop the engine drew is backed
    by an event the pack holds, every exact hop by the event that issued its credential."""
    ingest_sample(sample)
    pack = built(auditor, EvidencePack.QUERY, {"filters": {}})
    report = verify_pack(str(services.pack_path(pack)), [keys.fingerprint()])
    assert report.ok, report.problems
