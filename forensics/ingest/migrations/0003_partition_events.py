# PostgreSQL: the event table becomes PARTITIONED BY RANGE (event_time), one partition per
# calendar month (UTC) and a DEFAULT partition for times outside 1970..2100, so old months
# can be detached and archived and each month's indexes stay small. SQLite is left as it is.
#
# The table is rebuilt: same columns, identity and CHECK constraints (LIKE), every index and
# constraint recreated under its old name from pg_index / pg_constraint, the rows moved, the
# id sequence continuing where it was. The primary key becomes (id, event_time), since a
# unique index on a partitioned table must include the partition key. Kept self-contained
# (not importing forensics.ingest.partitions) so that it does what it did when it was written.
# It also drops a pattern-ops index on EventKey that no query uses (drop_pattern_index).

from datetime import date

from django.db import migrations

TABLE = "ingest_event"
REBUILT = "ingest_event_rebuilt"
DEFAULT_PARTITION = "ingest_event_default"
DEFAULT_CHECK = "ingest_event_default_outside_months"
FIRST_MONTH = date(1970, 1, 1)
END_MONTH = date(2100, 1, 1)


def _bound(month):
    return f"'{month.isoformat()} 00:00:00+00'"


def _next_month(month):
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def drop_pattern_index(apps, schema_editor):
    """Drop the varchar_pattern_ops index Django adds beside a text primary key (PostgreSQL).

    Keys are only ever looked up by equality; the second index would cost a write per claim.
    (Django creates it at the end of the migration that made the table, hence here.)
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            ["ingest_eventkey", "%varchar_pattern_ops%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            _rebuild(cursor, schema_editor.quote_name, partitioned=True)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            _rebuild(cursor, schema_editor.quote_name, partitioned=False)


def _rebuild(cursor, qn, partitioned):
    cursor.execute(f"LOCK TABLE {qn(TABLE)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE confrelid = %s::regclass",
        [TABLE],
    )
    if inbound := cursor.fetchall():
        raise RuntimeError(f"foreign keys point at {TABLE} (declare them db_constraint=False): {inbound}")
    cursor.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE]
    )
    if triggers := cursor.fetchall():
        raise RuntimeError(f"{TABLE} has triggers this rebuild would lose: {triggers}")

    # Indexes of their own (not those behind the primary key or a unique constraint).
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid), x.indisunique FROM pg_index x "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid) ORDER BY x.indexrelid",
        [TABLE],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'x') ORDER BY contype, conname",
        [TABLE],
    )
    constraints = cursor.fetchall()
    if partitioned:
        unique = [d for d, is_unique in indexes if is_unique]
        unique += [d for _, kind, d in constraints if kind in ("u", "x")]
        if without_key := [d for d in unique if "event_time" not in d]:
            raise RuntimeError(f"unique without event_time cannot be partitioned: {without_key}")
    pk_name = next((n for n, kind, _ in constraints if kind == "p"), f"{TABLE}_pkey")
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [TABLE],
    )
    columns = ", ".join(qn(name) for (name,) in cursor.fetchall())
    cursor.execute(
        "SELECT s.oid::regclass::text, s.relname FROM pg_class s "
        "WHERE s.oid = pg_get_serial_sequence(%s, 'id')::regclass",
        [TABLE],
    )
    old_sequence, sequence_name = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {old_sequence}")  # noqa: S608
    last_value, is_called = cursor.fetchone()
    last_id = last_value if is_called else last_value - 1

    cursor.execute(f"ALTER TABLE {qn(TABLE)} RENAME TO {qn(REBUILT)}")
    cursor.execute(
        f"CREATE TABLE {qn(TABLE)} (LIKE {qn(REBUILT)} INCLUDING ALL "
        "EXCLUDING INDEXES EXCLUDING STATISTICS)"
        + (" PARTITION BY RANGE (event_time)" if partitioned else "")
    )
    if partitioned:
        cursor.execute(
            f"CREATE TABLE {qn(DEFAULT_PARTITION)} PARTITION OF {qn(TABLE)} "
            f"(CONSTRAINT {qn(DEFAULT_CHECK)} CHECK (event_time < {_bound(FIRST_MONTH)} "
            f"OR event_time >= {_bound(END_MONTH)})) DEFAULT"
        )
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC')::date "  # noqa: S608
            f"FROM {qn(REBUILT)} WHERE event_time >= {_bound(FIRST_MONTH)} "
            f"AND event_time < {_bound(END_MONTH)}"
        )
        for (month,) in sorted(cursor.fetchall()):
            name = f"{TABLE}_y{month.year:04d}m{month.month:02d}"
            cursor.execute(
                f"CREATE TABLE {qn(name)} PARTITION OF {qn(TABLE)} "
                f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(_next_month(month))})"
            )
    cursor.execute(
        f"INSERT INTO {qn(TABLE)} ({columns}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT {columns} FROM {qn(REBUILT)}"
    )
    cursor.execute("SELECT max(id) FROM " + qn(REBUILT))  # noqa: S608
    last_id = max(last_id, cursor.fetchone()[0] or 0)
    cursor.execute(f"DROP TABLE {qn(REBUILT)}")  # frees the index and constraint names

    cursor.execute(
        "SELECT s.oid::regclass::text, s.relname FROM pg_class s "
        "WHERE s.oid = pg_get_serial_sequence(%s, 'id')::regclass",
        [TABLE],
    )
    sequence, name = cursor.fetchone()
    if name != sequence_name:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {qn(sequence_name)}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        (sequence,) = cursor.fetchone()
    if last_id >= 1:
        cursor.execute("SELECT setval(%s, %s, true)", [sequence, last_id])
    else:
        cursor.execute("SELECT setval(%s, 1, false)", [sequence])

    for definition, _ in indexes:
        # A partitioned parent's definitions read "ON ONLY"; recreated here they recurse.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    key = "id, event_time" if partitioned else "id"
    cursor.execute(f"ALTER TABLE {qn(TABLE)} ADD CONSTRAINT {qn(pk_name)} PRIMARY KEY ({key})")
    for name, kind, definition in constraints:
        if kind != "p":
            cursor.execute(f"ALTER TABLE {qn(TABLE)} ADD CONSTRAINT {qn(name)} {definition}")
    cursor.execute(f"ANALYZE {qn(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0002_eventkey"),
        ("cases", "0002_caseevent_event_no_db_constraint"),
    ]

    operations = [
        migrations.RunPython(drop_pattern_index, migrations.RunPython.noop),
        migrations.RunPython(partition, unpartition),
    ]
