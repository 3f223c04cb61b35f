from __future__ import annotations

from pathlib import Path

import pytest

from forensics.estate import Summary, generate

EVENTS = 5000
SEED = 7


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    """One default-sized estate, generated once for every read-only test."""
    root = tmp_path_factory.mktemp("estate") / "out"
    return root, generate(root, events=EVENTS, seed=SEED)
