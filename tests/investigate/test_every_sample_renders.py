"""Every producer's sample, through ingest and correlation, renders on the investigator's
pages: the event, its trace, its origin's timeline, and the lists that show it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from forensics.ingest.models import Event
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db

SAMPLE_FILES = sorted(
    str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md"
)


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_every_event_of_the_sample_renders(sample, ingest_sample, client_for, investigator):
    (batch,) = ingest_sample(sample)
    assert batch.stored > 0
    client = client_for(investigator)
    origins = set()
    for event in Event.objects.all():
        for name in ("event_detail", "event_trace"):
            response = client.get(reverse(name, args=[event.pk]))
            assert response.status_code == 200, (name, event.pk, event.action)
            if name == "event_detail":
                assert escape(event.action) in response.content.decode()
        if event.origin_id:
            origins.add(event.origin_id)
    for pk in origins:
        assert client.get(reverse("identity_detail", args=[pk])).status_code == 200
    for name in ("event_list", "queue", "identity_list", "resource_list"):
        assert client.get(reverse(name)).status_code == 200, name
