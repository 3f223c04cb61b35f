"""The home page's counts: counted once, kept with their time, recounted when stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from forensics.core import overview
from forensics.core.models import Overview
from forensics.core.tasks import recount_overview
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _large_store(monkeypatch):
    # A test store counts in microseconds, which a live page would count on every view.
    monkeypatch.setattr(overview, "LIVE_COUNT_SECONDS", 0)


def _age(seconds: float) -> None:
    Overview.objects.update(counted_at=timezone.now() - timedelta(seconds=seconds))


def test_it_counts_by_status_and_personal_data_with_never_correlated_as_pending():
    b = f.batch()
    f.event(batch=b, status="attributed", origin=f.identity(), personal_data=True)
    f.event(batch=b, status="unattributed", reason="anonymous", personal_data=False)
    f.event(batch=b, personal_data=True)  # never correlated
    counted = overview.count()
    assert (counted.total, counted.personal) == (3, 2)
    assert counted.statuses == {"attributed": 1, "unattributed": 1, "pending": 1}
    assert counted.seconds >= 0 and counted.recount_since is None


def test_the_page_shows_the_last_count_with_its_time_until_it_is_stale(
    client_for, investigator, settings
):
    settings.OVERVIEW_MAX_AGE_SECONDS = 60
    client = client_for(investigator)
    f.event()
    html = client.get(reverse("home")).content.decode()
    assert '<div class="num">1</div><div>events</div>' in html
    assert 'id="counted">Counted at ' in html
    f.event()
    html = client.get(reverse("home")).content.decode()
    assert '<div class="num">1</div><div>events</div>' in html  # still current
    _age(61)
    # Stale: a recount is queued; in embedded mode it runs at once, so the page has it.
    html = client.get(reverse("home")).content.decode()
    assert '<div class="num">2</div><div>events</div>' in html
    assert Overview.objects.get().recount_since is None


def test_a_slow_count_stays_current_for_twenty_times_its_duration(settings):
    settings.OVERVIEW_MAX_AGE_SECONDS = 60
    counted = overview.count()
    counted.seconds = 30.0
    assert overview.max_age(counted) == timedelta(seconds=600)
    counted.counted_at = timezone.now() - timedelta(seconds=300)
    assert not overview.is_stale(counted)
    counted.counted_at = timezone.now() - timedelta(seconds=601)
    assert overview.is_stale(counted)


def test_many_viewers_of_a_stale_count_queue_one_recount(monkeypatch):
    queued = []
    monkeypatch.setattr(recount_overview, "delay", lambda: queued.append(1))
    overview.count()
    _age(3600)
    for _ in range(3):
        overview.current()
    assert len(queued) == 1
    # A recount that never finished (its worker died) is taken for lost after a while.
    Overview.objects.update(recount_since=timezone.now() - overview.RECOUNT_TIMEOUT * 2)
    overview.current()
    assert len(queued) == 2


def test_without_a_broker_the_page_keeps_the_last_count(client_for, investigator, monkeypatch):
    def refuse():
        raise ConnectionError("broker down")

    monkeypatch.setattr(recount_overview, "delay", refuse)
    f.event()
    overview.count()
    f.event()
    _age(3600)
    html = client_for(investigator).get(reverse("home")).content.decode()
    assert '<div class="num">1</div><div>events</div>' in html
    assert Overview.objects.get().recount_since is None  # the next view tries again


def test_the_recount_task_counts_again():
    overview.count()
    f.event()
    assert recount_overview() == "counted 1 events in " + (
        f"{Overview.objects.get().seconds:.1f} s"
    )
    assert Overview.objects.get().total == 1


def test_a_store_counted_in_a_blink_is_counted_for_every_view(monkeypatch):
    monkeypatch.setattr(overview, "LIVE_COUNT_SECONDS", 60)
    overview.count()
    f.event()
    assert overview.current().total == 1  # however recent the last count
