"""Identities the logs made under different names, tied together by a later record: the
result must not depend on the order the logs came in (principle 3), and nothing the
directory was given is ever folded."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from forensics.identities.models import Identity, IdentityAlias
from forensics.identities.services import correlate_all
from forensics.ingest.models import Attribution, Event
from tests.ingest.helpers import jsonl_file

pytestmark = pytest.mark.django_db
OKTA_ID = "00u1abvz4pYqdM8ms4x6"


def _okta(uuid: str, login: str, when: str, user_id: str = OKTA_ID) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "published": when,
        "eventType": "user.session.start",
        "actor": {"id": user_id, "type": "User", "alternateId": login},
        "authenticationContext": {"externalSessionId": f"idx{uuid}"},
        "client": {"ipAddress": "198.51.100.5"},
        "outcome": {"result": "SUCCESS"},
    }


def _gcp(insert_id: str, email: str) -> dict[str, Any]:
    return {
        "insertId": insert_id,
        "logName": "projects/p1/logs/cloudaudit.googleapis.com%2Fdata_access",
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": email},
            "methodName": "storage.objects.get",
            "resourceName": "projects/_/buckets/b/objects/o",
            "serviceName": "storage.googleapis.com",
        },
        "resource": {"type": "gcs_bucket", "labels": {"project_id": "p1"}},
        "timestamp": "2024-05-14T09:30:00Z",
    }


# Alice signs in to Okta as alice@, later as her new login al@ (the same Okta user id, as
# Okta records a renamed login); a GCP entry names al@ alone.
FILES = {
    "first_login.json": [_okta("o1", "alice@example.com", "2024-05-14T08:00:00Z")],
    "new_login.json": [_okta("o2", "al@example.com", "2024-05-14T09:00:00Z")],
    "gcp.jsonl": [_gcp("g1", "al@example.com")],
}


def _results() -> dict[str, tuple[str, str | None]]:
    """Each event's status and its origin's name, by the producer's event id."""
    found = {}
    for event in Event.objects.all():
        att = Attribution.objects.get(event_id=event.pk)
        found[event.source_event_id] = (att.status, att.origin.name if att.origin else None)
    return found


def _ingest_in(order: tuple[str, ...], source, ingest_files, tmp_path: Path, each: bool) -> None:
    for name in order:
        ingest_files(source, jsonl_file(tmp_path, name, *FILES[name]))
        if each:  # correlated as they arrive, one file at a time
            correlate_all()
    correlate_all()


@pytest.mark.parametrize("each", [False, True], ids=["together", "as-they-come"])
@pytest.mark.parametrize("order", list(itertools.permutations(FILES)), ids=str)
def test_the_order_the_logs_come_in_does_not_decide_who_acted(
    order, each, source, ingest_files, tmp_path
):
    _ingest_in(order, source, ingest_files, tmp_path, each)
    results = _results()
    origins = {origin for _, origin in results.values()}
    assert {status for status, _ in results.values()} == {"attributed"}
    assert len(origins) == 1
    (alice,) = Identity.objects.filter(kind="human")
    assert set(alice.aliases.values_list("namespace", "value")) == {
        ("okta_user", OKTA_ID),
        ("email", "alice@example.com"),
        ("email", "al@example.com"),
    }
    # Correlating again changes nothing.
    correlate_all()
    assert _results() == results


def test_an_identity_the_directory_was_given_is_never_folded(source, ingest_files, tmp_path):
    given = Identity.objects.create(kind="human", name="Al Other", origin=Identity.IMPORTED)
    IdentityAlias.objects.create(identity=given, namespace="email", value="al@example.com")
    for name in ("first_login.json", "new_login.json"):
        ingest_files(source, jsonl_file(tmp_path, name, *FILES[name]))
    correlate_all()
    correlate_all()
    assert _results()["o2"] == ("ambiguous", None)
    assert Identity.objects.filter(pk=given.pk).exists()
    assert Identity.objects.filter(kind="human").count() == 2


def test_two_identities_each_known_by_a_name_the_record_does_not_give_stay_apart(
    source, ingest_files, tmp_path
):
    # Two Okta users; a record pairs the first's id with the second's login (an email
    # handed on to another person): which one acted, the logs cannot say.
    records = [
        _okta("a1", "alice@example.com", "2024-05-14T08:00:00Z", "00ualice"),
        _okta("b1", "bob@example.com", "2024-05-14T08:05:00Z", "00ubob"),
    ]
    ingest_files(source, jsonl_file(tmp_path, "two.json", *records))
    correlate_all()
    tie = _okta("x1", "bob@example.com", "2024-05-14T09:00:00Z", "00ualice")
    ingest_files(source, jsonl_file(tmp_path, "tie.json", tie))
    correlate_all()
    assert _results()["x1"] == ("ambiguous", None)
    assert Identity.objects.filter(kind="human").count() == 2
    assert json.dumps(_results()["a1"]) == json.dumps(["attributed", "alice@example.com"])
