"""``bulk.plain_rows``: a values_list queryset's rows as the driver returns them (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.db import connection

from forensics.core import bulk
from forensics.ingest.models import Event
from tests.conftest import SAMPLES

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL read path"),
]

COLUMNS = ("pk", "credential_used", "event_time", "mfa", "personal_data")


@pytest.fixture
def listed(source, ingest_files):
    ingest_files(
        source,
        SAMPLES / "cloudtrail" / "saml_role_chain.json",
        SAMPLES / "okta" / "system_log_page.json",
    )
    return Event.objects.order_by("pk").values_list(*COLUMNS)


@pytest.mark.parametrize("chunk", [0, 2])
def test_plain_rows_are_the_rows_django_reads(listed, chunk):
    plain = list(bulk.plain_rows(listed, chunk=chunk))
    assert len(plain) > 2
    assert plain == list(listed)
    assert all(row[2].utcoffset() == UTC.utcoffset(None) for row in plain)


def open_cursors() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        return cursor.fetchone()[0]


def test_plain_rows_read_a_server_side_cursor_unless_disabled(listed, monkeypatch):
    rows = bulk.plain_rows(listed, chunk=2)
    next(rows)
    assert open_cursors() == 1  # the rest is still on the server
    rows.close()
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    rows = bulk.plain_rows(listed, chunk=2)
    next(rows)
    assert open_cursors() == 0
    rows.close()
