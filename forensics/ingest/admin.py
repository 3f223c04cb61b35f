from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from forensics.ingest.models import IngestBatch, PersonalDataRule, QuarantinedRecord, Source
from forensics.ingest.tasks import reflag_personal_data


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "token_hint", "token_created_at", "created_at"]
    readonly_fields = ["token_hint", "token_created_at"]
    actions = ["issue_token"]

    @admin.action(description="Issue a new ingest token (replaces the old one)")
    def issue_token(self, request: HttpRequest, queryset: Any) -> None:
        for source in queryset:
            token = source.issue_token()
            # Shown once; only its hash is stored.
            self.message_user(request, f"{source.name}: new token {token}", messages.WARNING)


@admin.register(PersonalDataRule)
class PersonalDataRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "source_kind", "pattern_type", "pattern", "enabled", "updated_at"]
    list_filter = ["enabled", "source_kind", "pattern_type"]

    def save_model(
        self, request: HttpRequest, obj: PersonalDataRule, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(reflag_personal_data.delay)
        self.message_user(request, "Stored events are being re-flagged in the background.")

    def delete_model(self, request: HttpRequest, obj: PersonalDataRule) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(reflag_personal_data.delay)


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "filename",
        "source",
        "status",
        "received",
        "stored",
        "duplicates",
        "quarantined",
        "replaced",
        "created_at",
    ]
    list_filter = ["status", "via", "source"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    list_display = ["batch", "position", "error", "created_at", "resolved_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
