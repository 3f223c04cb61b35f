"""The identity directory: the humans and workloads behind every principal."""

from __future__ import annotations

from django.db import models

from forensics.engine.model import ALIAS_NAMESPACES


class Identity(models.Model):
    """An originating actor: a human or a workload. Roles are hops, never identities."""

    HUMAN, WORKLOAD = "human", "workload"
    AUTO, IMPORTED, ADMIN = "auto", "imported", "admin"
    kind = models.CharField(max_length=8, choices=[(HUMAN, "human"), (WORKLOAD, "workload")])
    name = models.CharField(max_length=300)
    owner = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned",
        help_text="the human accountable for a workload",
    )
    shared = models.BooleanField(
        default=False, help_text="used by several people: its activity cannot be attributed"
    )
    origin = models.CharField(
        max_length=8,
        default=AUTO,
        choices=[(AUTO, "from logs"), (IMPORTED, "imported"), (ADMIN, "admin")],
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.name


class IdentityAlias(models.Model):
    """One name of an identity in one system (namespace + value)."""

    NAMESPACES = [(k, k) for k in ALIAS_NAMESPACES]
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="aliases")
    namespace = models.CharField(max_length=32, choices=NAMESPACES)
    value = models.CharField(max_length=500)

    class Meta:
        ordering = ["namespace", "value"]
        constraints = [models.UniqueConstraint(fields=["namespace", "value"], name="alias_unique")]
        verbose_name_plural = "identity aliases"

    def __str__(self) -> str:
        return f"{self.namespace}:{self.value}"
