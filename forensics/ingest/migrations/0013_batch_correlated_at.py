# A batch is marked correlated once every event of it has an attribution, so that the
# pending filter looks for never-correlated events in the batches not marked only, from
# their earliest event on, instead of reading every event. Finished batches already
# correlated in full are marked here, in one statement.

from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.utils import timezone


def mark_correlated(apps, schema_editor):
    batch = apps.get_model("ingest", "IngestBatch")
    event = apps.get_model("ingest", "Event")
    attribution = apps.get_model("ingest", "Attribution")
    db = schema_editor.connection.alias
    has = attribution.objects.using(db).filter(event_id=OuterRef("pk"))
    lacking = event.objects.using(db).filter(batch_id=OuterRef("pk")).exclude(Exists(has))
    batch.objects.using(db).filter(status="done").exclude(Exists(lacking)).update(
        correlated_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("ingest", "0012_event_references_unconstrained")]

    operations = [
        migrations.AddField(
            model_name="ingestbatch",
            name="correlated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="ingestbatch",
            index=models.Index(
                condition=models.Q(("correlated_at", None)),
                fields=["id"],
                name="batch_uncorrelated_idx",
            ),
        ),
        migrations.RunPython(mark_correlated, migrations.RunPython.noop),
    ]
