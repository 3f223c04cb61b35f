# Dedupe keys move to their own table (EventKey), so that the event table can be partitioned
# by month on PostgreSQL (0003) while a key stays unique across all months.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventKey",
            fields=[
                (
                    "dedupe_key",
                    models.CharField(max_length=300, primary_key=True, serialize=False),
                ),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO ingest_eventkey (dedupe_key) SELECT DISTINCT dedupe_key FROM ingest_event",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="event",
            name="dedupe_key",
            field=models.CharField(max_length=300),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["dedupe_key"], name="event_dedupe_key_idx"),
        ),
        # A partitioned table has no unique index on id alone for a foreign key to point at;
        # Django still applies on_delete.
        migrations.AlterField(
            model_name="eventwait",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="waits",
                to="ingest.event",
            ),
        ),
        migrations.AlterField(
            model_name="quarantinedrecord",
            name="resolved_event",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="ingest.event",
            ),
        ),
    ]
