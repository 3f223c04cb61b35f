"""Who sees which case, the case a user is working on, and adding findings to it."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from forensics.cases.models import Case, CaseEvent, CaseIdentity
from forensics.core.roles import AUDITOR, INVESTIGATOR, has_role

WORKING_CASE = "working_case"


def member_cases(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Case]:
    """Cases the user created or was added to."""
    if not user.is_authenticated:
        return Case.objects.none()
    return Case.objects.filter(Q(created_by=user) | Q(members=user)).distinct()


def visible_cases(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Case]:
    """Auditors read every case; investigators only the cases they are members of."""
    if has_role(user, AUDITOR):
        return Case.objects.all()
    return member_cases(user)


def working_case(request: HttpRequest) -> Case | None:
    """The open case the user chose to collect findings in, if they may still add to it."""
    pk = request.session.get(WORKING_CASE)
    if not pk or not has_role(request.user, INVESTIGATOR):
        return None
    case = member_cases(request.user).filter(pk=pk, status=Case.OPEN).first()
    if case is None:
        request.session.pop(WORKING_CASE, None)
    return case


def set_working_case(request: HttpRequest, case: Case) -> None:
    request.session[WORKING_CASE] = case.pk


def events_in_case(case: Case | None, event_ids: Iterable[int]) -> set[int]:
    """Which of ``event_ids`` the case already holds (one query for a whole page)."""
    ids = list(event_ids)
    if case is None or not ids:
        return set()
    return set(
        CaseEvent.objects.filter(case=case, event_id__in=ids).values_list("event_id", flat=True)
    )


def identities_in_case(case: Case | None, identity_ids: Iterable[int]) -> set[int]:
    ids = list(identity_ids)
    if case is None or not ids:
        return set()
    return set(
        CaseIdentity.objects.filter(case=case, identity_id__in=ids).values_list(
            "identity_id", flat=True
        )
    )


def add_event(case: Case, event_id: int, user: AbstractBaseUser) -> bool:
    """Add an event to the case; False when it was already there."""
    _, created = CaseEvent.objects.get_or_create(
        case=case, event_id=event_id, defaults={"added_by": user}
    )
    if created:
        case.save(update_fields=["updated_at"])
    return created


def add_identity(case: Case, identity_id: int, user: AbstractBaseUser) -> bool:
    _, created = CaseIdentity.objects.get_or_create(
        case=case, identity_id=identity_id, defaults={"added_by": user}
    )
    if created:
        case.save(update_fields=["updated_at"])
    return created
