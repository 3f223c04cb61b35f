from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from forensics.ingest.models import Event
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
URL = reverse("event_list")


def _trace_links(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/events/(\d+)/trace/"', html)}


@pytest.fixture
def reader(client_for, investigator):
    return client_for(investigator)


def test_it_lists_events_newest_first_with_a_trace_link_per_row(reader):
    old = f.event(event_time=f.T0)
    new = f.event(event_time=f.T0 + timedelta(hours=1))
    html = reader.get(URL).content.decode()
    assert _trace_links(html) == {old.pk, new.pk}
    assert html.index(f"/events/{new.pk}/trace/") < html.index(f"/events/{old.pk}/trace/")


def test_the_filter_form_offers_every_filter_and_keeps_its_values(reader):
    html = reader.get(URL, {"principal": "arn:aws:iam::111122223333:user/bob"}).content.decode()
    form = html[
        html.index('<form id="event-filters"') : html.index("</form>", html.index("event-filters"))
    ]
    for name in (
        "since",
        "until",
        "origin",
        "principal",
        "action",
        "resource",
        "source",
        "category",
        "outcome",
        "pd",
        "status",
        "evidence",
        "credential",
        "address",
    ):
        assert f'name="{name}"' in form, name
    assert 'value="arn:aws:iam::111122223333:user/bob"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#results"' in form


def test_it_filters_by_principal_and_personal_data(reader):
    hit = f.event(actor_principal="arn:aws:iam::111122223333:user/bob", personal_data=True)
    f.event(actor_principal="arn:aws:iam::111122223333:user/bob", personal_data=False)
    f.event(actor_principal="arn:aws:iam::111122223333:user/carol", personal_data=True)
    html = reader.get(URL, {"principal": "arn:aws:iam::111122223333:user/bob", "pd": "on"}).content
    assert _trace_links(html.decode()) == {hit.pk}


def test_it_filters_by_origin_name_status_evidence_and_time(reader):
    alice = f.identity("alice@corp.example")
    hit = f.event(origin=alice, status="attributed", evidence="inferred", event_time=f.T0)
    f.event(origin=alice, status="attributed", evidence="exact", event_time=f.T0)
    f.event(
        origin=alice, status="attributed", evidence="inferred", event_time=f.T0 - timedelta(days=2)
    )
    f.event(status="unattributed", evidence="inferred", event_time=f.T0)
    params = {
        "origin": "ALICE@corp.example",
        "status": "attributed",
        "evidence": "inferred",
        "since": "2026-03-01T00:00",
    }
    assert _trace_links(reader.get(URL, params).content.decode()) == {hit.pk}


def test_it_finds_both_the_issuing_and_the_using_events_of_a_credential(reader):
    issuing = f.event(category="credential_issue", credential_used="", credential_issued="ASIAKEY")
    using = f.event(credential_used="ASIAKEY")
    f.event(credential_used="ASIAOTHER")
    assert _trace_links(reader.get(URL, {"credential": "ASIAKEY"}).content.decode()) == {
        issuing.pk,
        using.pk,
    }


def test_an_invalid_filter_shows_nothing_rather_than_everything(reader):
    f.event()
    response = reader.get(URL, {"status": "no-such-status"})
    assert _trace_links(response.content.decode()) == set()
    assert b"a filter value is invalid" in response.content


def test_an_htmx_request_gets_only_the_results_fragment(reader):
    event = f.event()
    response = reader.get(URL, {"pd": "on"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and 'id="event-filters"' not in html
    assert _trace_links(html) == {event.pk}
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_full_page(reader):
    f.event()
    response = reader.get(URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in response.content


def test_pager_links_keep_the_filters_and_push_the_url(reader):
    b = f.batch()
    for _ in range(29):
        f.event(batch=b, actor_principal="p1")
    f.event(batch=b, actor_principal="p2")
    html = reader.get(URL, {"principal": "p1", "per_page": "25"}).content.decode()
    link = re.search(r'<a href="([^"]+)" hx-get="([^"]+)"[^>]*hx-push-url="true" rel="next"', html)
    assert link is not None and link.group(1) == link.group(2)
    href = link.group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(href).query)
    assert query["principal"] == ["p1"] and query["per_page"] == ["25"] and "after" in query
    second = reader.get(href).content.decode()
    first_ids, second_ids = _trace_links(html), _trace_links(second)
    assert len(first_ids) == 25 and len(second_ids) == 4
    assert not first_ids & second_ids
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_sort_links_flip_the_direction_and_drop_the_cursor(reader):
    f.event(actor_principal="b")
    f.event(actor_principal="a")
    html = reader.get(URL, {"sort": "principal", "after": "x"}).content.decode()
    link = re.search(r'<a class="sort asc" href="([^"]+)"', html)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query == {"sort": ["-principal"]}


def test_it_sorts_by_principal(reader):
    b_event = f.event(actor_principal="b-principal")
    a_event = f.event(actor_principal="a-principal")
    html = reader.get(URL, {"sort": "principal"}).content.decode()
    assert html.index(f"/events/{a_event.pk}/trace/") < html.index(f"/events/{b_event.pk}/trace/")


def test_it_shows_the_chosen_columns_only(reader):
    f.event(user_agent="Boto3/1.34.0 md/Botocore#1.34.0", chain_label="alice → sso → Admin")
    html = reader.get(URL, {"columns": ["time", "user_agent"]}).content.decode()
    assert "Boto3/1.34.0" in html
    assert 'class="col-user_agent"' in html and 'class="col-chain"' not in html
    default = reader.get(URL).content.decode()
    assert 'class="col-user_agent"' not in default and 'class="col-principal"' in default


def test_the_count_is_bounded_not_exact_past_the_bound(reader, settings, monkeypatch):
    from forensics.investigate import paging

    monkeypatch.setattr(paging, "COUNT_BOUND", 2)
    b = f.batch()
    for _ in range(3):
        f.event(batch=b)
    assert b"more than 2" in reader.get(URL).content


def test_viewing_the_explorer_logs_the_user_the_filters_and_the_events_shown(reader, investigator):
    shown = f.event(personal_data=True)
    reader.get(
        URL,
        {"pd": "on", "action": "GetObject"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mozilla/5.0 test",
    )
    entry = AccessLogEntry.objects.get()
    assert entry.user == investigator and entry.username == "ivy"
    assert entry.view == "event_list" and entry.method == "GET"
    assert entry.filters == {"pd": "on", "action": "GetObject"}
    assert entry.object_refs == [f"event:{shown.pk}"]
    assert entry.personal_data is True
    assert entry.client_address == "203.0.113.9" and entry.user_agent == "Mozilla/5.0 test"


@pytest.mark.parametrize("sort", ["-time", "time", "status", "-status"])
def test_pages_of_attributed_events_follow_the_same_order_as_any_other(reader, sort):
    # Filtered on its attribution, a listing is read in the attribution's order (its time
    # and event id, the same values); page after page and back, it is the events' order.
    alice, bob = f.identity("alice@corp.example"), f.identity("bob@corp.example")
    b = f.batch()
    for n in range(30):
        # Two at a time share a timestamp, so the event id has to break the tie.
        when = f.T0 + timedelta(days=3, minutes=n // 2)
        f.event(batch=b, origin=alice, status="attributed", event_time=when)
    f.event(batch=b, origin=bob, status="attributed")
    f.event(batch=b)  # never correlated
    mine = sorted(
        Event.objects.filter(attribution__origin=alice), key=lambda e: (e.event_time, e.pk)
    )
    expected = [e.pk for e in (mine[::-1] if sort.startswith("-") else mine)]
    params = {"origin": str(alice.pk), "sort": sort, "per_page": "25"}
    first = reader.get(URL, params).content.decode()
    forward = re.search(r'<a href="([^"]+)"[^>]*rel="next"', first)
    assert forward is not None
    second = reader.get(forward.group(1).replace("&amp;", "&")).content.decode()
    assert _trace_order(first) + _trace_order(second) == expected
    back = re.search(r'<a href="([^"]+)"[^>]*rel="prev"', second)
    assert back is not None
    again = reader.get(back.group(1).replace("&amp;", "&")).content.decode()
    assert _trace_order(again) == expected[:25]


def _trace_order(html: str) -> list[int]:
    found = [int(pk) for pk in re.findall(r'href="/events/(\d+)/trace/"', html)]
    return list(dict.fromkeys(found))


def test_the_pending_filter_takes_in_events_never_correlated(reader):
    b = f.batch()
    never = f.event(batch=b)  # no attribution yet
    waiting = f.event(batch=b, status="pending", reason="")
    f.event(batch=b, status="attributed", origin=f.identity())
    f.event(batch=b, status="unattributed", reason="anonymous")
    assert _trace_links(reader.get(URL, {"status": "pending"}).content.decode()) == {
        never.pk,
        waiting.pk,
    }
    assert Event.objects.with_status("pending").count() == 2


def test_it_sorts_by_status_with_never_correlated_events_as_pending(reader):
    b = f.batch()
    unattributed = f.event(batch=b, status="unattributed", reason="anonymous")
    never = f.event(batch=b)  # no attribution yet
    attributed = f.event(batch=b, status="attributed", origin=f.identity())
    html = reader.get(URL, {"sort": "status"}).content.decode()
    assert _trace_order(html) == [attributed.pk, never.pk, unattributed.pk]
    html = reader.get(URL, {"sort": "-status"}).content.decode()
    assert _trace_order(html) == [unattributed.pk, never.pk, attributed.pk]


def test_the_pending_filter_is_estimated_as_the_events_without_another_status():
    # With most events never correlated, the planner must expect most to be pending, so
    # that it reads a page of them newest first; taken for a rare match, it joined and
    # sorted every event for one page (seconds at a million events).
    from django.db import connection

    from forensics.ingest.models import status_is

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's; SQLite reads the events in time order anyway")
    b = f.batch()
    for n in range(100):
        f.event(batch=b, **({"status": "attributed", "origin": None} if n % 10 == 0 else {}))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ingest_event, ingest_attribution")
        sql, params = Event.objects.filter(status_is("pending")).query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
    assert plan["Plan"]["Plan Rows"] > 50, plan
