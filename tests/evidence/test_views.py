"""Evidence-pack pages: who may ask for, see and download a pack, and what gets logged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from forensics.cases.models import Case, CaseEvent
from forensics.evidence import services
from forensics.evidence.models import EvidencePack
from tests.evidence import helpers as h
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def access(db):
    alice = f.identity("alice@corp.example")
    return f.saml_chain(alice)[2]


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST to pack_create, running what the request queued on commit, as a commit would."""

    def send(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("pack_create"), data)

    return send


@pytest.fixture
def ask(post):
    """Ask for a pack; the pack, or None when the request was refused with 404."""

    def request(client, **data) -> EvidencePack | None:
        response = post(client, data)
        assert response.status_code in (302, 404), response.status_code
        if response.status_code == 404:
            return None
        return EvidencePack.objects.order_by("-pk").first()

    return request


def test_asking_for_a_trace_pack_builds_it_and_logs_the_request(
    client_for, investigator, access, post
):
    client = client_for(investigator)
    response = post(client, {"kind": "trace", "event": access.pk})
    pack = EvidencePack.objects.get()
    assert response["Location"] == reverse("pack_detail", args=[pack.pk])
    assert pack.status == EvidencePack.READY and pack.requested_by == investigator
    entry = AccessLogEntry.objects.filter(view="pack_create").get()
    assert entry.object_refs == [f"evidence_pack:{pack.pk}", f"event:{access.pk}"]
    page = client.get(reverse("pack_detail", args=[pack.pk])).content.decode()
    assert pack.sha256 in page and reverse("pack_download", args=[pack.pk]) in page


def test_a_download_is_the_pack_and_is_logged_as_personal_data(
    client_for, investigator, access, ask
):
    client = client_for(investigator)
    pack = ask(client, kind="trace", event=access.pk)
    response = client.get(reverse("pack_download", args=[pack.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == f'attachment; filename="{pack.filename}"'
    assert body == services.pack_path(pack).read_bytes()
    entry = AccessLogEntry.objects.filter(view="pack_download").get()
    assert entry.personal_data is True and entry.username == investigator.username
    assert entry.object_refs == [f"evidence_pack:{pack.pk}", f"event:{access.pk}"]


def test_another_investigator_gets_404_and_an_auditor_sees_every_pack(
    client_for, make_user, investigator, auditor, access, ask
):
    pack = ask(client_for(investigator), kind="trace", event=access.pk)
    other = client_for(make_user("olga", "investigator"))
    for name in ("pack_detail", "pack_download"):
        assert other.get(reverse(name, args=[pack.pk])).status_code == 404
    assert pack.title not in other.get(reverse("pack_list")).content.decode()
    reader = client_for(auditor)
    assert pack.title in reader.get(reverse("pack_list")).content.decode()
    assert reader.get(reverse("pack_download", args=[pack.pk])).status_code == 200


def test_a_case_pack_needs_the_right_to_read_the_case(
    client_for, make_user, investigator, access, ask
):
    case = Case.objects.create(title="payroll", created_by=investigator)
    CaseEvent.objects.create(case=case, event=access, added_by=investigator)
    outsider = client_for(make_user("olga", "investigator"))
    assert ask(outsider, kind="case", case=case.pk) is None
    assert not EvidencePack.objects.exists()
    pack = ask(client_for(investigator), kind="case", case=case.pk)
    assert pack.scope == {"case": case.pk} and pack.status == EvidencePack.READY


def test_a_query_pack_takes_the_explorer_s_filters_but_not_its_paging(
    client_for, auditor, access, ask
):
    f.event(personal_data=False, resource="s3://public/logo.png")
    paging = "sort=-time&after=xyz&per_page=50&columns=action"
    pack = ask(client_for(auditor), kind="query", query=f"pd=true&{paging}")
    assert pack.scope == {"filters": {"pd": ["true"]}}
    rows = h.events(h.members(services.pack_path(pack)))
    assert [r["id"] for r in rows if r["role"] == "subject"] == [str(access.pk)]


def test_a_refused_scope_says_why_and_returns_to_the_page(client_for, auditor, access, post):
    client = client_for(auditor)
    back = reverse("event_list") + "?action=NoSuch"
    response = client.post(
        reverse("pack_create"), {"kind": "query", "query": "action=NoSuch", "back": back}
    )
    assert response["Location"] == back
    page = client.get(back).content.decode()
    assert "No evidence pack: the scope holds no events." in page
    outside = client.post(
        reverse("pack_create"),
        {"kind": "query", "query": "action=NoSuch", "back": "https://evil.example/"},
    )
    assert outside["Location"] == reverse("pack_list")


def test_the_export_buttons_are_on_the_pages_they_export(client_for, auditor, access):
    client = client_for(auditor)
    trace = client.get(reverse("event_trace", args=[access.pk])).content.decode()
    assert 'name="kind" value="trace"' in trace
    explorer = client.get(reverse("event_list"), {"pd": "true"}).content.decode()
    assert 'name="kind" value="query"' in explorer and 'value="pd=true"' in explorer
    timeline = client.get(reverse("identity_detail", args=[access.origin_id])).content.decode()
    assert 'name="kind" value="timeline"' in timeline


def test_the_verify_page_tells_a_clean_pack_from_a_tampered_one(
    client_for, auditor, access, ask, post
):
    client = client_for(auditor)
    pack = ask(client, kind="trace", event=access.pk)
    data = services.pack_path(pack).read_bytes()
    clean = client.post(reverse("pack_verify"), {"pack": _upload("p.zip", data)})
    assert clean.status_code == 200
    assert '<span class="badge done">verified</span>' in clean.content.decode()
    files = h.members(services.pack_path(pack))
    rows = h.events(files)
    rows[0]["principal"] = "someone-else"
    forged = io.BytesIO()
    h.write(forged, {**files, "events.jsonl": h.jsonl(rows)})
    bad = client.post(reverse("pack_verify"), {"pack": _upload("p.zip", forged.getvalue())})
    html = bad.content.decode()
    assert '<span class="badge failed">failed</span>' in html
    assert "events.jsonl: SHA-256" in html
    junk = client.post(reverse("pack_verify"), {"pack": _upload("j.zip", b"junk")})
    assert junk.status_code == 400 and "not a readable ZIP file" in junk.content.decode()


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_pages_never_make_a_signing_key_and_the_verify_page_trusts_former_keys(
    client_for, auditor, access, settings, ask
):
    client = client_for(auditor)
    key_file = Path(settings.EVIDENCE_SIGNING_KEY)
    for name in ("pack_list", "pack_verify"):
        assert client.get(reverse(name)).status_code == 200
    assert not key_file.exists()  # a web server without the key shows none, makes none
    old = ask(client, kind="trace", event=access.pk)
    key_file.unlink()  # the key is changed: the next pack is signed with a new one
    new = ask(client, kind="trace", event=access.pk)
    assert old.key_fingerprint != new.key_fingerprint
    assert services.signing_keys() == [new.key_fingerprint, old.key_fingerprint]
    data = services.pack_path(old).read_bytes()
    page = client.post(reverse("pack_verify"), {"pack": _upload("old.zip", data)})
    assert "the signing key is one of the trusted keys" in page.content.decode()
    detail = client.get(reverse("pack_detail", args=[old.pk])).content.decode()
    assert "not the current key" in detail
