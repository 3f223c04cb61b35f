from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client_for, investigator):
    return client_for(investigator)


@pytest.fixture
def alice():
    return f.identity(
        "alice@corp.example",
        aliases=(
            ("email", "alice@corp.example"),
            ("aws_iam_user", "arn:aws:iam::111122223333:user/alice"),
        ),
    )


def test_it_shows_the_identity_with_aliases_owner_and_shared_flag(reader, alice):
    robot = f.identity(
        "etl-shared",
        kind="workload",
        aliases=(("aws_iam_user", "arn:aws:iam::111122223333:user/etl-shared"),),
        owner=alice,
        shared=True,
    )
    html = reader.get(reverse("identity_detail", args=[robot.pk])).content.decode()
    assert "aws_iam_user:arn:aws:iam::111122223333:user/etl-shared" in html
    assert "shared account" in html and "workload" in html
    assert f'href="/identities/{alice.pk}/"' in html
    owner_html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    assert f'href="/identities/{robot.pk}/"' in owner_html  # owns


def test_it_groups_events_by_session_and_credential_chain_with_the_path(reader, alice):
    label_a = "alice@corp.example → saml-federation → AdminRole → assume-role → DataReader"
    label_b = "alice@corp.example → sso → Support"
    b = f.batch()
    first = [
        f.event(
            batch=b,
            origin=alice,
            chain_label=label_a,
            credential_used="ASIAAAA",
            event_time=f.T0 + timedelta(minutes=i),
        )
        for i in range(3)
    ]
    second = [
        f.event(
            batch=b,
            origin=alice,
            chain_label=label_b,
            credential_used="ASIABBB",
            event_time=f.T0 + timedelta(hours=2, minutes=i),
        )
        for i in range(2)
    ]
    f.event(batch=b, chain_label=label_a)  # someone else's
    html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    sessions = re.findall(r'<section class="session">(.*?)</section>', html, re.S)
    assert len(sessions) == 2
    newest, oldest = sessions
    assert "ASIABBB" in newest and '<span class="method">sso</span>' in newest
    assert all(f"/events/{e.pk}/trace/" in newest for e in second)
    assert all(f"/events/{e.pk}/trace/" in oldest for e in first)
    assert '<span class="hop">AdminRole</span>' in oldest
    assert '<span class="method">saml-federation</span>' in oldest
    summary = html[html.index("Sessions and credential chains") : html.index("<h2>Timeline")]
    assert summary.count("<tr><td>") == 2


def test_it_draws_an_activity_histogram_as_inline_svg(reader, alice):
    b = f.batch()
    for minutes in (0, 1, 2, 180):
        f.event(
            batch=b,
            origin=alice,
            event_time=f.T0 + timedelta(minutes=minutes),
            personal_data=minutes == 180,
        )
    html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert "2026-03-02 09:00: 3 events, 0 personal data" in titles
    assert "2026-03-02 12:00: 1 event, 1 personal data" in titles
    assert 'class="pd"' in svg
    assert "events per hour" in html


def test_a_chain_over_several_hours_is_one_row_and_its_events_fill_their_bars(reader, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    b = f.batch()
    label = "alice@corp.example → sso → Support"
    for minutes in (0, 70, 71, 200):
        f.event(
            batch=b,
            origin=alice,
            chain_label=label,
            credential_used="ASIACCC",
            event_time=f.T0 + timedelta(minutes=minutes),
            personal_data=minutes == 70,
        )
    with CaptureQueriesContext(connection) as queries:
        html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    summary = html[html.index("Sessions and credential chains") : html.index("<h2>Timeline")]
    (row,) = re.findall(r"<tr><td>(.*?)</tr>", summary, re.S)
    assert ">4</a>" in row and '<span class="badge pd">1</span>' in row
    assert "2026-03-02 09:12:00" in row and "2026-03-02 12:32:00" in row  # first, last
    svg = html[html.index("<svg") : html.index("</svg>")]
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert "2026-03-02 09:00: 1 event, 0 personal data" in titles
    assert "2026-03-02 10:00: 2 events, 1 personal data" in titles
    assert "2026-03-02 12:00: 1 event, 0 personal data" in titles
    # The chains and the bars come from one pass over the identity's events.
    grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
    bucketed = [sql for sql in grouped if '"bucket"' in sql]
    assert len(bucketed) == 1 and "chain_label" in bucketed[0]
    assert not [sql for sql in grouped if "chain_label" in sql and sql not in bucketed]


def test_a_histogram_bar_links_to_its_own_time_range(reader, alice):
    f.event(origin=alice, event_time=f.T0)
    html = reader.get(reverse("identity_detail", args=[alice.pk]), {"status": "pending"}).content
    assert b"since=2026-03-02T09%3A12&amp;until=2026-03-02T09%3A13" in html


def test_the_timeline_filters_leave_out_the_origin_filter(reader, alice):
    html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    form = html[
        html.index('<form id="event-filters"') : html.index("</form>", html.index("event-filters"))
    ]
    assert 'name="action"' in form and 'name="origin"' not in form


def test_it_filters_the_timeline(reader, alice):
    keep = f.event(origin=alice, action="s3.amazonaws.com:GetObject")
    drop = f.event(origin=alice, action="kms.amazonaws.com:Decrypt")
    html = reader.get(reverse("identity_detail", args=[alice.pk]), {"action": "getobject"}).content
    assert f"/events/{keep.pk}/trace/".encode() in html
    assert f"/events/{drop.pk}/trace/".encode() not in html


def test_viewing_a_timeline_writes_one_log_entry_naming_identity_and_events(
    reader, investigator, alice
):
    shown = f.event(origin=alice, personal_data=True)
    reader.get(reverse("identity_detail", args=[alice.pk]))
    entry = AccessLogEntry.objects.get()
    assert entry.user == investigator and entry.view == "identity_detail"
    assert entry.object_refs == [f"identity:{alice.pk}", f"event:{shown.pk}"]
    assert entry.personal_data is True


def test_the_identity_list_finds_identities_by_alias_and_counts_their_events(reader, alice):
    f.identity("bob@corp.example")
    f.event(origin=alice)
    f.event(origin=alice)
    html = reader.get(reverse("identity_list"), {"q": "user/alice"}).content.decode()
    assert "alice@corp.example" in html and "bob@corp.example" not in html
    row = re.search(rf'<tr><td class="wrap"><a href="/identities/{alice.pk}/">.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cells[5] == "2"


def test_the_timeline_counts_its_events_exactly_in_its_summary_pass(reader, alice, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from forensics.investigate import paging

    monkeypatch.setattr(paging, "COUNT_BOUND", 2)  # a count elsewhere stops here
    b = f.batch()
    for minutes in (0, 5, 70, 200):
        f.event(batch=b, origin=alice, event_time=f.T0 + timedelta(minutes=minutes))
    f.event(batch=b, event_time=f.T0)  # someone else's
    with CaptureQueriesContext(connection) as queries:
        html = reader.get(reverse("identity_detail", args=[alice.pk])).content.decode()
    assert "4 matching events" in html and "more than" not in html
    assert not [q for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    filtered = reader.get(
        reverse("identity_detail", args=[alice.pk]), {"since": "2026-03-02T10:00"}
    ).content.decode()
    assert "2 matching events" in filtered
