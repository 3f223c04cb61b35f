# Attribution moves out of the event row into a narrow table of its own: re-attributing an
# event rewrote the whole event row and every one of its indexes. The results stored so far
# are copied over (an event never correlated gets no row: it is pending), then the event's
# columns are dropped. On a large store this rewrites the attribution of every event once.

import django.db.models.deletion
from django.db import migrations, models

import forensics.ingest.models


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0001_initial"),
        ("ingest", "0007_batch_time_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="Attribution",
            fields=[
                ("event_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("event_time", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("attributed", "attributed"),
                            ("ambiguous", "ambiguous"),
                            ("unattributed", "unattributed"),
                        ],
                        default="pending",
                        max_length=12,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=32)),
                ("hops", models.JSONField(default=list)),
                (
                    "evidence",
                    models.CharField(blank=True, help_text="weakest hop evidence", max_length=10),
                ),
                ("chain_label", models.CharField(blank=True, max_length=500)),
                ("explanation", models.TextField(blank=True)),
                ("correlated_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name="attribution",
            name="origin",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="attributions",
                to="identities.identity",
            ),
        ),
        migrations.RunSQL(
            "INSERT INTO ingest_attribution (event_id, event_time, status, reason, origin_id, "
            "hops, evidence, chain_label, explanation, correlated_at) "
            "SELECT id, event_time, status, reason, origin_id, hops, evidence, chain_label, "
            "explanation, correlated_at FROM ingest_event WHERE correlated_at IS NOT NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_origin_time_idx",
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_status_time_idx",
        ),
        migrations.RemoveField(
            model_name="event",
            name="chain_label",
        ),
        migrations.RemoveField(
            model_name="event",
            name="correlated_at",
        ),
        migrations.RemoveField(
            model_name="event",
            name="evidence",
        ),
        migrations.RemoveField(
            model_name="event",
            name="explanation",
        ),
        migrations.RemoveField(
            model_name="event",
            name="hops",
        ),
        migrations.RemoveField(
            model_name="event",
            name="origin",
        ),
        migrations.RemoveField(
            model_name="event",
            name="reason",
        ),
        migrations.RemoveField(
            model_name="event",
            name="status",
        ),
        # A relation without a column: nothing to do in the database (and SQLite's schema
        # editor cannot remove such a field when the migration is reversed).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="event",
                    name="attribution",
                    field=forensics.ingest.models.AttributionRelation(
                        from_fields=["id"],
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="ingest.attribution",
                        to_fields=["event_id"],
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="attribution",
            index=models.Index(
                fields=["origin", "event_time", "event_id"], name="attribution_origin_time_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="attribution",
            index=models.Index(
                fields=["status", "event_time", "event_id"], name="attribution_status_time_idx"
            ),
        ),
    ]
