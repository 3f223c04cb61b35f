"""Engine tests run without Django: the project-wide autouse fixture is replaced here."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_store() -> None:
    return None


@pytest.fixture
def small_reads(monkeypatch):
    """Shrink the reader's reads (and a record's size limit) so that small inputs take the
    paths large files take: ``small_reads(chunk, limit)``."""
    from forensics.engine import jsontext, reader

    def shrink(chunk: int = 512, limit: int | None = 2000) -> None:
        monkeypatch.setattr(reader, "CHUNK_CHARS", chunk)
        monkeypatch.setattr(jsontext, "CHUNK_CHARS", chunk)
        if limit is not None:
            monkeypatch.setattr(jsontext, "MAX_RECORD_CHARS", limit)

    return shrink
