"""Ingest pages (admin): upload with live progress, batches, quarantine; and the check of
ingested CloudTrail logs against their digest files (auditors and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from forensics.audit.services import record_access
from forensics.core.roles import ADMIN, AUDITOR, role_required
from forensics.engine import trail_digest
from forensics.engine.model import RecordError
from forensics.engine.parsers import UnknownFormat
from forensics.ingest import services, trail
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


@role_required(AUDITOR, ADMIN)
@require_http_methods(["GET", "POST"])
def trail_validate(request: HttpRequest) -> HttpResponse:
    """The store's CloudTrail log files checked against uploaded digest files (read, not
    kept): which were ingested unchanged, which differ, which were never ingested."""
    report: trail_digest.Report | None = None
    errors: list[str] = []
    digests: trail.Digests = []
    signed = False
    if request.method == "POST":
        uploads = request.FILES.getlist("digests")
        if not uploads:
            errors.append("Choose one or more CloudTrail digest files.")
        try:
            keys, given = trail.read_signing(
                *(request.FILES.get(n) for n in ("public_keys", "signatures"))
            )
        except RecordError as exc:
            errors.append(str(exc))
            keys, given, uploads = None, {}, []
        for upload in uploads:
            name = upload.name or "upload"
            try:
                found = trail.digest_of(upload.file)
            except ValueError as exc:
                errors.append(f"{name}: {exc}")
                continue
            if found is None:
                errors.append(f"{name}: not a CloudTrail digest file")
            else:
                digests.append(found)
        if digests:
            report = trail.check_store(digests)
            if keys is not None:
                trail_digest.check_signatures(report, [d for d, _ in digests], keys, given)
                signed = True
        record_access(request)
    failures = [f for f in report.findings if f.status in trail_digest.FAILURES] if report else []
    context = {
        "report": report,
        "errors": errors,
        "digests": len(digests),
        "failures": failures,
        "others": [f for f in report.findings if f.status not in trail_digest.FAILURES]
        if report
        else [],
        "counts": {s: report.count(s) for s in _STATUSES} if report else {},
        "signed": signed,
    }
    return render(
        request, "ingest/trail_validate.html", context, status=400 if errors and not report else 200
    )


_STATUSES = (
    trail_digest.VALID,
    trail_digest.MODIFIED,
    trail_digest.MISSING,
    trail_digest.UNCHECKED,
    trail_digest.CHAIN_OK,
    trail_digest.BROKEN,
    trail_digest.CHAIN_START,
    trail_digest.SIGNED,
    trail_digest.BAD_SIGNATURE,
    trail_digest.UNSIGNED,
    trail_digest.NO_KEY,
)
