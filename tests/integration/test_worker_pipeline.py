"""End to end the way production runs: API → Redis → a real Celery worker → PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from forensics.ingest.models import Event, IngestBatch
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
GET_OBJECT = "5b0d2a6c-9f1e-4c3b-8a7d-1e2f3a4b5c03"


def _wait_for(predicate, timeout: float, what: str):
    """Poll an external process's effect until it shows or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def worker(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs REDIS_URL (a real Redis broker)")
    from forensics.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        app.control.purge()
    except Exception as exc:
        pytest.skip(f"Redis at REDIS_URL is not answering: {exc}")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}",
        "RAW_STORE_DIR": str(settings.RAW_STORE_DIR),
        "EVIDENCE_DIR": str(settings.EVIDENCE_DIR),
        "EVIDENCE_SIGNING_KEY": str(settings.EVIDENCE_SIGNING_KEY),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "forensics",
            "worker",
            "--pool=solo",
            "-Q",
            "ingest,correlate,exports",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(
            lambda: proc.poll() is not None or app.control.ping(timeout=0.5), 60, "the worker"
        )
        if proc.poll() is not None:
            pytest.fail("worker exited: " + (proc.stdout.read() if proc.stdout else ""))
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        app.conf.task_always_eager = True


def test_an_uploaded_file_is_ingested_and_correlated_by_the_worker(worker, client, source):
    token = source.issue_token()
    body = (SAMPLES / "cloudtrail" / "saml_role_chain.json").read_bytes()
    response = client.post(
        "/api/v1/ingest?filename=saml_role_chain.json",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202
    batch_id = response.json()["batch"]
    # The request returned at once; the worker does the rest.
    _wait_for(lambda: IngestBatch.objects.get(pk=batch_id).status == "done", 60, "ingest")
    batch = IngestBatch.objects.get(pk=batch_id)
    assert (batch.received, batch.stored, batch.duplicates, batch.quarantined) == (3, 3, 0, 0)
    event = _wait_for(
        lambda: Event.objects.filter(source_event_id=GET_OBJECT, attribution__isnull=False).first(),
        60,
        "correlation",
    )
    assert event.status == "attributed"
    assert [h["method"] for h in event.hops] == ["saml-federation", "assume-role"]
    assert [h["evidence"] for h in event.hops] == ["exact", "exact"]
    assert event.origin.kind == "human"
    status = client.get(response.json()["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert status["stored"] == 3


def test_an_evidence_pack_is_built_by_the_worker_on_the_exports_queue(
    worker, client, source, ingest_sample
):
    from django.contrib.auth.models import Group, User

    from forensics.evidence import keys, services
    from forensics.evidence.models import EvidencePack
    from forensics.evidence.verify import verify_pack

    ingest_sample("cloudtrail/saml_role_chain.json")
    event = Event.objects.get(source_event_id=GET_OBJECT)
    # Transactional tests flush the role groups migrations made.
    auditor = User.objects.create(username="audrey")
    auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
    client.force_login(auditor)
    response = client.post("/evidence/new/", {"kind": "trace", "event": event.pk})
    assert response.status_code == 302
    pack = EvidencePack.objects.get()
    # The request queued the build; the worker process takes it from Redis.
    _wait_for(lambda: EvidencePack.objects.get(pk=pack.pk).finished, 60, "the evidence pack")
    pack.refresh_from_db()
    assert pack.status == EvidencePack.READY, pack.error
    report = verify_pack(str(services.pack_path(pack)), [keys.fingerprint()])
    assert report.ok, report.problems
    assert pack.events == 3  # the read and the two issuing events behind its hops
