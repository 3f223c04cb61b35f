"""Small readers of normalized events shared by the correlation rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from forensics.engine.model import NormalizedEvent, RecordError, is_placeholder_id
from forensics.engine.parsers.common import parse_time

# Placeholders producers write where they hide or lack a value: never an identifier.
_PLACEHOLDERS = frozenset(
    {
        "hidden_due_to_security_reasons",
        "redacted",
        "unknown",
        "null",
        "none",
        "n/a",
        "-",
        "anonymous_principal",
        "not available",
        "00000000-0000-0000-0000-000000000000",
    }
)
_EMAIL = re.compile(r"^[^@\s|:/]+@[^@\s|:/]+\.[^@\s|:/]+$")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")

# Clock differences between producers, and between a call and the session it created.
SKEW = timedelta(minutes=5)


_CLEANED: dict[str, str] = {}
_CLEANED_MAX = 1 << 20


def clean(value: Any) -> str:
    """Text of an identifier, "" when absent, redacted or a placeholder."""
    if type(value) is str:
        # The same identifiers recur on every event of a session: remember their clean form.
        hit = _CLEANED.get(value)
        if hit is not None:
            return hit
        text = value.strip()
        if not text or text.lower() in _PLACEHOLDERS or is_placeholder_id(text):
            text = ""
        if len(_CLEANED) >= _CLEANED_MAX:
            _CLEANED.clear()
        _CLEANED[value] = text
        return text
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return clean(str(value))
    return ""


def attr(event: NormalizedEvent, key: str) -> str:
    """A cleaned text attr ("" when absent or not text)."""
    return clean(event.attrs.get(key))


def attr_list(event: NormalizedEvent, key: str) -> list[str]:
    """A list attr as cleaned text; unnamed members stay "" so positions are kept."""
    value = event.attrs.get(key)
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, str) and value:
        return [clean(value)]
    return []


def is_email(value: str) -> bool:
    """True when the value has the shape of an email address."""
    return bool(_EMAIL.match(value))


def is_instance_id(value: str) -> bool:
    """True for an EC2 instance id (i- and 8 or 17 hex digits)."""
    return bool(_INSTANCE_ID.match(value))


@lru_cache(maxsize=65536)
def when(text: str) -> datetime | None:
    """An ISO time from an attr, None when absent or unreadable."""
    if not text:
        return None
    try:
        return parse_time(text, "time")
    except RecordError:
        return None


def arn_account(arn: str) -> str:
    """The account field of an ARN ("" when not an ARN)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else ""


def arn_resource(arn: str) -> str:
    """The resource part of an ARN ("role/path/Name", "assumed-role/Name/session", ...)."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[0] == "arn" else ""


def role_name(arn: str) -> str:
    """The role's name in a role ARN or an assumed-role session ARN ("" otherwise)."""
    resource = arn_resource(arn)
    if resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    if resource.startswith("assumed-role/"):
        parts = resource.split("/")
        return parts[1] if len(parts) >= 3 else ""
    return ""


def role_path(arn: str) -> str:
    """The path of a role ARN ("/aws-reserved/sso.amazonaws.com/"), "" when not a role ARN."""
    resource = arn_resource(arn)
    if not resource.startswith("role/"):
        return ""
    return "/" + resource[len("role/") :].rsplit("/", 1)[0] + "/" if "/" in resource[5:] else "/"


def same_role(a: str, b: str) -> bool:
    """True when two role or session ARNs name the same role (account and name, any case)."""
    return (
        arn_account(a) == arn_account(b)
        and role_name(a).lower() == role_name(b).lower()
        and bool(role_name(a))
    )


def same_arn(a: str, b: str) -> bool:
    """ARN equality as IAM sees it: names are unique regardless of case."""
    return a.lower() == b.lower()


def strip_scheme(issuer: str) -> str:
    """An issuer URL without scheme and trailing slash: host and path."""
    text = issuer.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    marker = ":oidc-provider/"
    if text.startswith("arn:") and marker in text:
        text = text.split(marker, 1)[1]
    return text.rstrip("/")
