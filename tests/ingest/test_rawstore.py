"""The raw store: a kept file is durable, its name included, before any batch names it."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings

from forensics.ingest import rawstore, services
from forensics.ingest.models import IngestBatch
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(monkeypatch) -> list[str]:
    """What was synced, in order (the path of each fsync'd descriptor), and when the
    batches were committed (``commit``)."""
    log: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        log.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    real_bulk_create = IngestBatch.objects.bulk_create

    def bulk_create(objs, *args, **kwargs):
        log.append("commit")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(IngestBatch.objects, "bulk_create", bulk_create)
    return log


def test_a_kept_file_and_the_directories_naming_it_are_synced(synced):
    stored = rawstore.store(io.BytesIO(b'{"Records": []}'))
    root = Path(settings.RAW_STORE_DIR).resolve()
    assert stored.path.read_bytes() == b'{"Records": []}'
    assert synced[0].startswith(str(root / ".incoming-"))  # the data, before it is named
    assert set(synced[1:]) == {str(stored.path.parent.resolve()), str(root)}


def test_a_group_of_files_is_durable_before_its_batches_commit(synced, source):
    paths = [
        SAMPLES / "cloudtrail" / "saml_role_chain.json",
        SAMPLES / "okta" / "system_log_page.json",
    ]
    results = list(services.ingest_paths(source, paths))
    batches = [batch for _, batch in results]
    assert all(isinstance(b, IngestBatch) and b.stored for b in batches)
    commit = synced.index("commit")
    root = Path(settings.RAW_STORE_DIR).resolve()
    before = set(synced[:commit])
    for batch in batches:
        kept = rawstore.raw_path(batch.sha256).resolve()
        assert str(kept.parent) in before
    assert str(root) in before
    # Each file's data was synced before its name was given, and no directory twice.
    directories = [p for p in synced[:commit] if not Path(p).name.startswith(".incoming-")]
    assert len(directories) == len(set(directories))
