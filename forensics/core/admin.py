"""The settings pages (Django admin) belong to the admin role, not only to staff accounts."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from forensics.core.roles import ADMIN, has_role


def _has_permission(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_staff or has_role(user, ADMIN)))


admin.site.has_permission = _has_permission  # type: ignore[method-assign]
admin.site.site_header = "forensics settings"
admin.site.site_title = "forensics settings"
admin.site.index_title = "Sources, rules, identities and users"
