from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
URL = reverse("queue")


def test_it_groups_unattributed_and_ambiguous_events_by_reason(client_for, admin_user):
    b = f.batch()
    for _ in range(3):
        f.event(batch=b, status="unattributed", reason="shared_account")
    f.event(batch=b, status="ambiguous", reason="conflicting_evidence")
    f.event(batch=b, status="attributed")
    f.event(batch=b, status="pending")
    html = client_for(admin_user).get(URL).content.decode()
    reasons = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = re.findall(r"<code>(\w+)</code>.*?status=\w+&amp;reason=\w+\">(\d+)</a>", reasons, re.S)
    assert rows == [("shared_account", "3"), ("conflicting_evidence", "1")]
    assert "4 open" in html
    assert "4 matching events" in html


def test_it_lists_the_events_of_one_reason(client_for, investigator):
    b = f.batch()
    shared = f.event(batch=b, status="unattributed", reason="shared_account")
    f.event(batch=b, status="unattributed", reason="missing_issuer")
    html = client_for(investigator).get(URL, {"reason": "shared_account"}).content.decode()
    events = html[html.index('id="results"') :]
    assert set(re.findall(r'href="/events/(\d+)/trace/"', events)) == {str(shared.pk)}


def test_admins_see_the_queue_without_links_they_cannot_follow(client_for, admin_user):
    event = f.event(status="unattributed", reason="anonymous")
    html = client_for(admin_user).get(URL).content.decode()
    assert f"/events/{event.pk}/trace/" not in html
    # Its time is shown (the factory's times follow how many events were made before).
    assert f"{event.event_time:%Y-%m-%d}" in html[html.index('id="results"') :]
