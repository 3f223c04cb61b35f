# Who touched a resource, what came from an address: indexes for the resource page, the
# search box and the explorer's address filter, newest first.

from django.db import migrations, models

import forensics.ingest.models


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0001_initial"),
        ("ingest", "0005_stage_precedence"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                forensics.ingest.models.ResourceKey("resource"),
                models.F("event_time"),
                condition=models.Q(("resource", ""), _negated=True),
                name="event_resource_time_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["source_address", "event_time"], name="event_address_time_idx"
            ),
        ),
    ]
