"""Cases: an investigator's collection of events, identities and notes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.urls import reverse


class Case(models.Model):
    OPEN, CLOSED = "open", "closed"
    STATUSES = [(OPEN, "open"), (CLOSED, "closed")]

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_created"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="cases",
        blank=True,
        help_text="investigators who work on the case besides its creator",
    )
    status = models.CharField(max_length=8, choices=STATUSES, default=OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("case_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.OPEN

    def is_member(self, user: AbstractBaseUser | AnonymousUser) -> bool:
        if not user.is_authenticated:
            return False
        return self.created_by_id == user.pk or self.members.filter(pk=user.pk).exists()


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_events")
    # Events are evidence: one referenced by a case cannot be deleted from under it.
    # PROTECT is applied by Django: the partitioned event table has no unique index on id
    # alone for a database constraint to point at.
    event = models.ForeignKey(
        "ingest.Event", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [models.UniqueConstraint(fields=["case", "event"], name="caseevent_unique")]

    def __str__(self) -> str:
        return f"event {self.event_id} in case {self.case_id}"


class CaseIdentity(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_identities")
    identity = models.ForeignKey("identities.Identity", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        verbose_name_plural = "case identities"
        constraints = [
            models.UniqueConstraint(fields=["case", "identity"], name="caseidentity_unique")
        ]

    def __str__(self) -> str:
        return f"identity {self.identity_id} in case {self.case_id}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"note {self.pk} on case {self.case_id}"
