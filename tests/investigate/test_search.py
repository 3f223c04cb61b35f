from __future__ import annotations

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
URL = reverse("search")


@pytest.fixture
def reader(client_for, auditor):
    return client_for(auditor)


def _go(reader, q: str):
    return reader.get(URL, {"q": q})


def test_an_access_key_lands_on_the_events_that_issued_and_used_it(reader):
    f.event(credential_used="ASIAQEXAMPLE0000KEY1")
    response = _go(reader, "ASIAQEXAMPLE0000KEY1")
    assert response.status_code == 302
    assert response["Location"] == "/events/?credential=ASIAQEXAMPLE0000KEY1"


def test_an_email_alias_lands_on_the_identity_timeline(reader):
    alice = f.identity("Alice Example", aliases=(("email", "alice@corp.example"),))
    response = _go(reader, "ALICE@corp.example")
    assert response["Location"] == f"/identities/{alice.pk}/"


def test_our_event_id_and_the_producers_land_on_the_trace(reader):
    event = f.event(source_event_id="7f1a2b3c-0000-4000-8000-00000000abcd")
    assert _go(reader, str(event.pk))["Location"] == f"/events/{event.pk}/trace/"
    assert _go(reader, event.source_event_id)["Location"] == f"/events/{event.pk}/trace/"


def test_a_request_id_of_one_event_lands_on_its_trace(reader):
    event = f.event(request_id="8A2E1C3D4B5F6E7A")
    assert _go(reader, "8A2E1C3D4B5F6E7A")["Location"] == f"/events/{event.pk}/trace/"


def test_a_principal_lands_on_its_events(reader):
    f.event(actor_principal="arn:aws:sts::111122223333:assumed-role/DataReader/alice")
    response = _go(reader, "arn:aws:sts::111122223333:assumed-role/DataReader/alice")
    assert response["Location"].startswith("/events/?principal=arn%3Aaws%3Asts")


def test_an_address_and_a_resource_are_found(reader):
    f.event(source_address="2001:db8::7", resource="gs://example-customer-pii/export.csv")
    assert _go(reader, "2001:db8::7")["Location"] == "/events/?address=2001%3Adb8%3A%3A7"
    location = _go(reader, "gs://example-customer-pii/export.csv")["Location"]
    assert location == "/resources/detail/?resource=gs%3A%2F%2Fexample-customer-pii%2Fexport.csv"


def test_several_targets_give_a_results_page_grouped_by_kind(reader):
    arn = "arn:aws:iam::111122223333:user/alice"
    alice = f.identity("alice", aliases=(("aws_iam_user", arn),))
    f.event(actor_principal=arn)
    response = _go(reader, arn)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("<h2>Identities</h2>") < html.index("<h2>Principals</h2>")
    assert f'href="/identities/{alice.pk}/"' in html


def test_partial_matches_are_listed_not_followed(reader):
    f.identity("alice@corp.example")
    response = _go(reader, "alice")
    assert response.status_code == 200
    assert b"partial match" in response.content


def test_nothing_found_says_so(reader):
    response = _go(reader, "no-such-thing")
    assert (
        response.status_code == 200 and "Nothing in the store matches" in response.content.decode()
    )


def test_a_search_is_logged_with_what_it_found(reader):
    event = f.event(request_id="REQ-LOGGED")
    _go(reader, "REQ-LOGGED")
    entry = AccessLogEntry.objects.get()
    assert entry.view == "search" and entry.filters == {"q": "REQ-LOGGED"}
    assert entry.object_refs == [f"event:{event.pk}"]
