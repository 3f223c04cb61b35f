from __future__ import annotations

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


def test_it_counts_events_personal_data_shares_and_the_queue(client_for, investigator):
    alice = f.identity()
    b = f.batch()
    f.event(batch=b, status="attributed", origin=alice, personal_data=True)
    f.event(batch=b, status="attributed", origin=alice, personal_data=False)
    f.event(batch=b, status="unattributed", reason="anonymous", personal_data=True)
    f.event(batch=b, status="ambiguous", personal_data=False)
    html = client_for(investigator).get(reverse("home")).content.decode()
    assert '<div class="num">4</div><div>events</div>' in html
    assert '<div class="num">2</div><div>personal-data accesses</div>' in html
    assert (
        '<div class="num">50.0%</div><div><span class="badge attributed">attributed</span> 2'
        in html
    )
    assert '<div class="num">25.0%</div><div><span class="badge unattributed">' in html
    assert '<div class="num">2</div><div>open in the queue</div>' in html


def test_it_shows_recent_personal_data_accesses_with_their_origin_and_logs_them(
    client_for, investigator
):
    alice = f.identity("alice@corp.example")
    event = f.event(status="attributed", origin=alice, personal_data=True)
    html = client_for(investigator).get(reverse("home")).content.decode()
    recent = html[html.index("Recent personal-data accesses") : html.index("<h2>Sources")]
    assert f'href="/events/{event.pk}/trace/"' in recent and "alice@corp.example" in recent
    assert AccessLogEntry.objects.get().object_refs == [f"event:{event.pk}"]


def test_it_shows_the_last_ingest_per_source_with_its_lag(client_for, admin_user):
    b = f.batch(f.source("okta-prod"))
    f.event(batch=b)  # T0 + a few minutes; the batch finished at T0 + 1h
    html = client_for(admin_user).get(reverse("home")).content.decode()
    sources = html[html.index("<h2>Sources") :]
    assert "okta-prod" in sources and "2026-03-02 10:12:00" in sources
    assert "minutes" in sources
    # An admin sees no events, so nothing is logged.
    assert "Recent personal-data accesses" not in html
    assert not AccessLogEntry.objects.exists()
