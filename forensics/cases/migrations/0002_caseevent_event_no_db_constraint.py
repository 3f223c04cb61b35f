# The event table becomes partitioned on PostgreSQL (ingest 0003), where no unique index on
# id alone exists for a foreign key to point at; Django still applies PROTECT.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("ingest", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseevent",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="ingest.event",
            ),
        ),
    ]
