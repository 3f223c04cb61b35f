"""The shared reading of withheld values: placeholders and masks of asterisks are no value,
whatever their case and surrounding space; text that only contains them is kept."""

from __future__ import annotations

import pytest

from forensics.engine.parsers.common import unmasked
from forensics.engine.parsers.microsoft import NIL_GUID, clean

PLACEHOLDERS = frozenset({"redacted", "unknown"})


@pytest.mark.parametrize(
    "value", ["", "   ", "*", "***", " ***** ", "REDACTED", " Redacted ", "unknown", "UNKNOWN"]
)
def test_withheld_values_read_as_absent(value: str) -> None:
    assert unmasked(value, PLACEHOLDERS) == ""


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  jane  ", "jane"),
        ("*jane", "*jane"),
        ("jane***", "jane***"),
        ("* *", "* *"),
        ("redacted-bucket", "redacted-bucket"),
        ("unknown.example.com", "unknown.example.com"),
    ],
)
def test_text_that_only_contains_a_marker_is_kept(value: str, kept: str) -> None:
    assert unmasked(value, PLACEHOLDERS) == kept


def test_microsoft_values_also_drop_the_nil_guid() -> None:
    assert clean(f" {NIL_GUID} ", frozenset()) == ""
    assert clean("**", frozenset()) == ""
    assert clean("11111111-0000-0000-0000-000000000000", frozenset()) != ""
