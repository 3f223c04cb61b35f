from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from forensics.audit.models import AccessLogEntry
from forensics.cases.models import Case, CaseEvent, CaseIdentity, CaseNote
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(investigator):
    return Case.objects.create(title="Payroll exfiltration", created_by=investigator)


@pytest.fixture
def stranger(make_user):
    return make_user("stan", "investigator")


def _case_url_names() -> list[str]:
    """Every named URL of the cases app that addresses one case."""
    names: list[str] = []

    def walk(patterns: list) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif (
                isinstance(p, URLPattern)
                and p.name
                and p.callback.__module__ == "forensics.cases.views"
                and "pk" in p.pattern.regex.groupindex
            ):
                names.append(p.name)

    walk(get_resolver().url_patterns)
    return sorted(names)


def _request(client, name: str, case: Case, event_pk: int, identity_pk: int):
    kwargs = {"pk": case.pk}
    if name == "case_remove_event":
        kwargs["event_pk"] = event_pk
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    if response.status_code == 405:
        data = {
            "event": event_pk,
            "status": "closed",
            "text": "n",
            "username": "ivy",
            "identity": identity_pk,
        }
        response = client.post(url, data)
    return response


def test_the_case_urls_are_all_covered():
    assert _case_url_names() == sorted(
        [
            "case_add_event",
            "case_add_identity",
            "case_detail",
            "case_events",
            "case_export",
            "case_members",
            "case_notes",
            "case_remove_event",
            "case_status",
            "case_work",
        ]
    )


@pytest.mark.parametrize("name", _case_url_names())
def test_an_investigator_who_is_not_a_member_gets_404_for_every_case_url(
    name, client, case, investigator, stranger
):
    event, alice = f.event(), f.identity()
    CaseEvent.objects.create(case=case, event=event, added_by=investigator)
    CaseNote.objects.create(case=case, author=investigator, text="secret finding")
    client.force_login(stranger)
    response = _request(client, name, case, event.pk, alice.pk)
    assert response.status_code == 404
    assert b"secret finding" not in response.content
    # The same request by the creator is served.
    client.force_login(investigator)
    assert _request(client, name, case, event.pk, alice.pk).status_code in (200, 302)


def test_the_case_list_hides_other_investigators_cases(client_for, case, stranger):
    html = client_for(stranger).get(reverse("case_list")).content
    assert b"Payroll exfiltration" not in html


def test_an_added_member_sees_the_case(client_for, case, investigator, stranger):
    client = client_for(investigator)
    client.post(reverse("case_members", args=[case.pk]), {"username": "stan"})
    assert case.members.filter(pk=stranger.pk).exists()
    client.force_login(stranger)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200


def test_only_investigators_can_be_added_as_members(client_for, case, investigator, auditor):
    client_for(investigator).post(reverse("case_members", args=[case.pk]), {"username": "audrey"})
    assert not case.members.exists()


def test_an_investigator_creates_a_case_and_works_on_it(client_for, investigator):
    client = client_for(investigator)
    response = client.post(
        reverse("case_add"), {"title": "Okta session hijack", "description": "x"}
    )
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.created_by == investigator and case.status == Case.OPEN
    event = f.event()
    html = client.get(reverse("event_list")).content.decode()
    assert f'hx-post="/cases/{case.pk}/events/add/" hx-vals=\'{{"event": "{event.pk}"}}\'' in html


