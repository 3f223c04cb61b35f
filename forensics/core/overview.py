"""The home page's counts: counted in one pass, kept with their time, recounted when stale."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from forensics.core.models import Overview
from forensics.ingest.models import STATUS_PENDING, Event

log = logging.getLogger(__name__)
SINGLETON = 1
# A recount that has not finished after this long is taken for lost (its worker died).
RECOUNT_TIMEOUT = timedelta(minutes=30)
# A store counted this fast is counted afresh for every view: its page is always current.
LIVE_COUNT_SECONDS = 0.05


def count() -> Overview:
    """Count every event by attribution status and personal data, and keep the figures."""
    start = time.perf_counter()
    counted_at = timezone.now()
    rows = (
        Event.objects.order_by()
        .values_list("attribution__status", "personal_data")
        .annotate(n=Count("*"))
    )
    statuses: dict[str, int] = {}
    personal = 0
    for status, personal_data, n in rows:
        status = status or STATUS_PENDING  # never correlated
        statuses[status] = statuses.get(status, 0) + n
        personal += n if personal_data else 0
    overview, _ = Overview.objects.update_or_create(
        pk=SINGLETON,
        defaults={
            "counted_at": counted_at,
            "seconds": time.perf_counter() - start,
            "total": sum(statuses.values()),
            "personal": personal,
            "statuses": statuses,
            "recount_since": None,
        },
    )
    return overview


def max_age(overview: Overview) -> timedelta:
    """How long a count stays current: OVERVIEW_MAX_AGE_SECONDS, and at least 20 times what
    it took, so that recounting a large store costs the database at most a twentieth of
    its time however often the page is looked at."""
    return timedelta(seconds=max(settings.OVERVIEW_MAX_AGE_SECONDS, 20 * overview.seconds))


def is_stale(overview: Overview) -> bool:
    return timezone.now() - overview.counted_at > max_age(overview)


def current() -> Overview:
    """The last count. The first is counted here, and so is every count of a store small
    enough to count in LIVE_COUNT_SECONDS; a stale one is served while a recount is queued
    (in embedded mode the recount runs here, and its figures are served)."""
    overview = Overview.objects.filter(pk=SINGLETON).first()
    if overview is None or overview.seconds < LIVE_COUNT_SECONDS:
        return count()
    if is_stale(overview) and _claim_recount():
        from forensics.core.tasks import recount_overview

        try:
            recount_overview.delay()
        except Exception:  # the broker is down: the page still shows the last count
            log.exception("could not queue a recount of the overview")
            Overview.objects.filter(pk=SINGLETON).update(recount_since=None)
        overview = Overview.objects.get(pk=SINGLETON)
    return overview


def _claim_recount() -> bool:
    """Mark a recount as under way, unless one already is."""
    now = timezone.now()
    return bool(
        Overview.objects.filter(pk=SINGLETON)
        .filter(Q(recount_since=None) | Q(recount_since__lt=now - RECOUNT_TIMEOUT))
        .update(recount_since=now)
    )
