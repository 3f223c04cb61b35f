"""Files that hold no log records but something saved in their place: a file a producer
writes beside its logs (a CloudTrail digest), an API's error response, a web page. Ingest
says what such a file is, instead of only that its records are not recognized: a download
that failed (an expired token, a refused bucket) is then told from a format not read."""

from __future__ import annotations

import html
import re
from typing import Any

_SHOWN = 200  # characters of a producer's message kept in the reason


def not_a_log(record: Any) -> str:
    """What a file whose first record is this JSON object holds instead of logs; "" when it
    is none of the known things."""
    from forensics.engine.parsers.cloudtrail import not_a_log as not_a_trail_log

    if not isinstance(record, dict):
        return ""
    return (
        not_a_trail_log(record)
        or _api_error(record)
        or _ecs_document(record)
        or _log_analytics_row(record)
        or azure_diagnostic(record)
    )


def azure_diagnostic(record: Any) -> str:
    """An Azure Monitor resource log record of a category no parser reads (a diagnostic
    setting sends several categories to one Event Hub or storage account: an AKS cluster's
    kube-controller-manager beside its kube-audit); "" for anything else."""
    if not isinstance(record, dict):
        return ""
    category = record.get("category")
    if not (isinstance(category, str) and category and isinstance(record.get("time"), str)):
        return ""
    if not isinstance(record.get("resourceId"), str):
        return ""
    return f"an Azure Monitor record of category {category[:100]!r}, which is not read"


# Log Analytics tables of producers this reads, by the export of their own records to use.
_TABLE_EXPORTS = {
    "OfficeActivity": "the Microsoft 365 audit log (Purview audit search or the Management "
    "Activity API)",
    "AzureDiagnostics": "the resource's diagnostic setting (storage account or Event Hub)",
    "AZKVAuditLogs": "the key vault's diagnostic setting (storage account or Event Hub)",
    "StorageBlobLogs": "the storage account's diagnostic setting (storage account or Event Hub)",
    "StorageFileLogs": "the storage account's diagnostic setting (storage account or Event Hub)",
    "AWSCloudTrail": "the trail's S3 bucket or CloudTrail's event history",
    "GCPAuditLogs": "a Cloud Logging sink or 'gcloud logging read'",
    "Okta_CL": "Okta's System Log API",
}


def _log_analytics_row(record: dict[str, Any]) -> str:
    """A row of a Log Analytics (Microsoft Sentinel) table no parser reads: its columns are
    Log Analytics' own, flattened from the producer's record or renamed."""
    table = record.get("Type")
    if not (
        isinstance(table, str) and table and ("TimeGenerated" in record or "TenantId" in record)
    ):
        return ""
    export = _TABLE_EXPORTS.get(table)
    if export:
        return (
            f"a Log Analytics row of table {table!r}, which is not read: "
            f"ingest the records from {export} instead"
        )
    if table.endswith("_CL"):
        return (
            f"a Log Analytics custom log row (table {table!r}): its columns are not a "
            "producer's format"
        )
    return f"a Log Analytics row of table {table!r}, which is not read"


def _ecs_document(record: dict[str, Any]) -> str:
    """A document an Elastic integration indexed in Elastic Common Schema, the producer's
    fields renamed, without the original event (a search hit's ``_source``)."""
    ecs = record.get("ecs")
    if not (isinstance(ecs, dict) and "version" in ecs and "@timestamp" in record):
        return ""
    return (
        "Elastic Common Schema documents, whose fields an integration renamed, not the "
        "producer's records: export them with the original event kept (event.original, the "
        "integration's option to preserve the original event)"
    )


def not_json(head: bytes) -> str:
    """What a file that starts with these bytes (decompressed) holds instead of JSON logs;
    "" when it is none of the known things."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    lowered = text[:200].lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:100]:
        title = _element(text, "title")
        named = f' titled "{title}"' if title else ""
        return (
            f"an HTML page{named}, not log records: a sign-in or error page saved in place "
            "of the logs?"
        )
    if lowered.startswith("<?xml") or lowered.startswith("<error"):
        code, message = _element(text, "Code"), _element(text, "Message")
        if code:
            return f"an XML error response ({_said(code, message)}), not log records"
        return "an XML document, not log records"
    return ""


def _api_error(record: dict[str, Any]) -> str:
    error = record.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        code, status = error.get("code"), error.get("status")
        if isinstance(code, int) and not isinstance(code, bool):
            # Google APIs: {"error": {"code": 403, "message", "status": "PERMISSION_DENIED"}}
            what = f"{code} {status}" if isinstance(status, str) else str(code)
            return _response("a Google API", what, error["message"])
        if isinstance(code, str):
            # Microsoft Graph and Azure Resource Manager: {"error": {"code", "message"}}
            return _response("a Microsoft API", code, error["message"])
    if isinstance(record.get("errorCode"), str) and "errorSummary" in record:
        return _response("an Okta API", record["errorCode"], record.get("errorSummary"))
    aws_type = record.get("__type")
    if isinstance(aws_type, str):
        message = record.get("message", record.get("Message"))
        return _response("an AWS API", aws_type.rsplit("#", 1)[-1], message)
    if record.get("kind") == "Status" and record.get("status") == "Failure":
        what = f"{record.get('code', '')} {record.get('reason', '')}".strip()
        return _response("a Kubernetes API", what, record.get("message"))
    return ""


def _response(api: str, what: str, message: Any) -> str:
    return f"{api} error response ({_said(what, message)}), not log records"


def _said(what: str, message: Any) -> str:
    text = " ".join(message.split())[:_SHOWN] if isinstance(message, str) else ""
    return f"{what[:_SHOWN]}: {text}" if text else what[:_SHOWN]


def _element(text: str, name: str) -> str:
    """The text of the first ``<name>`` element, unescaped and on one line; "" if none."""
    m = re.search(rf"<{name}\b[^>]*>(.*?)</{name}\s*>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split())[:_SHOWN] if m else ""
