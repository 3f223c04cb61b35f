"""Shared fixtures: users per role, logged-in clients, in-process tasks, a private raw store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _isolated_store(settings, tmp_path: Path) -> None:
    settings.RAW_STORE_DIR = tmp_path / "raw"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_SIGNING_KEY = tmp_path / "keys" / "evidence-signing-key.pem"
    # Test users need no strong password hashing; it costs half a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Unit tests run task code in-process; the integration tests start a real worker.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from forensics.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    from django.contrib.auth.models import Group, User

    def make(username: str, *roles: str, superuser: bool = False) -> User:
        user = User.objects.create_user(username, password="pw-" + username, is_superuser=superuser)
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def investigator(make_user):
    return make_user("ivy", "investigator")


@pytest.fixture
def auditor(make_user):
    return make_user("audrey", "auditor")


@pytest.fixture
def admin_user(make_user):
    return make_user("adam", "admin")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def source(db):
    from forensics.ingest.models import Source

    return Source.objects.create(name="test-source")


@pytest.fixture
def ingest_files(django_capture_on_commit_callbacks):
    """Ingest files through the CLI's service path, running what it enqueues on commit
    (correlation) as a real commit would."""
    from forensics.ingest import services

    def ingest(source, *paths: Path, fmt: str = "auto"):
        batches = []
        for path in paths:
            with django_capture_on_commit_callbacks(execute=True):
                batches.append(services.ingest_path(source, Path(path), requested_format=fmt))
        return batches

    return ingest


@pytest.fixture
def ingest_sample(source, ingest_files):
    """Ingest files from tests/samples (paths relative to it) into the test source."""

    def ingest(*relpaths: str, fmt: str = "auto"):
        return ingest_files(source, *(SAMPLES / rel for rel in relpaths), fmt=fmt)

    return ingest
