"""Field reading shared by the Microsoft producers' parsers (Entra, Azure).

Their logs write placeholders where a value is hidden or absent: an all-zero GUID for "none",
redaction markers, "<null>", masked values of asterisks. Each parser names the placeholders
its producer writes; reading through these helpers turns them into "" so that no placeholder
is ever taken for an identifier or an address.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson

from forensics.engine.model import RecordError
from forensics.engine.parsers.common import get, opt_dict, opt_str, parse_time, unmasked

NIL_GUID = "00000000-0000-0000-0000-000000000000"


# Token claims as Azure writes them: the long URI names of Azure Resource Manager and Key
# Vault, or the short JWT names.
CLAIM_UPN = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
    "unique_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
)
CLAIM_OID = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
CLAIM_TID = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")


def clean(value: str, placeholders: frozenset[str]) -> str:
    """The value stripped, or "" when it is a placeholder, the nil GUID or a mask of '*'."""
    text = unmasked(value, placeholders)
    return "" if text == NIL_GUID else text


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


def log_analytics_row(row: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """A Log Analytics row in the field names of the producer's own record shape.

    Log Analytics and Microsoft Sentinel query results (``az monitor log-analytics query``,
    the query API's rows as the reader hands them over) give one object per row with the
    table's PascalCase columns, and a ``dynamic`` column either as an object or as JSON text.
    ``columns`` maps each column read to its field name; the others are left out, since some
    share a name with a field and not its meaning (a row's ``TenantId`` is the workspace's,
    not Entra's). A column given as JSON text that does not decode stays text, for the
    parser to judge. An empty value (``""`` or null, which exports write for an empty column
    of any type) is left out, as the field would be in the producer's own record.
    """
    out: dict[str, Any] = {}
    for column, field in columns.items():
        value = row.get(column)
        if value is None or value == "":
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            with suppress(orjson.JSONDecodeError):
                value = orjson.loads(value)
        if out.get(field) in (None, {}):
            out[field] = value
    return out


def table_shaped(record: dict[str, Any]) -> bool:
    """Whether a record has a Log Analytics row's own columns (``Type``, ``TimeGenerated``),
    which no producer's own record shape carries."""
    return "Type" in record or "TimeGenerated" in record


def projected_row(record: dict[str, Any]) -> bool:
    """A Log Analytics row whose query kept some columns and not the table's ``Type``.

    Detection cannot tell its table, but a parser the user chose can still read it as one
    of its rows: no shape a producer writes itself has a ``TimeGenerated`` member.
    """
    return "Type" not in record and "TimeGenerated" in record


def _camel(name: str) -> str:
    """A PowerShell property name as the Graph resource's member: "IPAddress" -> "ipAddress",
    "Status" -> "status", "Id" -> "id"."""
    if not name[:1].isupper():
        return name
    caps = len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if caps == len(name):
        return name.lower()
    if caps == 1:
        return name[0].lower() + name[1:]
    return name[: caps - 1].lower() + name[caps - 1 :]


def graph_powershell_object(value: Any) -> Any:
    """A Microsoft Graph PowerShell object in the Graph resource's own member names.

    ``Get-MgAuditLogSignIn`` / ``Get-MgAuditLogDirectoryAudit`` (and their beta twins) return
    the Graph resources with PascalCase properties; ``ConvertTo-Json`` keeps those names, at
    every depth. Their values are the resource's, so only the names change.
    """
    if isinstance(value, dict):
        return {_camel(k): graph_powershell_object(v) for k, v in value.items()}
    if isinstance(value, list):
        return [graph_powershell_object(v) for v in value]
    return value


def monitor_fields(record: dict[str, Any], monitor: bool, time_field: str) -> tuple[str, datetime]:
    """Where a record's fields are, and its time, when an Azure Monitor export may wrap it.

    A diagnostic export keeps the producer's record under ``properties`` (``monitor``), and
    its own ``time`` stands in when the wrapped record has none. Returns the path prefix of
    the fields ("properties." or "") and the event time.
    """
    if monitor:
        opt_dict(record, "properties")  # a non-object here is a malformed record
    prefix = "properties." if monitor else ""
    time_path = prefix + time_field
    raw_time = get(record, time_path)
    if raw_time in (None, "") and monitor:
        time_path, raw_time = "time", get(record, "time")
    return prefix, parse_time(raw_time, time_path)
