"""Case pages. Members (creator + added investigators) and auditors see a case; for anyone
else every case URL answers 404, so a case's existence is not disclosed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from forensics.audit.services import record_access, ref
from forensics.cases import services
from forensics.cases.forms import CaseForm, MemberForm, NoteForm
from forensics.cases.models import Case, CaseEvent, CaseIdentity
from forensics.cases.tables import CaseTable
from forensics.core.roles import AUDITOR, INVESTIGATOR, has_role, role_required
from forensics.identities.models import Identity
from forensics.ingest.models import Event
from forensics.investigate.explore import event_results, filtered, partial_template, vary_on_htmx
from forensics.investigate.filtersets import EventFilterSet

READERS = (INVESTIGATOR, AUDITOR)
TIMELINE_LIMIT = 500


def _get_case_for_user(request: HttpRequest, pk: int) -> Case:
    """The case if the user may read it (member or auditor), else 404."""
    return get_object_or_404(services.visible_cases(request.user), pk=pk)


def _get_case_for_member(request: HttpRequest, pk: int) -> Case:
    """The case if the user may change it (an investigator who is a member), else 404."""
    return get_object_or_404(services.member_cases(request.user), pk=pk)


def _case_events(case: Case) -> Any:
    return Event.objects.filter(pk__in=CaseEvent.objects.filter(case=case).values("event_id"))


@role_required(*READERS)
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases the user may read."""
    rows = (
        services.visible_cases(request.user)
        .select_related("created_by")
        .annotate(
            n_members=Count("members", distinct=True),
            n_events=Count("case_events", distinct=True),
            n_identities=Count("case_identities", distinct=True),
        )
    )
    table = CaseTable(list(rows[:500]))
    record_access(request, refs=[ref("case", c.pk) for c in table.data])
    return render(request, "cases/case_list.html", {"table": table})


@role_required(INVESTIGATOR)
@require_http_methods(["GET", "POST"])
def case_add(request: HttpRequest) -> HttpResponse:
    """Open a new case; it becomes the user's working case."""
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = form.save(commit=False)
        case.created_by = request.user
        case.save()
        services.set_working_case(request, case)
        record_access(request, refs=[ref("case", case.pk)])
        messages.info(request, "Case created. Findings you add from any page now go to it.")
        return redirect(case)
    return render(request, "cases/case_form.html", {"form": form})


@role_required(*READERS)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A case: its identities, the timeline of its events, its notes."""
    case = _get_case_for_user(request, pk)
    events = list(
        _case_events(case)
        .select_related("attribution__origin", "source")
        .order_by("event_time", "pk")[:TIMELINE_LIMIT]
    )
    identities = list(
        Identity.objects.filter(
            pk__in=CaseIdentity.objects.filter(case=case).values("identity_id")
        ).prefetch_related("aliases")
    )
    refs = [
        ref("case", case.pk),
        *(ref("event", e.pk) for e in events),
        *(ref("identity", i.pk) for i in identities),
    ]
    record_access(request, refs=refs, personal_data=any(e.personal_data for e in events))
    context = {
        "case": case,
        "can_edit": _can_edit(request, case),
        "is_working": request.session.get(services.WORKING_CASE) == case.pk,
        "events": events,
        "more_events": len(events) == TIMELINE_LIMIT,
        "identities": identities,
        "members": list(case.members.all()),
        "notes": list(case.notes.select_related("author")),
        "note_form": NoteForm(),
        "member_form": MemberForm(),
    }
    return render(request, "cases/case_detail.html", context)


@role_required(*READERS)
def case_events(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's events as an explorer table."""
    case = _get_case_for_user(request, pk)
    filterset = EventFilterSet(request.GET or None, queryset=_case_events(case))
    results = event_results(request, filtered(filterset))
    record_access(
        request, refs=[ref("case", case.pk), *results.refs()], personal_data=results.personal_data
    )
    context = {"case": case, "filterset": filterset, "results": results, "table": results.table}
    template = partial_template(request, "cases/case_events.html")
    return vary_on_htmx(render(request, template, context))


