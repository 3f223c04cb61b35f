"""Log fields are attacker-controlled: every page shows them as inert, escaped text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forensics.cases.models import Case, CaseEvent, CaseIdentity
from forensics.identities.models import Identity
from forensics.ingest import services
from forensics.ingest.models import Event, PersonalDataRule
from tests.conftest import SAMPLES
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db
SAMPLE = SAMPLES / "cloudtrail" / "hostile_fields.json"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def hostile(source, investigator):
    PersonalDataRule.objects.create(name="payroll", pattern_type="contains", pattern="payroll")
    batch = services.ingest_path(source, SAMPLE)
    assert batch.stored == 1
    event = Event.objects.get()
    # The origin and chain carry log-derived names too (session names, SAML subjects).
    origin = Identity.objects.create(kind="human", name=f"mallory{IMG}")
    f.attribute(
        event,
        status="attributed",
        origin=origin,
        evidence="asserted",
        chain_label=f"mallory{IMG} → assume-role → {SCRIPT}",
        hops=[
            {
                "principal": SCRIPT,
                "credential": IMG,
                "method": "assume-role",
                "evidence": "asserted",
                "via_event": str(event.pk),
            }
        ],
        explanation=SCRIPT,
    )
    case = Case.objects.create(title=f"case {SCRIPT}", created_by=investigator)
    CaseEvent.objects.create(case=case, event=event)
    CaseIdentity.objects.create(case=case, identity=origin)
    event.refresh_from_db()
    return event, origin, case


def _pages(event, origin, case) -> dict[str, str]:
    return {
        "explorer": reverse("event_list") + "?columns=time&columns=principal&columns=origin"
        "&columns=chain&columns=resource&columns=user_agent",
        "trace": reverse("event_trace", args=[event.pk]),
        "event": reverse("event_detail", args=[event.pk]),
        "timeline": reverse("identity_detail", args=[origin.pk]),
        "identities": reverse("identity_list"),
        "resources": reverse("resource_list"),
        "resource": reverse("resource_detail")
        + "?resource="
        + event.resource.replace("<", "%3C").replace(">", "%3E"),
        "search": reverse("search") + "?q=mallory",
        "search query": reverse("search") + "?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "case": reverse("case_detail", args=[case.pk]),
        "case events": reverse("case_events", args=[case.pk]) + "?columns=principal"
        "&columns=user_agent&columns=resource",
        "home": reverse("home"),
    }


def test_the_sample_really_carries_the_payloads(hostile):
    event, _, _ = hostile
    assert IMG in event.actor_principal and event.user_agent == SCRIPT and SCRIPT in event.resource
    assert SCRIPT in event.raw


@pytest.mark.parametrize(
    "page",
    [
        "explorer",
        "trace",
        "event",
        "timeline",
        "identities",
        "resources",
        "resource",
        "search",
        "search query",
        "case",
        "case events",
        "home",
    ],
)
def test_every_page_shows_hostile_fields_as_escaped_text(page, hostile, client_for, make_user):
    event, origin, case = hostile
    client = client_for(make_user("root", superuser=True))
    response = client.get(_pages(event, origin, case)[page])
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", "")
    assert ESCAPED_SCRIPT in html or ESCAPED_IMG in html, "the hostile value is shown, escaped"


def test_the_trace_shows_the_raw_json_escaped(hostile, client_for, auditor):
    event, _, _ = hostile
    html = client_for(auditor).get(reverse("event_trace", args=[event.pk])).content.decode()
    raw = html[html.index('<pre class="raw">') :]
    assert "&quot;userAgent&quot;: &quot;" + ESCAPED_SCRIPT + "&quot;" in raw
    assert "onerror=alert(1)&gt;" in raw and "<img" not in raw
