"""Ingest pages (admin): upload with live progress, batches, quarantine."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from forensics.core.roles import ADMIN, role_required
from forensics.engine.parsers import UnknownFormat
from forensics.ingest import services
from forensics.ingest.forms import UploadForm
from forensics.ingest.models import IngestBatch, QuarantinedRecord
from forensics.ingest.rawstore import TooLarge
from forensics.ingest.tasks import run_ingest


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def batch_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.accept(
                form.cleaned_data["source"],
                upload,
                filename=upload.name,
                via=IngestBatch.UPLOAD,
                user=request.user,
                requested_format=form.cleaned_data["format"],
            )
        except (UnknownFormat, TooLarge) as exc:
            form.add_error("file", str(exc))
        else:
            transaction.on_commit(lambda: run_ingest.delay(batch.pk))
            messages.info(request, f"{batch.filename} accepted as batch {batch.pk}.")
            return redirect("batch_detail", batch.pk)
    page = Paginator(IngestBatch.objects.select_related("source", "submitted_by"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "ingest/batch_list.html", {"form": form, "page": page})


@role_required(ADMIN)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IngestBatch.objects.select_related("source"), pk=pk)
    if request.htmx:
        response = render(request, "ingest/batch_detail.html#progress", {"batch": batch})
        if batch.finished:
            # The final state replaces the poller; htmx stops asking.
            stop = HttpResponseStopPolling(response.content)
            return stop
        return response
    quarantine = Paginator(batch.quarantine.all(), 100).get_page(request.GET.get("page"))
    return render(request, "ingest/batch_detail.html", {"batch": batch, "quarantine": quarantine})


@role_required(ADMIN)
@require_http_methods(["POST"])
def batch_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IngestBatch, pk=pk)
    if batch.status == IngestBatch.FAILED:
        IngestBatch.objects.filter(pk=pk).update(status=IngestBatch.QUEUED, error="")
        transaction.on_commit(lambda: run_ingest.delay(pk))
        messages.info(request, f"Batch {pk} queued again.")
    return redirect("batch_detail", pk)


@role_required(ADMIN)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    rows = QuarantinedRecord.objects.select_related("batch", "batch__source").filter(
        resolved_at__isnull=True
    )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(request, "ingest/quarantine_list.html", {"page": page})
