"""The three roles and the server-side checks that guard every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

INVESTIGATOR = "investigator"
AUDITOR = "auditor"
ADMIN = "admin"
ROLES = (INVESTIGATOR, AUDITOR, ADMIN)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The roles a user holds; a superuser holds all of them."""
    if not user.is_authenticated:
        return frozenset()
    if getattr(user, "is_superuser", False):
        return frozenset(ROLES)
    cached = getattr(user, "_forensics_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))  # type: ignore[attr-defined]
        user._forensics_roles = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Allow the view only to users holding one of ``roles`` (403 otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator
