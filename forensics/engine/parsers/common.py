"""Field access helpers shared by the parsers: every failure names the field."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Set
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

from forensics.engine.model import RecordError

_FRACTION = re.compile(r"\.(\d+)")
_DOTNET_DATE = re.compile(r"/Date\((-?\d+)\)/")
# The en-US display form that Azure's portal exports and some Azure logs write:
# "9/19/2023, 1:45:17.287 PM", "12/12/2025 3:03:58 PM". Month first; the 12-hour clock with
# AM/PM is what tells it from a day-first locale's form, which is not guessed at.
_US_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))? ([AaPp][Mm])"
)


_PATHS: dict[str, tuple[str, ...]] = {}


def get(record: Any, path: str, default: Any = None) -> Any:
    """Value at a dotted path, or ``default`` when any step is absent or not an object."""
    parts = _PATHS.get(path)
    if parts is None:
        parts = _PATHS[path] = tuple(path.split("."))
    node = record
    # Parsers call this dozens of times per record: indexing and catching the miss is
    # cheaper than testing every step. A list, string or number in the way is a miss too.
    try:
        for part in parts:
            node = node[part]
    except (KeyError, TypeError, IndexError):
        return default
    return node


def opt_str(record: Any, path: str) -> str:
    """A string field, "" when absent or null; numbers and booleans are turned into text.

    Raises RecordError when the field holds an object or array where text belongs.
    """
    value = get(record, path)
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return text_value(value, path)


def unmasked(value: str, placeholders: Set[str]) -> str:
    """``value`` stripped, or "" when it stands for a value the producer withheld: one of
    ``placeholders`` (written in lower case) or a mask of asterisks ("*****").

    Parsers run this on most text fields of every record: the mask test looks at the first
    character before it looks at the rest."""
    text = value.strip()
    if text[:1] == "*" and not text.strip("*"):
        return ""
    return "" if text.lower() in placeholders else text


def host_of(address: str, always_port: bool = False) -> str:
    """An address as a producer wrote it, without the port some append ("[v6]:port",
    "v4:port", and "v6:port" for those that ``always_port``), an IPv4-mapped IPv6 address
    ("::ffff:10.1.2.3") as the IPv4 address it is. Anything else is kept as written."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        text = host if not rest or rest[1:].isdigit() else text
    elif text.count(":") == 1:
        host, port = text.split(":")
        text = host if port.isdigit() else text
    elif always_port and text.count(":") > 1:
        host, _, port = text.rpartition(":")
        text = host if port.isdigit() and _is_ip(host) else text
    if text[:7].lower() == "::ffff:" and _is_ip(text):
        mapped = ipaddress.ip_address(text).ipv4_mapped  # type: ignore[union-attr]
        return str(mapped) if mapped else text
    return text


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def url_parts(url: str) -> SplitResult:
    """``urlsplit`` of a URL as a log wrote it. One it refuses (an unbalanced "[" in its
    host) is taken as a bare path, so the record is still read."""
    try:
        return urlsplit(url)
    except ValueError:
        return SplitResult("", "", url, "", "")


def text_value(value: Any, path: str) -> str:
    """opt_str's reading of a value already taken from the record at ``path``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise RecordError(f"field '{path}' should be text, found {type(value).__name__}")


def req_str(record: Any, path: str) -> str:
    """A string field that must be present and non-empty."""
    value = opt_str(record, path)
    if not value:
        raise RecordError(f"required field '{path}' is missing or empty")
    return value


def opt_dict(record: Any, path: str) -> dict[str, Any]:
    """An object field, {} when absent or null; RecordError when it is another type."""
    return object_value(get(record, path), path)


def _blank(value: Any) -> bool:
    """Null, or text with nothing in it: an exporter's way of writing an absent object or
    array (flattened tables and SIEM exports write "" where the producer wrote nothing)."""
    return value is None or (isinstance(value, str) and not value.strip())


def object_value(value: Any, path: str) -> dict[str, Any]:
    """opt_dict's reading of a value already taken from the record at ``path``."""
    if _blank(value):
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"field '{path}' should be an object, found {type(value).__name__}")
    return value


def opt_list(record: Any, path: str) -> list[Any]:
    """An array field, [] when absent or null; RecordError when it is another type."""
    value = get(record, path)
    if _blank(value):
        return []
    if not isinstance(value, list):
        raise RecordError(f"field '{path}' should be an array, found {type(value).__name__}")
    return value


