from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from forensics.ingest.models import RESOURCE_KEY_CHARS, Event
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
PAYROLL = "s3://hr-payroll/2026/payroll.csv"


@pytest.fixture
def reader(client_for, investigator):
    return client_for(investigator)


@pytest.fixture
def accesses():
    alice, bob = f.identity("alice@corp.example"), f.identity("bob@corp.example")
    b = f.batch()
    for _ in range(3):
        f.event(batch=b, resource=PAYROLL, origin=alice, status="attributed")
    f.event(batch=b, resource=PAYROLL, origin=bob, status="attributed")
    f.event(batch=b, resource=PAYROLL, status="unattributed", reason="shared_account")
    f.event(batch=b, resource="s3://public-assets/logo.png", personal_data=False, origin=bob)
    return alice, bob


def test_it_lists_personal_data_resources_with_who_accessed_them(reader, accesses):
    html = reader.get(reverse("resource_list")).content.decode()
    assert "public-assets" not in html
    row = re.search(
        r"<tr>\s*<td class=\"wrap\"><a href=\"/resources/detail/\?resource=s3%3A//hr-payroll"
        r".*?</tr>",
        html,
        re.S,
    )
    assert row is not None
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    ]
    assert cells[1] == "5"  # accesses
    assert cells[2].startswith("alice@corp.example (3)") and "bob@corp.example (1)" in cells[2]
    assert cells[3] == "2"  # identities
    assert cells[4].startswith("20%")  # one of five not attributed


def test_the_resource_page_counts_by_identity_and_names_the_gaps(reader, accesses):
    html = reader.get(reverse("resource_detail"), {"resource": PAYROLL}).content.decode()
    who = html[html.index("Who, traced to origin") : html.index("Not attributed")]
    assert who.index("alice@corp.example") < who.index("bob@corp.example")
    gaps = html[html.index("Not attributed") : html.index("<h2>Accesses")]
    assert "shared_account" in gaps and "several people" in gaps
    assert '<div class="num">20%</div>' in html
    assert len(re.findall(r'href="/events/\d+/trace/"', html)) >= 5


def test_the_resource_page_filters_accesses_by_identity(reader, accesses):
    alice, _ = accesses
    html = reader.get(reverse("resource_detail"), {"resource": PAYROLL, "origin": alice.pk}).content
    assert b"3 matching events" in html


def test_the_resource_page_carries_its_resource_in_one_hidden_field(reader, accesses):
    html = reader.get(reverse("resource_detail"), {"resource": PAYROLL}).content.decode()
    start = html.index('<form id="event-filters"')
    form = html[start : html.index("</form>", start)]
    assert form.count('name="resource"') == 1
    assert f'<input type="hidden" name="resource" value="{PAYROLL}">' in form


def test_an_unknown_resource_is_404(reader):
    assert reader.get(reverse("resource_detail"), {"resource": "s3://nope/x"}).status_code == 404
    assert reader.get(reverse("resource_detail")).status_code == 404


def test_viewing_resources_is_logged_as_personal_data(reader, accesses):
    reader.get(reverse("resource_list"))
    entry = AccessLogEntry.objects.get()
    assert entry.object_refs == [f"resource:{PAYROLL}"] and entry.personal_data is True


