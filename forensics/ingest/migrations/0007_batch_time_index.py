# The batch foreign key's own index gives way to (batch, event_time), which serves the same
# lookups and also a batch's newest event. Only the index changes: altering the field would
# drop and re-add the foreign key, checking every stored event again.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0001_initial"),
        ("ingest", "0006_resource_address_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="batch",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="ingest.ingestbatch",
                    ),
                ),
            ],
            database_operations=[
                # The name Django gave the foreign key's index (the same on every backend).
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "ingest_event_batch_id_55d3d8cb"',
                    reverse_sql='CREATE INDEX "ingest_event_batch_id_55d3d8cb" '
                    'ON "ingest_event" ("batch_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["batch", "event_time"], name="event_batch_time_idx"),
        ),
    ]
