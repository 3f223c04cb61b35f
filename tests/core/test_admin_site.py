"""The settings pages are the admin role's: sources, tokens, rules, identities, users."""

from __future__ import annotations

import pytest

from forensics.ingest.models import Event, PersonalDataRule, Source

pytestmark = pytest.mark.django_db


def test_a_rule_saved_by_the_admin_reflags_stored_events(
    client_for, admin_user, ingest_sample, django_capture_on_commit_callbacks
):
    ingest_sample("cloudtrail/saml_role_chain.json")
    read = Event.objects.get(action="s3:GetObject")
    assert not read.personal_data
    client = client_for(admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/ingest/source/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/ingest/personaldatarule/add/",
            {
                "name": "customer data",
                "source_kind": "cloudtrail",
                "pattern_type": "glob",
                "pattern": read.resource.split("/")[0] + "//" + read.resource.split("/")[2] + "/*",
                "enabled": "on",
            },
        )
    assert response.status_code == 302
    assert PersonalDataRule.objects.filter(name="customer data").exists()
    read.refresh_from_db()
    assert read.personal_data
    assert Event.objects.filter(personal_data=True).count() == 1


def test_issuing_a_token_shows_it_once_and_keeps_only_its_hash(client_for, admin_user):
    source = Source.objects.create(name="org-trail")
    client = client_for(admin_user)
    response = client.post(
        "/admin/ingest/source/",
        {"action": "issue_token", "_selected_action": [source.pk]},
        follow=True,
    )
    text = response.content.decode()
    token = text.split("new token ")[1].split("<")[0].strip()
    source.refresh_from_db()
    assert token.startswith("fsk_")
    assert source.token_hash == Source.hash_token(token)
    assert token not in (source.token_hash + source.token_hint)[9:]
    assert source.token_matches(token)


def test_the_access_log_is_read_only_even_for_admins(client_for, admin_user):
    client = client_for(admin_user)
    assert client.get("/admin/audit/accesslogentry/").status_code == 200
    assert client.get("/admin/audit/accesslogentry/add/").status_code == 403


@pytest.mark.parametrize("role", ["investigator", "auditor"])
def test_other_roles_cannot_open_the_settings(make_user, client_for, role):
    client = client_for(make_user("someone", role))
    response = client.get("/admin/ingest/source/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
