"""The dashboard's own access log: who looked at which events and personal data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnly(Exception):
    """Access-log entries are never changed or removed through the application."""


class AccessLogEntry(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    view = models.CharField(max_length=100)
    filters = models.JSONField(default=dict)
    object_refs = models.JSONField(default=list, help_text="e.g. ['event:12', 'identity:3']")
    personal_data = models.BooleanField(default=False)
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["username", "at"], name="accesslog_user_at_idx")]
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        return f"{self.username} {self.method} {self.path}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("access-log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("access-log entries cannot be deleted")
