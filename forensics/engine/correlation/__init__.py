"""Correlation: for every event, the human or workload that really did it, or why not.

Plain Python over frozen dataclasses; the service layer fetches related events with
``lookups_for`` / ``close_over``, then calls ``attribute_all`` and stores the results.
"""

from forensics.engine.correlation.attribution import (
    AMBIGUOUS,
    ANONYMOUS,
    ATTRIBUTED,
    CONFLICTING_EVIDENCE,
    LONG_LIVED_SHARED_KEY,
    MISSING_ISSUER,
    PENDING,
    REASONS,
    SHARED_ACCOUNT,
    STATUSES,
    UNATTRIBUTED,
    UNKNOWN_PRINCIPAL,
    Alias,
    Attribution,
    Hop,
    Origin,
    hops_json,
    to_json,
)
from forensics.engine.correlation.closure import arrival_keys, close_over, lookups_for
from forensics.engine.correlation.directory import Directory, DirectoryIdentity
from forensics.engine.correlation.index import EngineEvent, Lookups, MemoryIndex
from forensics.engine.correlation.resolve import attribute, attribute_all

__all__ = [
    "AMBIGUOUS",
    "ANONYMOUS",
    "ATTRIBUTED",
    "CONFLICTING_EVIDENCE",
    "LONG_LIVED_SHARED_KEY",
    "MISSING_ISSUER",
    "PENDING",
    "REASONS",
    "SHARED_ACCOUNT",
    "STATUSES",
    "UNATTRIBUTED",
    "UNKNOWN_PRINCIPAL",
    "Alias",
    "Attribution",
    "Directory",
    "DirectoryIdentity",
    "EngineEvent",
    "Hop",
    "Lookups",
    "MemoryIndex",
    "Origin",
    "arrival_keys",
    "attribute",
    "attribute_all",
    "close_over",
    "hops_json",
    "lookups_for",
    "to_json",
]
