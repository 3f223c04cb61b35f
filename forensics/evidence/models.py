"""Evidence packs: signed, self-verifying exports of a case, a trace, a timeline or a query."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class EvidencePack(models.Model):
    CASE, TRACE, TIMELINE, QUERY = "case", "trace", "timeline", "query"
    KINDS = [
        (CASE, "case"),
        (TRACE, "trace of one event"),
        (TIMELINE, "identity timeline"),
        (QUERY, "event query"),
    ]
    QUEUED, BUILDING, READY, FAILED = "queued", "building", "ready", "failed"
    STATUSES = [(s, s) for s in (QUEUED, BUILDING, READY, FAILED)]

    pack_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=KINDS)
    title = models.CharField(max_length=300)
    scope = models.JSONField(default=dict, help_text="what the pack holds: ids and filters")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_packs"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    events = models.IntegerField(default=0, help_text="events in the pack, hop evidence included")
    personal_data_events = models.IntegerField(default=0)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, help_text="of the whole .zip file")
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    key_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"evidence pack {self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("pack_detail", args=[self.pk])

    @property
    def filename(self) -> str:
        return f"evidence-pack-{self.pk}-{self.pack_id}.zip"

    @property
    def finished(self) -> bool:
        return self.status in {self.READY, self.FAILED}
