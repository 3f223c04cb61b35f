"""Evidence-pack pages: ask for a pack, watch it build, download it, verify one.

Investigators and auditors may ask for a pack of what they may read; a pack is visible to
the user who asked for it and to every auditor. Downloads are access-logged, since a pack
holds events and their raw records."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from forensics.audit.services import record_access, ref
from forensics.cases import services as cases
from forensics.core.roles import AUDITOR, INVESTIGATOR, role_required
from forensics.evidence import keys, services
from forensics.evidence.models import EvidencePack
from forensics.evidence.tables import PackTable
from forensics.evidence.verify import Unreadable, verify_pack
from forensics.identities.models import Identity
from forensics.ingest.models import Event
from forensics.investigate.explore import partial_template, vary_on_htmx

READERS = (INVESTIGATOR, AUDITOR)


@role_required(*READERS)
@require_POST
def pack_create(request: HttpRequest) -> HttpResponse:
    """Queue a pack of a case, a trace, a timeline or a query the user may read."""
    kind = request.POST.get("kind", "")
    scope, scope_refs = _scope(request, kind)
    try:
        pack = services.request_pack(request.user, kind, scope)  # type: ignore[arg-type]
    except services.ScopeError as exc:
        messages.error(request, f"No evidence pack: {exc}.")
        return redirect(_back(request))
    record_access(request, refs=[ref("evidence_pack", pack.pk), *scope_refs])
    return redirect(pack)


@role_required(*READERS)
@require_safe
def pack_list(request: HttpRequest) -> HttpResponse:
    """The packs the user asked for (auditors: every pack)."""
    packs = list(services.visible_packs(request.user)[:500])  # type: ignore[arg-type]
    record_access(request, refs=[ref("evidence_pack", p.pk) for p in packs])
    context = {"table": PackTable(packs), "fingerprint": keys.existing_fingerprint()}
    return render(request, "evidence/pack_list.html", context)


@role_required(*READERS)
@require_safe
def pack_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pack: its status while it builds (polled), then its hashes and the download."""
    pack = get_object_or_404(services.visible_packs(request.user), pk=pk)  # type: ignore[arg-type]
    if not request.htmx:
        record_access(request, refs=[ref("evidence_pack", pack.pk)])
    context = {"pack": pack, "fingerprint": keys.existing_fingerprint()}
    template = partial_template(request, "evidence/pack_detail.html", "status")
    return vary_on_htmx(render(request, template, context))


@role_required(*READERS)
@require_safe
def pack_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack's .zip file, logged as an access to everything it holds."""
    pack = get_object_or_404(services.visible_packs(request.user), pk=pk)  # type: ignore[arg-type]
    if pack.status != EvidencePack.READY:
        raise Http404("The pack is not ready.")
    path = services.pack_path(pack)
    if not path.exists():
        return HttpResponse("the pack's file is no longer on the server", status=410)
    record_access(
        request,
        refs=[ref("evidence_pack", pack.pk), *_refs_of(pack.kind, pack.scope)],
        personal_data=pack.personal_data_events > 0,
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=pack.filename)


@role_required(*READERS)
@require_http_methods(["GET", "POST"])
def pack_verify(request: HttpRequest) -> HttpResponse:
    """Check an uploaded pack with the same verifier the pack carries, trusting the keys
    that signed this dashboard's packs."""
    trusted = services.signing_keys()
    report = None
    error = ""
    upload = request.FILES.get("pack") if request.method == "POST" else None
    if request.method == "POST":
        limit = settings.EVIDENCE_MAX_UPLOAD_MB << 20
        if upload is None:
            error = "Choose a pack (.zip) to verify."
        elif upload.size is not None and upload.size > limit:
            error = f"The file is larger than {settings.EVIDENCE_MAX_UPLOAD_MB} MB."
        else:
            try:
                report = verify_pack(upload.file, trusted or None)
                report.path = upload.name or "pack"
            except Unreadable as exc:
                error = f"{upload.name}: {exc}"
        pack_id = report.manifest.get("pack_id") if report else None
        record_access(request, refs=[ref("evidence_pack_id", pack_id)] if pack_id else [])
    context = {
        "report": report,
        "error": error,
        "trusted": trusted,
        "public_pem": keys.public_key_pem() if keys.existing_fingerprint() else "",
    }
    return render(request, "evidence/pack_verify.html", context, status=400 if error else 200)


# --- building blocks --------------------------------------------------------------------


def _scope(request: HttpRequest, kind: str) -> tuple[dict[str, Any], list[str]]:
    """The pack's scope from the form, once the user's right to read it is checked (404)."""
    post = request.POST
    if kind == EvidencePack.CASE:
        case = get_object_or_404(cases.visible_cases(request.user), pk=_int(post.get("case")))
        return {"case": case.pk}, [ref("case", case.pk)]
    if kind == EvidencePack.TRACE:
        event = get_object_or_404(
            Event.objects.select_related(None).only("pk"), pk=_int(post.get("event"))
        )
        return {"event": event.pk}, [ref("event", event.pk)]
    filters = services.filters_from(QueryDict(post.get("query", "")))
    if kind == EvidencePack.TIMELINE:
        identity = get_object_or_404(Identity, pk=_int(post.get("identity")))
        return {"identity": identity.pk, "filters": filters}, [ref("identity", identity.pk)]
    if kind == EvidencePack.QUERY:
        return {"filters": filters}, []
    raise Http404("unknown kind of pack")


def _back(request: HttpRequest) -> str:
    """The page the form was on, if it is one of ours; else the pack list."""
    target = request.POST.get("back", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("pack_list")


def _refs_of(kind: str, scope: dict[str, Any]) -> list[str]:
    names = {"case": "case", "event": "event", "identity": "identity"}
    return [ref(names[k], v) for k, v in scope.items() if k in names]


def _int(value: str | None) -> int:
    text = (value or "").strip()
    if not text.isdigit():
        raise Http404("no such object")
    return int(text)
