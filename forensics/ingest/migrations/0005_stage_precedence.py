# A Kubernetes request logged at several stages shares one dedupe key; the store keeps the
# record that got furthest (see forensics.engine.precedence). Each such key records the
# stored record's precedence, filled here for the events already stored. The ranks are
# written out here, not imported, so that this migration does what it did when it was written.

from django.db import migrations, models

STAGE_RANKS = {"RequestReceived": 0, "ResponseStarted": 1, "ResponseComplete": 2, "Panic": 2}
TERMINAL = 2
CHUNK = 2000


def fill_precedence(apps, schema_editor):
    Event = apps.get_model("ingest", "Event")
    rows = (
        Event.objects.using(schema_editor.connection.alias)
        .filter(source_kind="k8s_audit")
        .values_list("dedupe_key", "attrs", "raw_sha256")
        .iterator(chunk_size=CHUNK)
    )
    update = "UPDATE ingest_eventkey SET precedence = %s WHERE dedupe_key = %s"
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for key, attrs, sha in rows:
            stage = (attrs or {}).get("audit_stage")
            rank = STAGE_RANKS.get(stage, TERMINAL) if isinstance(stage, str) else TERMINAL
            batch.append((f"{rank}:{sha}", key))
            if len(batch) >= CHUNK:
                cursor.executemany(update, batch)
                batch = []
        if batch:
            cursor.executemany(update, batch)


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0004_event_origin_single_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="eventkey",
            name="precedence",
            field=models.CharField(blank=True, max_length=80, null=True),
        ),
        migrations.AddField(
            model_name="ingestbatch",
            name="replaced",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(fill_precedence, migrations.RunPython.noop),
    ]
