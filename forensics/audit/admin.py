from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forensics.audit.models import AccessLogEntry


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "method", "path", "view", "client_address"]
    list_filter = ["view", "personal_data"]
    search_fields = ["username", "path"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
