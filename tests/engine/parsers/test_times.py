"""Times as producers and the tools that export their logs write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forensics.engine.model import RecordError
from forensics.engine.parsers.common import parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Azure's portal export and ADFS sign-ins: month first, a 12-hour clock.
        ("9/19/2023, 1:45:17.287 PM", datetime(2023, 9, 19, 13, 45, 17, 287000, tzinfo=UTC)),
        ("12/12/2025 3:03:58 PM", datetime(2025, 12, 12, 15, 3, 58, tzinfo=UTC)),
        ("1/2/2024, 12:00:01.5 AM", datetime(2024, 1, 2, 0, 0, 1, 500000, tzinfo=UTC)),
        ("1/2/2024, 12:30:00 PM", datetime(2024, 1, 2, 12, 30, tzinfo=UTC)),
        ("1/2/2024, 11:59:59.1234567 pm", datetime(2024, 1, 2, 23, 59, 59, 123456, tzinfo=UTC)),
        ("2024-01-02T23:59:59Z", datetime(2024, 1, 2, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_it_reads_the_forms_exports_write(text: str, expected: datetime) -> None:
    assert parse_time(text, "t") == expected


@pytest.mark.parametrize(
    "text",
    [
        "19/9/2023, 1:45:17 PM",  # no 19th month
        "9/19/2023, 13:45:17 PM",  # no 13 o'clock on a 12-hour clock
        "2/30/2024, 1:00:00 AM",
        "19/09/2023 13:45:17",  # a day-first locale's form: not guessed at
    ],
)
def test_it_refuses_what_it_cannot_read_unambiguously(text: str) -> None:
    with pytest.raises(RecordError, match="field 't' is not a valid timestamp"):
        parse_time(text, "t")
