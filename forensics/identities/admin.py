from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from forensics.identities.models import Identity, IdentityAlias
from forensics.identities.tasks import identities_changed


class AliasInline(admin.TabularInline):
    model = IdentityAlias
    extra = 1


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "shared", "owner", "origin", "updated_at"]
    list_filter = ["kind", "shared", "origin"]
    search_fields = ["name", "aliases__value"]
    inlines = [AliasInline]
    raw_id_fields = ["owner"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        pk = form.instance.pk
        # Shared flags, owners and aliases decide attributions: recompute the affected ones.
        transaction.on_commit(lambda: identities_changed.delay([pk]))
