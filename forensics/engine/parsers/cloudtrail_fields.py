"""The small readers of the CloudTrail parser: one field of a record, as CloudTrail writes it
(text, numbers that lost their zeros, booleans as text, times in several forms), each error
naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from forensics.engine.model import RecordError
from forensics.engine.parsers.common import iso, object_value, parse_time, text_value

_HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_BASIC_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")
# STS credential expirations are written as Java dates: "Jul 18, 2014 4:07:39 PM" or, on
# newer runtimes, "Jul 1, 2026, 12:08:19 PM" (with a narrow no-break space before PM).
_JAVA_TIME = re.compile(
    r"^([A-Za-z]{3})\s+(\d{1,2}),\s*(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})\s*([AaPp][Mm])$"
)
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: n for n, m in enumerate(_MONTH_NAMES, 1)}


def _obj(node: Any, key: str) -> dict[str, Any]:
    """A service-defined object (request, response, extra data), {} when absent or odd.

    Lake rows may hold nested objects as JSON text; those are decoded.
    """
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _text(node: dict[str, Any], key: str) -> str:
    """Text of a service-defined field; "" for absent, null or structured values."""
    value = node.get(key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return ""


def _str(node: dict[str, Any], key: str, prefix: str = "") -> str:
    """opt_str of ``node[key]``, node being the object at ``prefix``: errors name the full path.

    Every record reads dozens of these, nearly all text or absent; those return at once.
    """
    value = node.get(key)
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return text_value(value, prefix + key)


def _dict(node: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
    """opt_dict of ``node[key]``, node being the object at ``prefix``."""
    value = node.get(key)
    if isinstance(value, dict):
        return value
    return object_value(value, prefix + key)


def _account(node: dict[str, Any], key: str, prefix: str = "") -> str:
    """An account id; a number that lost its leading zeros gets them back."""
    value = node.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value).zfill(12)
    return text_value(value, prefix + key)


def _clean(value: str) -> str:
    """The value, or "" when CloudTrail redacted it."""
    text = value.strip()
    if text == _HIDDEN or (len(text) >= 3 and text[0] == "*" and set(text) == {"*"}):
        return ""
    return text


def _put(attrs: dict[str, Any], key: str, value: str) -> None:
    if value:
        attrs[key] = value


def _truth(value: Any) -> bool | None:
    """CloudTrail booleans arrive as true/false or as the strings "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None


def _bool_text(value: Any) -> str:
    truth = _truth(value)
    return "" if truth is None else ("true" if truth else "false")


def _yes_no(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered == "yes":
        return True
    if lowered == "no":
        return False
    return None


def _time_text(value: Any) -> str:
    """An optional timestamp as ISO UTC, "" when absent or unreadable.

    Session creation dates come in ISO 8601 extended form or, in older records, basic form
    ("20131102T010628Z").
    """
    if value is None or value == "":
        return ""
    if _plain_utc(value) is not None:
        return value  # already what iso() would write: checked, and its text kept
    if isinstance(value, str):
        basic = _BASIC_TIME.match(value.strip())
        if basic:
            y, mo, d, h, mi, s = basic.groups()
            value = f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"
    try:
        return iso(parse_time(value, "time"))
    except RecordError:
        return ""


def _event_time(value: Any) -> datetime:
    """The eventTime, as parse_time reads it."""
    plain = _plain_utc(value)
    return plain if plain is not None else parse_time(value, "eventTime")


def _plain_utc(value: Any) -> datetime | None:
    """A "2024-05-14T09:20:17Z" timestamp, None for any other form or an invalid one.

    CloudTrail writes its times in this one form; reading it directly spares parse_time's
    normalizing, and gives the same value for every text it accepts.
    """
    if (
        isinstance(value, str)
        and len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
        and value[0].isdigit()
        and "." not in value
    ):
        try:
            return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _expiration(value: Any) -> str:
    """A credential expiration as ISO UTC; CloudTrail writes these as Java date text."""
    if isinstance(value, str):
        text = value.replace("\u202f", " ").replace("\xa0", " ").strip()
        java = _JAVA_TIME.match(text)
        if java:
            return _java_time(java)
    return _time_text(value)


def _java_time(match: re.Match[str]) -> str:
    mon, day, year, hour, minute, second, half = match.groups()
    month = _MONTHS.get(mon.lower())
    hour_24 = int(hour) % 12 + (12 if half.lower() == "pm" else 0)
    if month is None or int(hour) > 12:
        return ""
    return _time_text(f"{year}-{month:02d}-{int(day):02d}T{hour_24:02d}:{minute}:{second}Z")