def test_adding_an_event_over_htmx_answers_with_an_in_case_button(client_for, case, investigator):
    client = client_for(investigator)
    client.post(reverse("case_work", args=[case.pk]))
    event = f.event()
    response = client.post(
        reverse("case_add_event", args=[case.pk]), {"event": event.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert (
        response.content.decode().strip()
        == '<button class="small in-case" disabled>in case</button>'
    )
    assert CaseEvent.objects.filter(case=case, event=event, added_by=investigator).exists()
    table = client.get(reverse("event_list")).content.decode()
    assert "in case</button>" in table and "add to case" not in table


def test_adding_twice_keeps_one_link(client_for, case):
    client = client_for(case.created_by)
    event = f.event()
    for _ in range(2):
        client.post(reverse("case_add_event", args=[case.pk]), {"event": event.pk})
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_identities_are_added_from_the_trace(client_for, case, investigator):
    client = client_for(investigator)
    client.post(reverse("case_work", args=[case.pk]))
    alice = f.identity()
    _, _, access = f.saml_chain(alice)
    trace = client.get(reverse("event_trace", args=[access.pk])).content.decode()
    assert f'hx-post="/cases/{case.pk}/identities/add/"' in trace
    client.post(
        reverse("case_add_identity", args=[case.pk]), {"identity": alice.pk}, HTTP_HX_REQUEST="true"
    )
    assert CaseIdentity.objects.filter(case=case, identity=alice).exists()
    assert (
        "identity in case" in client.get(reverse("event_trace", args=[access.pk])).content.decode()
    )


def test_a_closed_case_takes_no_more_findings(client_for, case):
    client = client_for(case.created_by)
    client.post(reverse("case_work", args=[case.pk]))
    client.post(reverse("case_status", args=[case.pk]), {"status": "closed"})
    response = client.post(reverse("case_add_event", args=[case.pk]), {"event": f.event().pk})
    assert response.status_code == 409
    assert "add to case" not in client.get(reverse("event_list")).content.decode()


def test_a_bad_event_id_is_rejected(client_for, case):
    client = client_for(case.created_by)
    assert client.post(reverse("case_add_event", args=[case.pk]), {"event": "x"}).status_code == 400
    assert (
        client.post(reverse("case_add_event", args=[case.pk]), {"event": 99999}).status_code == 404
    )


def test_notes_are_added_over_htmx(client_for, case, investigator):
    client = client_for(investigator)
    response = client.post(
        reverse("case_notes", args=[case.pk]),
        {"text": "Key ASIA… was used from 203.0.113.50"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="notes"')
    assert "Key ASIA… was used from 203.0.113.50" in html and "ivy" in html
    assert CaseNote.objects.get().author == investigator


def test_auditors_read_every_case_but_change_nothing(client_for, case, auditor):
    event = f.event()
    CaseEvent.objects.create(case=case, event=event)
    client = client_for(auditor)
    html = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert f'href="/events/{event.pk}/trace/"' in html
    assert "Add note" not in html and "Close case" not in html
    assert client.post(reverse("case_notes", args=[case.pk]), {"text": "x"}).status_code == 403
    assert (
        client.post(reverse("case_add_event", args=[case.pk]), {"event": event.pk}).status_code
        == 403
    )
    assert client.post(reverse("case_add"), {"title": "t"}).status_code == 403
    assert not CaseNote.objects.exists()


def test_the_case_timeline_runs_in_event_time_order(client_for, case):
    from datetime import timedelta

    late = f.event(event_time=f.T0 + timedelta(days=1))
    early = f.event(event_time=f.T0)
    for e in (late, early):
        CaseEvent.objects.create(case=case, event=e)
    html = client_for(case.created_by).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert html.index(f"/events/{early.pk}/trace/") < html.index(f"/events/{late.pk}/trace/")


def test_the_export_holds_the_case_its_events_identities_and_notes(client_for, case, investigator):
    alice = f.identity()
    _, _, access = f.saml_chain(alice)
    CaseEvent.objects.create(case=case, event=access)
    CaseIdentity.objects.create(case=case, identity=alice)
    CaseNote.objects.create(case=case, author=investigator, text="confirmed with HR")
    response = client_for(investigator).get(reverse("case_export", args=[case.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="case-{case.pk}.json"'
    data = json.loads(response.content)
    assert data["case"]["title"] == "Payroll exfiltration"
    assert [e["id"] for e in data["events"]] == [access.pk]
    assert data["events"][0]["origin"] == alice.name and len(data["events"][0]["hops"]) == 2
    assert data["identities"][0]["aliases"] == ["email:alice@corp.example"]
    assert data["notes"][0]["text"] == "confirmed with HR"


def test_viewing_a_case_writes_one_log_entry_naming_it_and_its_contents(
    client_for, case, investigator
):
    alice = f.identity()
    event = f.event(personal_data=True)
    CaseEvent.objects.create(case=case, event=event)
    CaseIdentity.objects.create(case=case, identity=alice)
    client_for(investigator).get(reverse("case_detail", args=[case.pk]))
    entry = AccessLogEntry.objects.get()
    assert entry.user == investigator and entry.view == "case_detail"
    assert entry.object_refs == [f"case:{case.pk}", f"event:{event.pk}", f"identity:{alice.pk}"]
    assert entry.personal_data is True
