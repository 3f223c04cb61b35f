"""The engine, through the whole store, against a generated estate's expected attributions."""

from __future__ import annotations

import pytest

from forensics.core.scoring import score_estate
from forensics.estate.generator import DIRECTORY_FILE, EXPECTED_FILE, generate, log_files
from forensics.identities import directory
from forensics.ingest.models import Event, Source

pytestmark = pytest.mark.django_db


def test_generated_estate_is_attributed_exactly_as_expected(tmp_path, ingest_files):
    root = tmp_path / "estate"
    generate(root, events=2500, seed=11)
    directory.import_rows(directory.read_rows(root / DIRECTORY_FILE))
    source = Source.objects.create(name="estate")
    # Late-delivered logs last: early events wait for issuers that arrive afterwards.
    batches = ingest_files(source, *log_files(root))
    assert all(b.status == "done" and b.quarantined == 0 for b in batches)
    score = score_estate(root / EXPECTED_FILE)
    assert score.missing == 0
    assert score.attributable > 2000
    assert score.matched == score.attributable, score.disagreements.most_common(5)
    assert score.false_attributions == 0
    assert score.status_agreement == score.expected
    assert not Event.objects.with_status("pending").exists()
