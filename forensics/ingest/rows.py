"""An ingested record as a row of the event table: its dedupe key, its columns, and the
values the store cannot hold made storable."""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable, Iterator
from typing import Any

from forensics.core import bulk
from forensics.engine.model import NormalizedEvent, scoped_event_id
from forensics.engine.precedence import precedence
from forensics.engine.reader import RawRecord
from forensics.ingest.models import Event, IngestBatch
from forensics.ingest.personal_data import Matcher

# Characters no column can hold: NUL (PostgreSQL text and jsonb refuse it) and unpaired
# UTF-16 surrogates (not encodable as UTF-8; truncated strings of .NET and Java producers
# carry them). A parsed record gets either only from a \u escape in its text, which one
# scan of the text rules out for nearly every record.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with each character no column can hold replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _storable_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with unstorable characters replaced in every value the record's parse gave
    (not ``raw``, the record's own text, which holds them as escapes). The event's attrs
    say how many were replaced, so that a U+FFFD is not taken for what the producer wrote."""
    replaced = 0

    def clean(value: Any) -> Any:
        nonlocal replaced
        if isinstance(value, str):
            text, n = _UNSTORABLE.subn(REPLACEMENT, value)
            replaced += n
            return text
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out = {k: v if k == "raw" else clean(v) for k, v in row.items()}
    if replaced:
        out["attrs"] = {**out["attrs"], "replaced_characters": str(replaced)}
    return out


def dedupe_key(event: NormalizedEvent, raw_sha: str) -> str:
    """The producer's event id (with what it is unique within) when it has one, else the raw
    content's hash."""
    if event_id := scoped_event_id(event):
        return f"{event.source_kind}:{event_id}"[:300]
    return f"{event.source_kind}:sha256:{raw_sha}"


def event_row(
    batch: IngestBatch, event: NormalizedEvent, record: RawRecord, matcher: Matcher
) -> dict[str, Any]:
    raw_sha = hashlib.sha256(record.text.encode("utf-8")).hexdigest()
    row = {
        "source_id": batch.source_id,
        "batch_id": batch.pk,
        "dedupe_key": dedupe_key(event, raw_sha),
        "source_kind": event.source_kind,
        "source_event_id": event.source_event_id[:200],
        "event_time": event.event_time,
        "category": event.category,
        "action": event.action[:300],
        "outcome": event.outcome,
        "actor_principal": event.actor_principal[:500],
        "actor_kind": event.actor_kind,
        "actor_account": event.actor_account[:200],
        "credential_used": event.credential_used[:300],
        "credential_issued": event.credential_issued[:300],
        "issued_principal": event.issued_principal[:500],
        "issue_method": event.issue_method,
        "session_name": event.session_name[:300],
        "source_identity": event.source_identity[:300],
        "request_id": event.request_id[:200],
        "correlation_id": event.correlation_id[:200],
        "source_address": event.source_address[:200],
        "user_agent": event.user_agent,
        "resource": event.resource,
        "resource_type": event.resource_type[:100],
        "personal_data": matcher(event.source_kind, event.resource),
        "mfa": event.mfa,
        "attrs": event.attrs,
        "assumed_role_id": str(event.attrs.get("assumed_role_id") or "")[:200],
        "shared_event_id": str(event.attrs.get("shared_event_id") or "")[:100],
        "raw": record.text,
        "raw_sha256": raw_sha,
        "position": record.position[:80],
        # Not an event column: how this record ranks against others of its key, if it can.
        "precedence": precedence(event.source_kind, event.attrs, raw_sha),
    }
    return _storable_row(row) if _ESCAPED_UNSTORABLE.search(record.text) else row


_NOT_INSERTED = {"id"}


@functools.cache
def _insert_fields() -> list[Any]:
    return [f for f in Event._meta.concrete_fields if f.attname not in _NOT_INSERTED]


def insert_columns() -> list[str]:
    """The Event columns an ingested row fills, in staging order."""
    return [f.attname for f in _insert_fields()]


def staged_rows(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples in ``insert_columns()`` order, with values the staging load accepts."""
    columns = insert_columns()
    pick = operator.itemgetter(*columns)
    # Most columns go in as they are; only those whose converter changes the value are
    # touched, since this runs for every column of every stored event.
    changed = [
        (i, conv)
        for i, conv in enumerate(bulk.converters(_insert_fields()))
        if conv is not bulk.unchanged
    ]
    for row in rows:
        values = list(pick(row))
        for i, conv in changed:
            values[i] = conv(values[i])
        yield tuple(values)


# What the records of one event agree on however it was delivered (a trail file, EventBridge,
# CloudTrail Lake, an Event Hub, an API page or an export): two records under one event id
# that differ in any of these are two events, not one event twice.
SAME_EVENT_FIELDS = ("action", "actor_principal", "source_address")


def differences(row: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The fields in which two records of one dedupe key disagree (none for the same bytes)."""
    if row["raw_sha256"] == other["raw_sha256"]:
        return []
    return [name for name in SAME_EVENT_FIELDS if row[name] != other[name]]


def outranks(row: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether ``row`` is kept over ``other``, a record with the same dedupe key."""
    mine, theirs = row["precedence"], other["precedence"]
    return mine is not None and theirs is not None and mine > theirs
