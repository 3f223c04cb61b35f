"""Filters over events and identities; every filter is a GET parameter, so a URL is a query."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet

from forensics.engine.model import EVIDENCE_KINDS, OUTCOMES
from forensics.identities.models import Identity, IdentityAlias
from forensics.ingest.models import (
    ATTRIBUTION_STATUSES,
    CATEGORY_CHOICES,
    Event,
    EventQuerySet,
    Source,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_ORIGIN_MATCHES = 50


class EventFilterSet(filters.FilterSet):
    since = filters.DateTimeFilter(
        field_name="event_time", lookup_expr="gte", label="from", widget=DATETIME_WIDGET
    )
    until = filters.DateTimeFilter(
        field_name="event_time", lookup_expr="lt", label="until", widget=DATETIME_WIDGET
    )
    origin = filters.CharFilter(method="filter_origin", label="origin identity")
    principal = filters.CharFilter(field_name="actor_principal", label="principal")
    action = filters.CharFilter(field_name="action", lookup_expr="icontains", label="action")
    resource = filters.CharFilter(field_name="resource", lookup_expr="icontains", label="resource")
    source = filters.ModelChoiceFilter(queryset=Source.objects.all(), label="source")
    category = filters.ChoiceFilter(choices=CATEGORY_CHOICES, label="category")
    outcome = filters.ChoiceFilter(choices=[(o, o) for o in OUTCOMES], label="outcome")
    pd = filters.BooleanFilter(
        method="filter_personal_data", label="personal data only", widget=forms.CheckboxInput
    )
    status = filters.ChoiceFilter(
        choices=ATTRIBUTION_STATUSES, method="filter_status", label="attribution"
    )
    evidence = filters.ChoiceFilter(
        field_name="attribution__evidence",
        choices=[(e, e) for e in EVIDENCE_KINDS],
        label="weakest evidence",
    )
    reason = filters.CharFilter(field_name="attribution__reason", label="reason")
    credential = filters.CharFilter(method="filter_credential", label="credential")
    address = filters.CharFilter(field_name="source_address", label="address")
    request_id = filters.CharFilter(method="filter_request", label="request / correlation id")
    chain = filters.CharFilter(field_name="attribution__chain_label", label="chain")

    class Meta:
        model = Event
        fields: list[str] = []

    def filter_origin(self, qs: QuerySet[Event], name: str, value: str) -> QuerySet[Event]:
        value = value.strip()
        if value.isdigit():
            return qs.filter(attribution__origin_id=int(value))
        return qs.filter(attribution__origin_id__in=identity_ids_named(value))

    def filter_status(self, qs: EventQuerySet, name: str, value: str) -> QuerySet[Event]:
        return qs.with_status(value)

    def filter_personal_data(self, qs: QuerySet[Event], name: str, value: bool) -> QuerySet[Event]:
        return qs.filter(personal_data=True) if value else qs

    def filter_credential(self, qs: QuerySet[Event], name: str, value: str) -> QuerySet[Event]:
        value = value.strip()
        return qs.carrying(value, "credential_used", "credential_issued")

    def filter_request(self, qs: QuerySet[Event], name: str, value: str) -> QuerySet[Event]:
        value = value.strip()
        return qs.carrying(value, "request_id", "correlation_id")


def identity_ids_named(value: str) -> list[int]:
    """Identities whose name or one of whose aliases is ``value`` (case-insensitive)."""
    by_name = Identity.objects.filter(name__iexact=value).values_list("pk", flat=True)
    by_alias = IdentityAlias.objects.filter(value__iexact=value).values_list(
        "identity_id", flat=True
    )
    return list({*by_name[:MAX_ORIGIN_MATCHES], *by_alias[:MAX_ORIGIN_MATCHES]})


class IdentityFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="name or alias")
    kind = filters.ChoiceFilter(
        choices=[(Identity.HUMAN, "human"), (Identity.WORKLOAD, "workload")], label="kind"
    )
    shared = filters.BooleanFilter(
        method="filter_shared", label="shared accounts only", widget=forms.CheckboxInput
    )

    class Meta:
        model = Identity
        fields: list[str] = []

    def filter_q(self, qs: QuerySet[Identity], name: str, value: str) -> QuerySet[Identity]:
        value = value.strip()
        ids = IdentityAlias.objects.filter(value__icontains=value).values("identity_id")
        return qs.filter(Q(name__icontains=value) | Q(pk__in=ids))

    def filter_shared(self, qs: QuerySet[Identity], name: str, value: bool) -> QuerySet[Identity]:
        return qs.filter(shared=True) if value else qs


def active_filters(filterset: filters.FilterSet) -> dict[str, Any]:
    """The filters that hold a value, for summaries and the access log."""
    if not filterset.is_bound or not filterset.is_valid():
        return {}
    return {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "", False)}
