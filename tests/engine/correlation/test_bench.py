"""The synthetic estate behind the correlation benchmark (not timed here)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from forensics.engine.correlation import MemoryIndex, attribute_all
from forensics.engine.correlation.bench import START, estate_directory, synthetic_estate


def test_the_estate_is_reproducible_from_its_seed() -> None:
    assert synthetic_estate(300, 7) == synthetic_estate(300, 7)
    assert synthetic_estate(300, 7) != synthetic_estate(300, 8)
    assert len(synthetic_estate(300, 7)) == 300


def test_the_estate_exercises_every_outcome() -> None:
    events = synthetic_estate(3000, 1)
    results = attribute_all(
        events,
        MemoryIndex(events),
        estate_directory(),
        now=START + timedelta(days=30),
        grace=timedelta(hours=6),
    )
    outcomes = Counter((a.status, a.reason) for a in results)
    for expected in [
        ("attributed", None),
        ("ambiguous", None),
        ("unattributed", "missing_issuer"),
        ("unattributed", "shared_account"),
        ("unattributed", "long_lived_shared_key"),
    ]:
        assert outcomes[expected] > 0, expected
    sources = Counter(e.event.source_kind for e in events)
    assert set(sources) == {
        "cloudtrail",
        "gcp_audit",
        "k8s_audit",
        "okta",
        "entra",
        "azure_activity",
    }
