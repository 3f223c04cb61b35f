from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from forensics.audit.models import AccessLogEntry
from forensics.audit.services import record_access
from forensics.cases.models import Case, CaseEvent
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


def test_it_records_who_what_where_and_the_query(investigator):
    request = RequestFactory().get(
        "/events/",
        {"status": ["unattributed", "ambiguous"], "pd": "on", "q": "", "csrfmiddlewaretoken": "t"},
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="x" * 900,
    )
    request.user = investigator
    request.resolver_match = resolve("/events/")
    entry = record_access(request, refs=["event:1", "event:2", "event:1"], personal_data=True)
    entry.refresh_from_db()
    assert entry.username == "ivy" and entry.user == investigator
    assert entry.view == "event_list" and entry.method == "GET"
    assert entry.path.startswith("/events/?status=unattributed&status=ambiguous")
    assert entry.filters == {"status": ["unattributed", "ambiguous"], "pd": "on"}
    assert entry.object_refs == ["event:1", "event:2"]
    assert entry.client_address == "192.0.2.44" and len(entry.user_agent) == 500
    assert entry.personal_data is True


@pytest.fixture
def entries(investigator, auditor):
    now = timezone.now()
    made = [
        AccessLogEntry.objects.create(
            user=investigator,
            username="ivy",
            method="GET",
            path="/events/12/trace/",
            view="event_trace",
            object_refs=["event:12", "identity:3"],
        ),
        AccessLogEntry.objects.create(
            user=investigator,
            username="ivy",
            method="GET",
            path="/events/123/trace/",
            view="event_trace",
            object_refs=["event:123"],
            personal_data=True,
        ),
        AccessLogEntry.objects.create(
            user=auditor,
            username="audrey",
            method="GET",
            path="/cases/4/",
            view="case_detail",
            object_refs=["case:4"],
        ),
    ]
    AccessLogEntry.objects.filter(pk=made[0].pk).update(at=now - timedelta(days=3))
    return made


def _paths(client, **params) -> list[str]:
    html = client.get(reverse("accesslog_list"), params).content.decode()
    results = html[html.index('id="results"') :]
    return [p for p in ("/events/12/trace/", "/events/123/trace/", "/cases/4/") if p in results]


def test_auditors_filter_the_log_by_user_view_object_and_time(client_for, auditor, entries):
    client = client_for(auditor)
    assert _paths(client, user="ivy") == ["/events/12/trace/", "/events/123/trace/"]
    assert _paths(client, view="case_detail") == ["/cases/4/"]
    assert _paths(client, object="event:12") == ["/events/12/trace/"]
    assert _paths(
        client, since=(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    ) == ["/events/123/trace/", "/cases/4/"]
    assert _paths(client, pd="on") == ["/events/123/trace/"]


def test_only_auditors_read_the_log(client_for, investigator, admin_user):
    assert client_for(investigator).get(reverse("accesslog_list")).status_code == 403
    assert client_for(admin_user).get(reverse("accesslog_list")).status_code == 403


def test_no_url_changes_or_removes_entries(client_for, auditor, entries):
    names = []

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.callback.__module__.startswith("forensics.audit"):
                names.append(p.name)

    walk(get_resolver().url_patterns)
    assert names == ["accesslog_list"]
    client = client_for(auditor)
    assert client.post(reverse("accesslog_list"), {"delete": "1"}).status_code == 405
    assert AccessLogEntry.objects.filter(pk__in=[e.pk for e in entries]).count() == 3


@pytest.fixture
def world(investigator):
    alice = f.identity()
    _, _, access = f.saml_chain(alice, request_id="REQ-WATCH")
    case = Case.objects.create(title="c", created_by=investigator)
    CaseEvent.objects.create(case=case, event=access)
    f.event(status="unattributed", reason="anonymous")
    return alice, access, case


VIEWS = [
    ("event_list", lambda w: reverse("event_list")),
    ("event_detail", lambda w: reverse("event_detail", args=[w[1].pk])),
    ("event_trace", lambda w: reverse("event_trace", args=[w[1].pk])),
    ("identity_list", lambda w: reverse("identity_list")),
    ("identity_detail", lambda w: reverse("identity_detail", args=[w[0].pk])),
    ("resource_list", lambda w: reverse("resource_list")),
    ("resource_detail", lambda w: reverse("resource_detail") + "?resource=" + w[1].resource),
    ("search", lambda w: reverse("search") + "?q=REQ-WATCH"),
    ("queue", lambda w: reverse("queue")),
    ("case_list", lambda w: reverse("case_list")),
    ("case_detail", lambda w: reverse("case_detail", args=[w[2].pk])),
    ("case_events", lambda w: reverse("case_events", args=[w[2].pk])),
    ("case_notes", lambda w: reverse("case_notes", args=[w[2].pk])),
    ("case_export", lambda w: reverse("case_export", args=[w[2].pk])),
]


@pytest.mark.parametrize(("view", "url"), VIEWS, ids=[v for v, _ in VIEWS])
def test_every_view_of_data_writes_exactly_one_entry(client_for, investigator, world, view, url):
    client = client_for(investigator)
    client.get(url(world))
    entry = AccessLogEntry.objects.get()
    assert entry.view == view and entry.username == "ivy"
    assert entry.object_refs, "the entry names what was shown"
    client.get(url(world), HTTP_HX_REQUEST="true")
    assert AccessLogEntry.objects.count() == 2
