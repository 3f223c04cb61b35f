"""One module per producer format behind one interface, plus auto-detection.

A parser turns one JSON record (a dict, as the reader yields it) into one NormalizedEvent, or
raises RecordError naming the field at fault. ``sniff`` says whether a record looks like the
parser's format; detection asks the parsers in the order of ``PARSERS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

from forensics.engine.model import NormalizedEvent


class Parser(Protocol):
    kind: str  # the source kind, stored on every event (e.g. "cloudtrail")
    label: str  # a name for people (e.g. "AWS CloudTrail")

    def sniff(self, record: dict[str, Any]) -> bool:
        """True when the record has the unmistakable shape of this format."""
        ...

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one record; raise RecordError (naming the field) when it cannot be."""
        ...


@cache
def all_parsers() -> list[Parser]:
    """Every parser, in detection order (imported on first use)."""
    from forensics.engine.parsers import (
        azure_resource,
        cloudtrail,
        entra,
        entra_audit,
        gcp_audit,
        graph_activity,
        k8s_audit,
        m365_audit,
        ocsf,
        okta,
    )

    # Order matters only for records that two sniffers could both claim; the most specific
    # shapes come first.
    return [
        cloudtrail.PARSER,
        gcp_audit.PARSER,
        k8s_audit.PARSER,
        okta.PARSER,
        graph_activity.PARSER,
        entra.SIGNIN_PARSER,
        entra.ACTIVITY_PARSER,
        entra_audit.PARSER,
        azure_resource.KEYVAULT_PARSER,
        azure_resource.STORAGE_PARSER,
        m365_audit.PARSER,
        ocsf.PARSER,
    ]


def kinds() -> list[str]:
    """The source kind names, sorted."""
    return sorted(p.kind for p in all_parsers())


class UnknownFormat(ValueError):
    """No parser recognizes the input."""


class NoRecords(UnknownFormat):
    """The input holds no records at all (an empty file, array or ``Records`` list)."""


def detect(records: Iterable[dict[str, Any]]) -> Parser:
    """The parser for the first records that any parser recognizes."""
    first: dict[str, Any] | None = None
    seen = False
    for n, record in enumerate(records):
        seen = True
        for parser in all_parsers():
            if parser.sniff(record):
                return parser
        if first is None:
            first = record
        if n >= 20:
            break
    if not seen:
        raise NoRecords("the file holds no records")
    from forensics.engine.not_logs import not_a_log

    raise UnknownFormat(
        not_a_log(first)
        or "unrecognized log format; use --format with one of: " + ", ".join(kinds())
    )


def get_parser(kind: str) -> Parser:
    """The parser for a source kind name; UnknownFormat when there is none."""
    for parser in all_parsers():
        if parser.kind == kind:
            return parser
    raise UnknownFormat(f"unknown format '{kind}'; choose one of: " + ", ".join(kinds()))
