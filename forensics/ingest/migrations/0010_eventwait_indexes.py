# Correlation writes an event's waits each time it stores the event's result, so every index
# on the table is paid per correlated event. Two of its five went: the event column's own
# index (the unique (event, key) index leads with it) and, on PostgreSQL, the LIKE variant
# Django adds to an indexed text column (keys are only ever compared whole). The key's index
# stays, renamed; only the state changes, so no index is rebuilt on PostgreSQL.

import django.db.models.deletion
from django.db import migrations, models

OLD_EVENT = "ingest_eventwait_event_id_4aee697e"
OLD_KEY = "ingest_eventwait_key_9c9e3541"
OLD_LIKE = "ingest_eventwait_key_9c9e3541_like"
NEW_KEY = "eventwait_key_idx"


def _rename(cursor, vendor, old, new):
    if vendor == "postgresql":
        cursor.execute(f'ALTER INDEX "{old}" RENAME TO "{new}"')
    else:  # SQLite cannot rename an index
        cursor.execute(f'DROP INDEX "{old}"')
        cursor.execute(f'CREATE INDEX "{new}" ON "ingest_eventwait" ("key")')


def forward(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{OLD_EVENT}"')
        cursor.execute(f'DROP INDEX IF EXISTS "{OLD_LIKE}"')
        _rename(cursor, connection.vendor, OLD_KEY, NEW_KEY)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        _rename(cursor, connection.vendor, NEW_KEY, OLD_KEY)
        cursor.execute(f'CREATE INDEX "{OLD_EVENT}" ON "ingest_eventwait" ("event_id")')
        if connection.vendor == "postgresql":
            cursor.execute(
                f'CREATE INDEX "{OLD_LIKE}" ON "ingest_eventwait" ("key" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("ingest", "0009_lz4_compression")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="eventwait",
                    name="event",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waits",
                        to="ingest.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="eventwait",
                    name="key",
                    field=models.CharField(max_length=500),
                ),
                migrations.AddIndex(
                    model_name="eventwait",
                    index=models.Index(fields=["key"], name=NEW_KEY),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