@role_required(INVESTIGATOR)
@require_POST
def case_add_event(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an event to the case (htmx: answers with the 'in case' button)."""
    case = _get_case_for_member(request, pk)
    event_id = _posted_id(request, "event")
    if event_id is None:
        return HttpResponseBadRequest("event: an event id is required")
    event = get_object_or_404(Event, pk=event_id)
    if not case.is_open:
        return HttpResponse("the case is closed", status=409)
    services.add_event(case, event.pk, request.user)
    record_access(
        request,
        refs=[ref("case", case.pk), ref("event", event.pk)],
        personal_data=event.personal_data,
    )
    return _added(request, case, "in case")


@role_required(INVESTIGATOR)
@require_POST
def case_remove_event(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    """Take an event out of the case."""
    case = _get_case_for_member(request, pk)
    CaseEvent.objects.filter(case=case, event_id=event_pk).delete()
    record_access(request, refs=[ref("case", case.pk), ref("event", event_pk)])
    return redirect(case)


@role_required(INVESTIGATOR)
@require_POST
def case_add_identity(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an identity to the case (htmx: answers with the 'in case' button)."""
    case = _get_case_for_member(request, pk)
    identity_id = _posted_id(request, "identity")
    if identity_id is None:
        return HttpResponseBadRequest("identity: an identity id is required")
    identity = get_object_or_404(Identity, pk=identity_id)
    if not case.is_open:
        return HttpResponse("the case is closed", status=409)
    services.add_identity(case, identity.pk, request.user)
    record_access(request, refs=[ref("case", case.pk), ref("identity", identity.pk)])
    return _added(request, case, "identity in case")


@role_required(*READERS)
@require_http_methods(["GET", "POST"])
def case_notes(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the notes; members add one with POST."""
    if request.method == "POST":
        if not has_role(request.user, INVESTIGATOR):
            raise PermissionDenied
        case = _get_case_for_member(request, pk)
        form = NoteForm(request.POST)
        if form.is_valid():
            note = form.save(commit=False)
            note.case, note.author = case, request.user
            note.save()
            case.save(update_fields=["updated_at"])
            form = NoteForm()
    else:
        case = _get_case_for_user(request, pk)
        form = NoteForm()
    record_access(request, refs=[ref("case", case.pk)])
    if request.method == "POST" and not request.htmx:
        return redirect(case)
    context = {
        "case": case,
        "notes": list(case.notes.select_related("author")),
        "note_form": form,
        "can_edit": _can_edit(request, case),
    }
    template = partial_template(request, "cases/case_notes.html", "notes")
    return vary_on_htmx(render(request, template, context))


@role_required(INVESTIGATOR)
@require_POST
def case_members(request: HttpRequest, pk: int) -> HttpResponse:
    """Let another investigator see and work on the case."""
    case = _get_case_for_member(request, pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        case.members.add(form.cleaned_data["username"])
        messages.info(
            request, f"{form.cleaned_data['username'].get_username()} can now see this case."
        )
    else:
        messages.error(request, " ".join(form.errors.get("username", ["Invalid username."])))
    record_access(request, refs=[ref("case", case.pk)])
    return redirect(case)


@role_required(INVESTIGATOR)
@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Close or reopen the case."""
    case = _get_case_for_member(request, pk)
    status = request.POST.get("status", "")
    if status not in dict(Case.STATUSES):
        return HttpResponseBadRequest("status: must be 'open' or 'closed'")
    case.status = status
    case.save(update_fields=["status", "updated_at"])
    record_access(request, refs=[ref("case", case.pk)])
    return redirect(case)


@role_required(INVESTIGATOR)
@require_POST
def case_work(request: HttpRequest, pk: int) -> HttpResponse:
    """Make this the case that add-to-case buttons fill."""
    case = _get_case_for_member(request, pk)
    if not case.is_open:
        return HttpResponse("the case is closed", status=409)
    services.set_working_case(request, case)
    record_access(request, refs=[ref("case", case.pk)])
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return redirect(target)
    return redirect(case)


@role_required(*READERS)
def case_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The case, its events, identities and notes as a JSON download."""
    case = _get_case_for_user(request, pk)
    events = list(
        _case_events(case)
        .select_related("attribution__origin", "source")
        .order_by("event_time", "pk")
    )
    identities = list(
        Identity.objects.filter(
            pk__in=CaseIdentity.objects.filter(case=case).values("identity_id")
        ).prefetch_related("aliases")
    )
    record_access(
        request,
        refs=[
            ref("case", case.pk),
            *(ref("event", e.pk) for e in events),
            *(ref("identity", i.pk) for i in identities),
        ],
        personal_data=any(e.personal_data for e in events),
    )
    body = json.dumps(_export(request, case, events, identities), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}.json"'
    return response


# --- building blocks of the views above ---------------------------------------------


def _can_edit(request: HttpRequest, case: Case) -> bool:
    return has_role(request.user, INVESTIGATOR) and case.is_member(request.user)


def _posted_id(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _added(request: HttpRequest, case: Case, label: str) -> HttpResponse:
    if request.htmx:
        return render(request, "cases/_added.html", {"label": label, "case": case})
    return redirect(case)


def _export(
    request: HttpRequest, case: Case, events: list[Event], identities: list[Identity]
) -> dict[str, Any]:
    return {
        "case": {
            "id": case.pk,
            "title": case.title,
            "description": case.description,
            "status": case.status,
            "created_by": case.created_by.get_username(),
            "members": [u.get_username() for u in case.members.all()],
            "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
        },
        "exported_by": request.user.get_username(),
        "exported_at": timezone.now().isoformat(),
        "identities": [
            {
                "id": i.pk,
                "name": i.name,
                "kind": i.kind,
                "shared": i.shared,
                "aliases": [f"{a.namespace}:{a.value}" for a in i.aliases.all()],
            }
            for i in identities
        ],
        "events": [
            {
                "id": e.pk,
                "source": e.source.name,
                "source_kind": e.source_kind,
                "source_event_id": e.source_event_id,
                "event_time": e.event_time.isoformat(),
                "action": e.action,
                "outcome": e.outcome,
                "resource": e.resource,
                "principal": e.actor_principal,
                "personal_data": e.personal_data,
                "status": e.status,
                "reason": e.reason,
                "evidence": e.evidence,
                "origin": e.origin.name if e.origin else None,
                "chain": e.chain_label,
                "hops": e.hops,
                "raw_sha256": e.raw_sha256,
            }
            for e in events
        ],
        "notes": [
            {"author": n.author.get_username(), "at": n.at.isoformat(), "text": n.text}
            for n in case.notes.select_related("author")
        ],
    }
