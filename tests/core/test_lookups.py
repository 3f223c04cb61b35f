"""``field__any``: the same rows as ``field__in``, with the values as one array on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forensics.ingest.models import Event
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(source, ingest_files):
    ingest_files(source, SAMPLES / "cloudtrail" / "saml_role_chain.json")
    return list(Event.objects.order_by("pk").values_list("pk", "credential_used"))


def test_any_finds_what_in_finds(stored):
    ids = [pk for pk, _ in stored]
    wanted = [*ids[::2], 10**12]  # and an id that is not there
    assert set(Event.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == set(
        Event.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    used = [c for _, c in stored if c] + ["not-a-key"]
    assert Event.objects.filter(credential_used__any=used).count() == (
        Event.objects.filter(credential_used__in=used).count()
    )


def test_any_of_nothing_matches_nothing(stored):
    assert not Event.objects.filter(pk__any=[]).exists()
    assert not Event.objects.filter(pk__any=[None]).exists()


def test_any_takes_a_subquery(stored):
    first = Event.objects.order_by("pk").values("pk")[:1]
    assert list(Event.objects.filter(pk__any=first).values_list("pk", flat=True)) == [stored[0][0]]


def test_any_sends_one_parameter_on_postgresql(stored):
    ids = [pk for pk, _ in stored] * 50
    with CaptureQueriesContext(connection) as queries:
        list(Event.objects.filter(pk__any=ids))
    sql = queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql


def test_integer_ids_go_as_one_array_literal_and_find_what_in_finds(stored):
    ids = [pk for pk, _ in stored]
    given = [str(ids[0]), ids[-1], ids[-1], 10**15]  # digits as text, a repeat, one not there
    with CaptureQueriesContext(connection) as queries:
        found = set(Event.objects.filter(pk__any=given).values_list("pk", flat=True))
    assert found == set(Event.objects.filter(pk__in=given).values_list("pk", flat=True))
    assert found == {ids[0], ids[-1]}
    if connection.vendor == "postgresql":
        assert f"'{{{ids[0]},{ids[-1]},{10**15}}}'::bigint[]" in queries[0]["sql"]
