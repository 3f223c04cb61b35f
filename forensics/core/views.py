from __future__ import annotations

from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from forensics.ingest.models import Event, IngestBatch, Source


def home(request: HttpRequest) -> HttpResponse:
    by_status = dict(Event.objects.values_list("status").annotate(n=Count("id")))
    total = sum(by_status.values())
    sources = Source.objects.annotate(last_ingest=Max("batches__finished_at")).order_by("name")
    context = {
        "total": total,
        "by_status": by_status,
        "personal": Event.objects.filter(personal_data=True).count(),
        "sources": sources,
        "recent_batches": IngestBatch.objects.select_related("source")[:5],
    }
    return render(request, "core/home.html", context)
