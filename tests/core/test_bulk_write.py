"""``bulk.insert`` and ``bulk.Staging``: rows written in bulk read back exactly as given
(a binary COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils.dateparse import parse_datetime

from forensics.core import bulk
from forensics.identities.services import RESULT_COLUMNS
from forensics.ingest.models import Attribution, Event
from forensics.ingest.rows import insert_columns, staged_rows
from tests.investigate import factories

pytestmark = pytest.mark.django_db

# What a record's text and its parsed values can hold: the characters a text COPY escapes
# (tab, line ends, backslash), JSON escapes kept as text, quotes, and non-ASCII up to the
# astral planes.
TRICKY = 'tab\there\nline\r\nback\\slash "quoted" \\u0041 \\n é 漢 \U0001f600 \\.'


def test_event_rows_read_back_exactly():
    template = factories.event()
    row = {column: getattr(template, column) for column in insert_columns()}
    row.update(
        dedupe_key="bulk:1",
        raw=TRICKY,
        user_agent=TRICKY,
        resource=TRICKY,
        attrs={"text": TRICKY, "list": [1, 2.5, None, True, "ü"], "nested": {"é": "\\"}},
        event_time=datetime(2026, 3, 2, 9, 12, 3, 123456, tzinfo=UTC),
        mfa=None,
        personal_data=False,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        bulk.insert(cursor, Event, insert_columns(), staged_rows([row]))
    stored = Event.objects.get(dedupe_key="bulk:1")
    assert {column: getattr(stored, column) for column in insert_columns()} == row


def test_staged_rows_read_back_exactly():
    fields = [
        Attribution._meta.get_field("origin" if c == "origin_id" else c) for c in RESULT_COLUMNS
    ]
    convert = bulk.converters(fields)
    at = datetime(2026, 3, 2, 9, 12, 3, 5, tzinfo=UTC)
    given = [
        (7, at, "attributed", "", None, [{"principal": TRICKY}], "exact", TRICKY, TRICKY, at),
        (8, at, "pending", "missing_issuer", None, [], "", "", "", None),
    ]
    staging = bulk.Staging("bulk_test_staging", Attribution, RESULT_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        staging.load(cursor, [tuple(f(v) for f, v in zip(convert, r, strict=True)) for r in given])
        cursor.execute(f"SELECT {staging.q_columns} FROM {staging.q_name} ORDER BY 1")  # noqa: S608
        read = cursor.fetchall()
    hops = Attribution._meta.get_field("hops")
    for row, expected in zip(read, given, strict=True):
        back = list(row)
        back[5] = hops.from_db_value(back[5], None, connection)
        for i in (1, 9):
            if isinstance(back[i], str):  # SQLite hands back UTC times as text
                back[i] = parse_datetime(back[i]).replace(tzinfo=UTC)
        assert tuple(back) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a binary COPY's column types")
def test_a_failed_write_reads_the_column_types_again():
    # A running process whose table a migration changed must not keep sending the old
    # types: after a failed write, they are looked up again.
    staging = bulk.Staging("bulk_types_staging", Attribution, ["event_id", "status"])
    with transaction.atomic(), connection.cursor() as cursor:
        staging.load(cursor, [(1, "attributed")])
    assert (connection.alias, Attribution._meta.db_table, "status") in bulk._TYPES
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        staging.load(cursor, [(2, "x" * 100)])  # longer than the column's 12 characters
    assert (connection.alias, Attribution._meta.db_table, "status") not in bulk._TYPES


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a COPY ceiling is PostgreSQL's")
def test_the_copy_ceiling_compresses_its_columns_as_the_event_table_does():
    # Compressing the raw record is much of a row's cost: a ceiling made with another
    # method than the events' own would not be the same rows' COPY.
    from forensics.core.bench import measure_copy

    template = factories.event()
    row = {column: getattr(template, column) for column in insert_columns()}
    assert measure_copy([{**row, "dedupe_key": f"bench:{i}"} for i in range(50)]) > 0

    def methods(table: str) -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, attcompression FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attname IN ('raw', 'attrs')",
                [table],
            )
            return dict(cursor.fetchall())

    event_table = methods(Event._meta.db_table)
    assert set(event_table.values()) - {""}, "the migrations set the raw record's method"
    assert methods("bench_copy") == event_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy")
        assert cursor.fetchone() == (50,)
