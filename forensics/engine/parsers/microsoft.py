"""Field reading shared by the Microsoft producers' parsers (Entra, Azure).

Their logs write placeholders where a value is hidden or absent: an all-zero GUID for "none",
redaction markers, "<null>", masked values of asterisks. Each parser names the placeholders
its producer writes; reading through these helpers turns them into "" so that no placeholder
is ever taken for an identifier or an address.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from forensics.engine.model import RecordError
from forensics.engine.parsers.common import opt_str

NIL_GUID = "00000000-0000-0000-0000-000000000000"


def clean(value: str, placeholders: frozenset[str]) -> str:
    """The value stripped, or "" when it is a placeholder, the nil GUID or a mask of '*'."""
    text = value.strip()
    if text.lower() in placeholders or text == NIL_GUID or (text and set(text) == {"*"}):
        return ""
    return text


def first(record: Any, paths: Iterable[str], placeholders: frozenset[str]) -> str:
    """The first of ``paths`` holding real text (RecordError when one holds another type)."""
    for path in paths:
        value = clean(opt_str(record, path), placeholders)
        if value:
            return value
    return ""


def record_object(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
    return record
