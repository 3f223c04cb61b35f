from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from forensics.audit.models import AccessLogEntry

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AccessLogFilterSet(filters.FilterSet):
    user = filters.CharFilter(field_name="username", label="user")
    view = filters.CharFilter(field_name="view", label="view")
    since = filters.DateTimeFilter(
        field_name="at", lookup_expr="gte", label="from", widget=DATETIME_WIDGET
    )
    until = filters.DateTimeFilter(
        field_name="at", lookup_expr="lt", label="until", widget=DATETIME_WIDGET
    )
    object = filters.CharFilter(method="filter_object", label="object (e.g. event:12)")
    pd = filters.BooleanFilter(
        method="filter_personal_data", label="personal data only", widget=forms.CheckboxInput
    )

    class Meta:
        model = AccessLogEntry
        fields: list[str] = []

    def filter_object(
        self, qs: QuerySet[AccessLogEntry], name: str, value: str
    ) -> QuerySet[AccessLogEntry]:
        # Refs are JSON strings in a list: matching the quoted item finds "event:12" but not
        # "event:123", on every database (no JSON containment lookup needed).
        quoted = '"' + value.strip().replace('"', "") + '"'
        return qs.annotate(refs_text=Cast("object_refs", TextField())).filter(
            refs_text__contains=quoted
        )

    def filter_personal_data(
        self, qs: QuerySet[AccessLogEntry], name: str, value: bool
    ) -> QuerySet[AccessLogEntry]:
        return qs.filter(personal_data=True) if value else qs