def test_resources_sharing_the_indexed_prefix_stay_apart(reader):
    # The resource index holds a resource's first characters only; the full text decides.
    stem = "s3://hr-payroll/" + "deep/" * (RESOURCE_KEY_CHARS // 5)
    first, second = f"{stem}alice.csv", f"{stem}bob.csv"
    alice, bob = f.identity("alice@corp.example"), f.identity("bob@corp.example")
    b = f.batch()
    f.event(batch=b, resource=first, origin=alice, status="attributed")
    f.event(batch=b, resource=second, origin=bob, status="attributed")
    assert [e.origin for e in Event.objects.touching(first)] == [alice]
    assert {e.origin for e in Event.objects.touching(first, second)} == {alice, bob}
    assert not Event.objects.touching(stem).exists() and not Event.objects.touching("").exists()
    html = reader.get(reverse("resource_detail"), {"resource": second}).content.decode()
    who = html[html.index("Who, traced to origin") : html.index("Not attributed")]
    assert "bob@corp.example" in who and "alice@corp.example" not in who


@pytest.mark.parametrize(
    "qs",
    [
        lambda: Event.objects.touching(PAYROLL).order_by("-event_time")[:50],
        lambda: Event.objects.touching(PAYROLL, "s3://other/x").values("attribution__origin_id"),
        lambda: Event.objects.filter(source_address="198.51.100.7").order_by("-event_time")[:50],
        lambda: Event.objects.carrying("ASIAEXAMPLE", "credential_used", "credential_issued"),
        lambda: Event.objects.carrying("req-1", "request_id", "correlation_id")[:2],
    ],
    ids=["resource", "resources", "address", "credential", "request"],
)
def test_lookups_by_value_read_their_index_not_the_event_table(accesses, qs):
    sql, params = qs().query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a scan it cannot avoid stays one
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
        else:
            # SQLite reads a partial index only when the query repeats its condition, and an
            # index on an expression only when the query's expression is the same text.
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(row[-1] for row in cursor.fetchall())
            assert "SCAN ingest_event" not in plan, plan


@pytest.mark.parametrize(
    ("qs", "index"),
    [
        (lambda: Event.objects.filter(attribution__origin_id=1), "attribution_origin_time_idx"),
        (lambda: Event.objects.with_status("unattributed"), "attribution_status_time_idx"),
    ],
    ids=["timeline", "queue"],
)
def test_a_page_of_a_timeline_or_the_queue_is_read_off_an_attribution_index(accesses, qs, index):
    # Newest first in the attribution's order, as the listings read them: a page is the
    # first rows of the index, not a sort of every event of the identity.
    page = qs().order_by("-attribution__event_time", "-attribution__event_id")[:51]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_sort = off")  # a sort it cannot avoid stays one
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan and index in plan, plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(row[-1] for row in cursor.fetchall())
            # Ties of one time are put in id order as they come ("RIGHT PART"): no full sort.
            assert "TEMP B-TREE FOR ORDER BY" not in plan and index in plan, plan


def _all_pages(qs, per_page):
    from forensics.investigate import resources

    pages, after = [], None
    for _ in range(100):  # a cursor that led back would otherwise page forever
        page = resources.page(qs, per_page, after=after)
        pages.append(page.resources)
        if page.next_cursor is None:
            return pages
        after = page.next_cursor
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("longest_walk", [10**6, 8], ids=["walked", "grouped-when-too-long"])
def test_pages_of_resources_follow_each_other_by_last_access_without_gaps(
    monkeypatch, longest_walk
):
    import random
    from datetime import timedelta

    from django.db.models import Max

    from forensics.investigate import resources

    # A short walk, so that pages need it deepened and cursors land inside hot resources;
    # and one cut short, so that pages come from the grouped query, alone or after a walk.
    monkeypatch.setattr(resources, "FIRST_WALK", 2)
    monkeypatch.setattr(resources, "LONGEST_WALK", longest_walk)
    rng = random.Random(5)
    b = f.batch()
    names = [f"s3://customer-docs/{n:03d}/passport.pdf" for n in range(23)]
    for _ in range(90):
        # A few hot resources take most accesses; several share a last-access time.
        name = names[min(int(rng.expovariate(0.25)), len(names) - 1)]
        f.event(batch=b, resource=name, event_time=f.T0 + timedelta(minutes=rng.randrange(40)))
    f.event(batch=b, resource="s3://public-assets/logo.png", personal_data=False)
    qs = Event.objects.filter(personal_data=True)
    expected = sorted(
        qs.values("resource").annotate(last=Max("event_time")).values_list("resource", "last"),
        key=lambda r: (-r[1].timestamp(), r[0]),
    )
    pages = _all_pages(qs, per_page=4)
    assert [r for page in pages for r in page] == expected
    assert all(len(page) == 4 for page in pages[:-1])
    # A filter applies to the walk and to what earlier pages showed alike.
    since = f.T0 + timedelta(minutes=20)
    later = qs.filter(event_time__gte=since)
    expected = sorted(
        later.values("resource").annotate(last=Max("event_time")).values_list("resource", "last"),
        key=lambda r: (-r[1].timestamp(), r[0]),
    )
    assert [r for page in _all_pages(later, per_page=3) for r in page] == expected


def test_the_list_pages_through_resources_with_a_cursor(reader, monkeypatch):
    from datetime import timedelta

    from forensics.investigate import views

    monkeypatch.setattr(views, "RESOURCES_PER_PAGE", 2)
    b = f.batch()
    for n in range(3):
        f.event(batch=b, resource=f"s3://hr/{n}.csv", event_time=f.T0 + timedelta(minutes=n))
    html = reader.get(reverse("resource_list")).content.decode()
    assert "s3%3A//hr/2.csv" in html and "s3%3A//hr/1.csv" in html and "hr/0.csv" not in html
    after = re.search(r'href="/resources/\?after=([^"&]+)"', html).group(1)
    html = reader.get(reverse("resource_list"), {"after": after}).content.decode()
    assert "s3%3A//hr/0.csv" in html and "hr/1.csv" not in html and "most recent" in html
    assert "accessed earlier →" not in html
