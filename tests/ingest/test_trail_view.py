"""The trail integrity page: ingested CloudTrail logs checked against uploaded digests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from forensics.ingest.services import ingest_path
from tests.ingest.trails import FIRST, GITHUB, LATE, PREFIX, SAML, logs_of

pytestmark = pytest.mark.django_db


def digests_of(root: Path) -> list[SimpleUploadedFile]:
    folder = root / PREFIX / "CloudTrail-Digest" / "us-east-1" / "2024" / "04" / "10"
    return [SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]


def test_an_auditor_sees_what_was_ingested_unchanged_and_what_never_was(
    bucket, source, client_for, auditor
):
    ingest_path(source, logs_of(bucket) / GITHUB)
    ingest_path(source, logs_of(bucket) / SAML)
    client = client_for(auditor)
    response = client.post(reverse("trail_validate"), {"digests": digests_of(bucket)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 digest files" in page
    assert "2 unchanged, 0 changed, 1 never ingested" in page
    assert "1 link intact, 0 broken" in page
    assert "listed by" in page and LATE in page  # the missing file, named
    assert AccessLogEntry.objects.filter(view="trail_validate").exists()


def test_a_log_changed_before_it_was_ingested_is_a_problem(bucket, source, client_for, auditor):
    path = logs_of(bucket) / SAML
    records = json.loads(gzip.decompress(path.read_bytes()))
    records["Records"][0]["sourceIPAddress"] = "198.51.100.7"
    path.write_bytes(gzip.compress(json.dumps(records).encode()))
    batch = ingest_path(source, path)
    response = client_for(auditor).post(reverse("trail_validate"), {"digests": digests_of(bucket)})
    page = response.content.decode()
    assert "problems found" in page and f"batch {batch.pk}" in page
    assert "1 changed" in page


def test_a_file_that_is_not_a_digest_is_named(bucket, client_for, admin_user):
    not_digest = SimpleUploadedFile("notes.json", b'{"Records": []}')
    client = client_for(admin_user)
    response = client.post(reverse("trail_validate"), {"digests": [not_digest]})
    assert response.status_code == 400
    assert "notes.json: not a CloudTrail digest file" in response.content.decode()
    response = client.post(
        reverse("trail_validate"), {"digests": [not_digest, *digests_of(bucket)]}
    )
    assert response.status_code == 200  # the digests given are checked all the same
    assert FIRST in response.content.decode()


def test_with_the_public_keys_the_signatures_are_checked(bucket, source, client_for, auditor):
    ingest_path(source, logs_of(bucket) / GITHUB)
    keys = bucket.parent / "public-keys.json"
    signatures = bucket.parent / "signatures.json"
    client = client_for(auditor)
    form = {
        "digests": digests_of(bucket),
        "public_keys": SimpleUploadedFile("keys.json", keys.read_bytes()),
        "signatures": SimpleUploadedFile("signatures.json", signatures.read_bytes()),
    }
    page = client.post(reverse("trail_validate"), form).content.decode()
    assert "Digest signatures: 2 verified, 0 bad, 0 not known, 0 without their key." in page
    # A signature that is not CloudTrail's (here: the first digest's given for the second).
    metadata = json.loads(signatures.read_text())
    second, first = sorted(metadata)[1], sorted(metadata)[0]
    metadata[second] = metadata[first]
    form = {
        "digests": digests_of(bucket),
        "public_keys": SimpleUploadedFile("keys.json", keys.read_bytes()),
        "signatures": SimpleUploadedFile("signatures.json", json.dumps(metadata).encode()),
    }
    page = client.post(reverse("trail_validate"), form).content.decode()
    assert "problems found" in page and "bad_signature" in page
    assert "1 verified, 1 bad" in page


def test_a_bad_public_keys_file_is_named(bucket, client_for, auditor):
    form = {
        "digests": digests_of(bucket),
        "public_keys": SimpleUploadedFile("keys.json", b'{"PublicKeyList": {}}'),
    }
    response = client_for(auditor).post(reverse("trail_validate"), form)
    assert response.status_code == 400
    assert "PublicKeyList" in response.content.decode()
