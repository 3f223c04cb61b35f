"""Fixtures of the ingest tests."""

from tests.ingest.trails import bucket

__all__ = ["bucket"]
