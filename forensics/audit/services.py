"""Writing the dashboard's own access log. Views call ``record_access`` once per response."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
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
        client_address=client_address(request)[:64],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
    )


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies the
    X-Forwarded-For entry the outermost trusted proxy saw (entries to its left are the
    client's own claims and cannot be trusted)."""
    proxies = settings.TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    chain = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    return chain[-proxies] if len(chain) >= proxies else remote


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
