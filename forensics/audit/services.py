"""Writing the dashboard's own access log. Views call ``record_access`` once per response."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from forensics.audit.models import AccessLogEntry

MAX_REFS = 500
SKIPPED_PARAMS = {"csrfmiddlewaretoken"}


def ref(kind: str, pk: Any) -> str:
    """An object reference as the log stores it, e.g. 'event:12'."""
    return f"{kind}:{pk}"


def record_access(
    request: HttpRequest, *, refs: Iterable[str] = (), personal_data: bool = False
) -> AccessLogEntry:
    """Log that ``request.user`` was shown ``refs`` (with the query that selected them)."""
    user = request.user if request.user.is_authenticated else None
    match = request.resolver_match
    unique = list(dict.fromkeys(refs))
    return AccessLogEntry.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        method=(request.method or "")[:8],
        path=request.get_full_path()[:2000],
        view=(match.view_name if match else "")[:100],
        filters=_params(request),
        object_refs=unique[:MAX_REFS],
        personal_data=personal_data,
        client_address=request.META.get("REMOTE_ADDR", "")[:64],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
    )


def _params(request: HttpRequest) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, values in request.GET.lists():
        if key in SKIPPED_PARAMS:
            continue
        kept = [v[:500] for v in values if v != ""]
        if not kept:
            continue
        out[key[:100]] = kept[0] if len(kept) == 1 else kept
    return out
