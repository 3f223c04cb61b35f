"""Engine tests run without Django: the project-wide autouse fixture is replaced here."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_store() -> None:
    return None
