"""POST /api/v1/ingest with a source's bearer token; GET the batch status as JSON."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from forensics.engine.parsers import UnknownFormat, get_parser
from forensics.ingest import services
from forensics.ingest.models import IngestBatch, Source
from forensics.ingest.rawstore import TooLarge
from forensics.ingest.tasks import run_ingest


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="forensics ingest"'
    return response


def _token_source(request: HttpRequest) -> Source | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token_hash = Source.hash_token(token.strip())
    return Source.objects.filter(token_hash=token_hash).first()


@csrf_exempt  # token-authenticated machine endpoint: no cookies, so no CSRF exposure
@require_POST
def ingest(request: HttpRequest) -> JsonResponse:
    source = _token_source(request)
    if source is None:
        return _error(401, "missing or invalid bearer token")
    wanted = request.GET.get("source") or request.headers.get("X-Forensics-Source")
    if wanted and wanted != source.name:
        return _error(403, f"this token cannot write into source '{wanted}'")
    declared = request.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > settings.INGEST_MAX_BYTES:
        return _error(413, f"body larger than {settings.INGEST_MAX_BYTES} bytes")
    fmt = request.GET.get("format", Source.AUTO)
    if fmt != Source.AUTO:
        try:
            get_parser(fmt)
        except UnknownFormat as exc:
            return _error(415, str(exc))
    filename = request.GET.get("filename") or request.headers.get("X-Filename") or "api-upload"
    try:
        batch = services.accept(
            source,
            request,
            filename=filename,
            via=IngestBatch.API,
            token_hint=source.token_hint,
            requested_format=fmt,
        )
    except TooLarge as exc:
        return _error(413, str(exc))
    except UnknownFormat as exc:
        return _error(415, str(exc))
    transaction.on_commit(lambda: run_ingest.delay(batch.pk))
    status_url = request.build_absolute_uri(reverse("api_batch_status", args=[batch.pk]))
    return JsonResponse(
        {"batch": batch.pk, "status": batch.status, "status_url": status_url}, status=202
    )


@require_GET
def batch_status(request: HttpRequest, pk: int) -> JsonResponse:
    source = _token_source(request)
    if source is None:
        return _error(401, "missing or invalid bearer token")
    batch = IngestBatch.objects.filter(pk=pk, source=source).first()
    if batch is None:
        return _error(404, "no such batch for this source")
    return JsonResponse(
        {
            "batch": batch.pk,
            "source": source.name,
            "filename": batch.filename,
            "sha256": batch.sha256,
            "size": batch.size,
            "format": batch.detected_format,
            "status": batch.status,
            "received": batch.received,
            "stored": batch.stored,
            "duplicates": batch.duplicates,
            "quarantined": batch.quarantined,
            "replaced": batch.replaced,
            "error": batch.error or None,
            "created_at": batch.created_at.isoformat(),
            "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        }
    )
