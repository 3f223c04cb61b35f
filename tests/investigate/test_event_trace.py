from __future__ import annotations

import re

import pytest
from django.urls import reverse

from forensics.audit.models import AccessLogEntry
from tests.investigate import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client_for, auditor):
    return client_for(auditor)


def _chain(html: str) -> str:
    return html[
        html.index('<ul class="chain">') : html.index("</ul>", html.index('<ul class="chain">'))
    ]


def test_it_draws_the_chain_from_the_origin_through_every_hop(reader):
    alice = f.identity(
        "alice@corp.example",
        aliases=(("email", "alice@corp.example"), ("okta_user", "00u1example")),
    )
    saml, assume, access = f.saml_chain(alice)
    html = reader.get(reverse("event_trace", args=[access.pk])).content.decode()
    chain = _chain(html)
    items = re.findall(r'<li class="([a-z ]+)">', chain)
    assert items == ["origin", "hop", "hop", "access"]
    assert "alice@corp.example" in chain and "okta_user:00u1example" in chain
    assert chain.index("saml-federation") < chain.index("assume-role")
    assert f'href="/events/{saml.pk}/trace/"' in chain
    assert f'href="/events/{assume.pk}/trace/"' in chain
    assert chain.count('<span class="badge exact">exact</span>') == 2
    assert "ASIAADMINEXAMPLE0001" in chain and "arn:aws:iam::111122223333:role/DataReader" in chain


def test_it_explains_the_chain_in_plain_words(reader):
    alice = f.identity("alice@corp.example")
    _, _, access = f.saml_chain(alice)
    html = reader.get(reverse("event_trace", args=[access.pk])).content.decode()
    assert (
        "alice@corp.example signed in through SAML as AdminRole at 09:12:00, "
        "assumed DataReader at 09:13:00, and as DataReader called s3.amazonaws.com:GetObject "
        "on s3://hr-payroll/2026/payroll.csv at 09:15:00 UTC on 2026-03-02."
    ) in html


def test_it_shows_the_raw_json_of_every_event_in_the_chain_collapsible(reader):
    alice = f.identity()
    saml, assume, access = f.saml_chain(alice)
    html = reader.get(reverse("event_trace", args=[access.pk])).content.decode()
    raws = re.findall(r"<details[^>]*>\s*<summary>event #(\d+)", html)
    assert [int(pk) for pk in raws] == [saml.pk, assume.pk, access.pk]
    assert "AssumeRoleWithSAML" in html and "&quot;eventName&quot;: &quot;AssumeRole&quot;" in html
    # Pretty-printed: one key per line.
    assert "\n  &quot;eventSource&quot;: &quot;s3.amazonaws.com&quot;,\n" in html


def test_it_says_where_and_why_an_unattributed_chain_breaks(reader):
    event = f.event(
        status="unattributed",
        reason="missing_issuer",
        explanation="ASIAEXAMPLE0001 was issued by an event that is not in the store",
        hops=[
            {
                "principal": "arn:aws:iam::111122223333:role/DataReader",
                "credential": "ASIAEXAMPLE0001",
                "method": "assume-role",
                "evidence": "exact",
                "via_event": None,
            }
        ],
    )
    html = reader.get(reverse("event_trace", args=[event.pk])).content.decode()
    chain = _chain(html)
    assert re.findall(r'<li class="([a-z ]+)">', chain) == ["broken", "hop", "access"]
    assert "missing_issuer" in chain
    assert "the event that issued the credential is not in the store" in chain
    assert "ASIAEXAMPLE0001 was issued by an event that is not in the store" in chain
    assert "An actor the evidence does not identify" in html


def test_it_marks_inferred_hops_as_not_proven(reader):
    bob = f.identity("bob@corp.example")
    event = f.event(
        status="attributed",
        origin=bob,
        evidence="inferred",
        hops=[
            {
                "principal": "arn:aws:sts::111122223333:assumed-role/Support/bob",
                "credential": "",
                "method": "sso",
                "evidence": "inferred",
                "via_event": "",
            }
        ],
    )
    html = reader.get(reverse("event_trace", args=[event.pk])).content.decode()
    assert '<span class="badge inferred">inferred</span>' in html
    assert "(inferred, not proven)" in html
    assert "no single backing event" in html


def test_it_names_a_backing_event_that_is_not_in_the_store(reader):
    event = f.event(
        status="pending",
        hops=[
            {
                "principal": "arn:aws:iam::111122223333:role/X",
                "credential": "ASIAX",
                "method": "assume-role",
                "evidence": "exact",
                "via_event": "999999",
            }
        ],
    )
    html = reader.get(reverse("event_trace", args=[event.pk])).content.decode()
    assert "backed by event 999999, which is not in the store" in html
    assert "Attribution is pending" in html


def test_viewing_a_trace_writes_one_log_entry_naming_the_chain(reader, auditor):
    alice = f.identity()
    saml, assume, access = f.saml_chain(alice)
    reader.get(reverse("event_trace", args=[access.pk]))
    entry = AccessLogEntry.objects.get()
    assert entry.user == auditor and entry.view == "event_trace"
    assert entry.object_refs == [
        f"event:{saml.pk}",
        f"event:{assume.pk}",
        f"event:{access.pk}",
        f"identity:{alice.pk}",
    ]
    assert entry.personal_data is True


def test_an_unknown_event_is_404(reader):
    assert reader.get(reverse("event_trace", args=[424242])).status_code == 404


def test_the_event_page_shows_every_field_and_the_raw_record(reader):
    event = f.event(
        attrs={"identity_type": "AssumedRole", "user_groups": ["a", "b"]},
        session_name="alice",
        mfa=True,
    )
    html = reader.get(reverse("event_detail", args=[event.pk])).content.decode()
    assert "identity_type" in html and "a, b" in html
    assert event.source_event_id in html and event.raw_sha256 in html
    assert AccessLogEntry.objects.get().object_refs == [f"event:{event.pk}"]
