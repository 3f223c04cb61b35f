"""Every URL of the site, checked on the server for every role against one explicit matrix.

A URL that is not in MATRIX fails the test: adding a page means deciding who may see it.
Skipped: the Django admin (its own staff checks), static files, login/logout and the
token-authenticated /api/ endpoints, which have their own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from forensics.cases.models import Case
from forensics.evidence import services
from tests.investigate import factories as f

INV, AUD, ADM = "investigator", "auditor", "admin"
ALL = frozenset({INV, AUD, ADM})
READERS = frozenset({INV, AUD})
SKIPPED_NAMES = {"login", "logout"}
SKIPPED_PREFIXES = ("admin/", "api/", settings.STATIC_URL.lstrip("/"))


@dataclass(frozen=True)
class Objects:
    event: Any
    identity: Any
    case: Any
    batch: Any
    pack: Any


Build = Callable[[Objects], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    roles: frozenset[str]
    method: str = "GET"
    kwargs: Build = field(default=lambda o: {})
    query: Build = field(default=lambda o: {})  # GET parameters or POST data


def _pk(attr: str) -> Build:
    return lambda o: {"pk": getattr(o, attr).pk}


MATRIX: dict[str, Entry] = {
    "home": Entry(ALL),
    # ingest (admin)
    "batch_list": Entry(frozenset({ADM})),
    "batch_detail": Entry(frozenset({ADM}), kwargs=_pk("batch")),
    "batch_retry": Entry(frozenset({ADM}), "POST", kwargs=_pk("batch")),
    "quarantine_list": Entry(frozenset({ADM})),
    "trail_validate": Entry(frozenset({AUD, ADM})),
    # investigation (read-only for auditors)
    "event_list": Entry(READERS),
    "event_detail": Entry(READERS, kwargs=_pk("event")),
    "event_trace": Entry(READERS, kwargs=_pk("event")),
    "identity_list": Entry(READERS),
    "identity_detail": Entry(READERS, kwargs=_pk("identity")),
    "resource_list": Entry(READERS),
    "resource_detail": Entry(READERS, query=lambda o: {"resource": o.event.resource}),
    "search": Entry(READERS, query=lambda o: {"q": "no-such-thing"}),
    "queue": Entry(frozenset({INV, ADM})),
    # cases: auditors read, investigators who are members write
    "case_list": Entry(READERS),
    "case_add": Entry(frozenset({INV})),
    "case_detail": Entry(READERS, kwargs=_pk("case")),
    "case_events": Entry(READERS, kwargs=_pk("case")),
    "case_notes": Entry(READERS, kwargs=_pk("case")),
    "case_export": Entry(READERS, kwargs=_pk("case")),
    "case_add_event": Entry(
        frozenset({INV}), "POST", kwargs=_pk("case"), query=lambda o: {"event": o.event.pk}
    ),
    "case_remove_event": Entry(
        frozenset({INV}), "POST", kwargs=lambda o: {"pk": o.case.pk, "event_pk": o.event.pk}
    ),
    "case_add_identity": Entry(
        frozenset({INV}), "POST", kwargs=_pk("case"), query=lambda o: {"identity": o.identity.pk}
    ),
    "case_members": Entry(
        frozenset({INV}),
        "POST",
        kwargs=_pk("case"),
        query=lambda o: {"username": "matrix-investigator"},
    ),
    "case_status": Entry(
        frozenset({INV}), "POST", kwargs=_pk("case"), query=lambda o: {"status": "open"}
    ),
    "case_work": Entry(frozenset({INV}), "POST", kwargs=_pk("case")),
    # the access log (auditors)
    "accesslog_list": Entry(frozenset({AUD})),
    # evidence packs: readers ask for packs of what they may read; the pack here was asked
    # for by the matrix investigator, and auditors see every pack
    "pack_list": Entry(READERS),
    "pack_create": Entry(READERS, "POST", query=lambda o: {"kind": "trace", "event": o.event.pk}),
    "pack_detail": Entry(READERS, kwargs=_pk("pack")),
    "pack_download": Entry(READERS, kwargs=_pk("pack")),
    "pack_verify": Entry(READERS),
}


def site_url_names() -> set[str]:
    """Names of every URL in the URLconf outside the skipped areas."""
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                assert p.name, f"URL {route!r} has no name"
                if p.name not in SKIPPED_NAMES:
                    names.add(p.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_has_exactly_one_matrix_entry():
    names = site_url_names()
    assert sorted(names - MATRIX.keys()) == [], "URLs without a matrix entry"
    assert sorted(MATRIX.keys() - names) == [], "matrix entries without a URL"


@pytest.fixture
def users(db) -> dict[str, User]:
    # Users without passwords: force_login needs none, and hashing would slow every case.
    made = {}
    for role in (INV, AUD, ADM):
        user = User.objects.create(username=f"matrix-{role}")
        user.groups.add(Group.objects.get(name=role))
        made[role] = user
    made["superuser"] = User.objects.create(username="matrix-root", is_superuser=True)
    return made


@pytest.fixture
def objects(users) -> Objects:
    alice = f.identity()
    _, _, access = f.saml_chain(alice)
    case = Case.objects.create(title="matrix case", created_by=users[INV])
    case.members.add(users["superuser"])
    pack = services.request_pack(users[INV], "trace", {"event": access.pk}, queue=False)
    services.claim(pack.pk)
    services.build(pack.pk)
    return Objects(event=access, identity=alice, case=case, batch=access.batch, pack=pack)


def _call(client: Any, entry: Entry, objects: Objects, name: str) -> Any:
    url = reverse(name, kwargs=entry.kwargs(objects))
    data = entry.query(objects)
    return client.post(url, data) if entry.method == "POST" else client.get(url, data)


def _served(response: Any) -> bool:
    if response.status_code == 302:
        return not response["Location"].startswith(reverse(settings.LOGIN_URL))
    return response.status_code == 200


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_url_obeys_the_role_matrix(name, client, users, objects):
    entry = MATRIX[name]
    anonymous = _call(client, entry, objects, name)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse(settings.LOGIN_URL))
    for role in (INV, AUD, ADM, "superuser"):
        client.force_login(users[role])
        response = _call(client, entry, objects, name)
        if role == "superuser" or role in entry.roles:
            assert _served(response), f"{role} should be served {name}, got {response.status_code}"
        else:
            assert response.status_code == 403, f"{role} should get 403 for {name}"
        client.logout()