def object_list(record: Any, path: str, within: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(full path, element) of an array of objects; nulls are skipped, other values refused.

    ``within`` is the path of ``record`` itself when it is an element of another array.
    """
    full = f"{within}.{path}" if within else path
    value = get(record, path)
    if _blank(value):
        return []
    if not isinstance(value, list):
        raise RecordError(f"field '{full}' should be an array, found {type(value).__name__}")
    found = []
    for n, item in enumerate(value):
        where = f"{full}[{n}]"
        if _blank(item):
            continue
        if not isinstance(item, dict):
            raise RecordError(f"field '{where}' should be an object, found {type(item).__name__}")
        found.append((where, item))
    return found


def str_list(record: Any, path: str) -> list[str]:
    """An array of strings (non-string members are turned into text)."""
    return [str(v) for v in opt_list(record, path) if v is not None]


def parse_time(value: Any, path: str) -> datetime:
    """An RFC 3339 / ISO 8601 timestamp (any fraction length, 'Z' or offset) as aware UTC.

    Epoch numbers are accepted as seconds, or milliseconds when they are too large for seconds
    (OCSF times are epoch milliseconds), microseconds or nanoseconds when too large for those
    (a millisecond count past 1e14 would be after the year 5000).
    """
    if value is None or value == "":
        raise RecordError(f"required field '{path}' (event time) is missing")
    if isinstance(value, bool):
        raise RecordError(f"field '{path}' should be a timestamp, found boolean")
    if isinstance(value, int | float):
        size = abs(value)
        unit = 1e9 if size > 1e17 else 1e6 if size > 1e14 else 1e3 if size > 1e11 else 1
        seconds = value / unit if unit != 1 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError(f"field '{path}' is not a valid epoch time: {value}") from exc
    if not isinstance(value, str):
        raise RecordError(f"field '{path}' should be a timestamp, found {type(value).__name__}")
    text = value.strip()
    legacy = _DOTNET_DATE.fullmatch(text)
    if legacy:  # Windows PowerShell's ConvertTo-Json: "/Date(1715679012000)/", epoch ms
        return parse_time(int(legacy.group(1)) / 1000, path)
    us = _US_TIME.fullmatch(text)
    if us:
        return _us_time(us, value, path)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    elif text.endswith(" UTC"):  # BigQuery's TIMESTAMP as text: "2024-03-12 09:15:02.1 UTC"
        text = text[:-4] + "+00:00"
    # Python accepts at most 6 fraction digits; producers write 0 to 9.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    text = text.replace(" ", "T", 1) if "T" not in text else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordError(f"field '{path}' is not a valid timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # producers that omit the zone write UTC
    return parsed.astimezone(UTC)


def _us_time(match: re.Match[str], value: Any, path: str) -> datetime:
    month, day, year, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, half = match.group(7) or "", match.group(8).upper()
    if not 1 <= hour <= 12:
        raise RecordError(f"field '{path}' is not a valid timestamp: {value!r}")
    hour = hour % 12 + (12 if half == "PM" else 0)
    try:
        return datetime(
            year, month, day, hour, minute, second, int(fraction[:6].ljust(6, "0")), tzinfo=UTC
        )
    except ValueError as exc:
        raise RecordError(f"field '{path}' is not a valid timestamp: {value!r}") from exc


def iso(value: datetime) -> str:
    """UTC ISO-8601 text with a 'Z', for attrs that carry times."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_QUOTED_FIELD = re.compile(r"'([A-Za-z_][\w.]*)'")


@contextmanager
def column_names(columns: dict[str, str]) -> Iterator[None]:
    """Let a RecordError raised inside name a field as the record does (``columns`` maps
    the record's names to the names the parser read them as), not as the parser renamed
    it: the person fixing an export knows its columns."""
    by_field: dict[str, str] = {}
    for column, field in columns.items():
        by_field.setdefault(field, column)

    def rename(match: re.Match[str]) -> str:
        head, dot, rest = match.group(1).partition(".")
        return f"'{by_field.get(head, head)}{dot}{rest}'"

    try:
        yield
    except RecordError as exc:
        raise RecordError(_QUOTED_FIELD.sub(rename, str(exc))) from exc


@contextmanager
def fields_under(prefix: str) -> Iterator[None]:
    """Let a RecordError raised inside name its fields as paths under ``prefix``: the parser
    read a record that the file holds nested there (an envelope's ``detail``, say)."""
    try:
        yield
    except RecordError as exc:
        raise RecordError(_QUOTED_FIELD.sub(lambda m: f"'{prefix}{m.group(1)}'", str(exc))) from exc
