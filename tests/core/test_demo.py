"""The demo: a newcomer's store with the story, its incident as a case and a signed pack."""

from __future__ import annotations

import pytest

from forensics.cases.models import Case
from forensics.core import demo
from forensics.estate.org import ATTACKER_IP
from forensics.evidence import keys, services
from forensics.evidence.models import EvidencePack
from forensics.evidence.verify import verify_pack
from forensics.ingest.models import Event

pytestmark = pytest.mark.django_db


def test_the_demo_holds_the_incident_as_a_case_with_a_verified_pack(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    said: list[str] = []
    demo.load(events=1500, seed=7, say=said.append)
    case = Case.objects.get(title=demo.INCIDENT_TITLE)
    from_attacker = set(
        Event.objects.filter(source_address=ATTACKER_IP).values_list("pk", flat=True)
    )
    assert from_attacker
    assert set(case.case_events.values_list("event_id", flat=True)) == from_attacker
    origins = set(
        Event.objects.filter(pk__in=from_attacker).values_list("attribution__origin_id", flat=True)
    )
    assert set(case.case_identities.values_list("identity_id", flat=True)) == origins - {None}
    pack = EvidencePack.objects.get(scope={"case": case.pk})
    assert pack.status == EvidencePack.READY
    assert pack.personal_data_events > 0  # the payroll reads
    assert verify_pack(str(services.pack_path(pack)), [keys.fingerprint()]).ok
    # Loading again (make run on an existing checkout) adds no second case or pack.
    demo.load(events=1500, seed=7, say=said.append)
    assert Case.objects.filter(title=demo.INCIDENT_TITLE).count() == 1
    assert EvidencePack.objects.count() == 1
