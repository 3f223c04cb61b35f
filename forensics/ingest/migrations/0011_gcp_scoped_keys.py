# A GCP audit entry's insertId is unique only among one project's entries with the same
# timestamp (Google's LogEntry reference), so its dedupe key now carries both: the entries
# of two projects that share an insertId are no longer taken for duplicates. This rewrites
# the keys already stored from the event's own columns (the project is its account), in the
# form forensics.engine.model.gcp_scoped_id gives, kept here as it was when written.

from django.db import migrations

CHUNK = 2000


def _scoped(insert_id, project, when):
    from datetime import UTC

    return f"gcp_audit:{insert_id}@{project}/{when.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"[:300]


def _plain(insert_id, project, when):
    return f"gcp_audit:{insert_id}"[:300]


def _rekey(apps, old_key, new_key):
    Event = apps.get_model("ingest", "Event")
    EventKey = apps.get_model("ingest", "EventKey")
    rows = (
        Event.objects.filter(source_kind="gcp_audit")
        .exclude(source_event_id="")
        .order_by("pk")
        .values_list("pk", "dedupe_key", "source_event_id", "actor_account", "event_time")
    )
    last = 0
    while chunk := list(rows.filter(pk__gt=last)[:CHUNK]):
        last = chunk[-1][0]
        moves = {}
        for pk, key, insert_id, project, when in chunk:
            if key == old_key(insert_id, project, when):
                moves[pk] = (key, new_key(insert_id, project, when))
        taken = set(
            EventKey.objects.filter(dedupe_key__in=[new for _, new in moves.values()]).values_list(
                "dedupe_key", flat=True
            )
        )
        kept = {}
        for pk, (old, new) in moves.items():
            if new in taken:  # only when going back: two projects' entries shared an id
                continue
            taken.add(new)
            kept[pk] = (old, new)
        moves = kept
        if not moves:
            continue
        Event.objects.bulk_update(
            [Event(pk=pk, dedupe_key=new) for pk, (_, new) in moves.items()],
            ["dedupe_key"],
            batch_size=500,
        )
        EventKey.objects.filter(dedupe_key__in=[old for old, _ in moves.values()]).delete()
        EventKey.objects.bulk_create([EventKey(dedupe_key=new) for _, new in moves.values()])


def forward(apps, schema_editor):
    _rekey(apps, _plain, _scoped)


def backward(apps, schema_editor):
    _rekey(apps, _scoped, _plain)


class Migration(migrations.Migration):
    dependencies = [("ingest", "0010_eventwait_indexes")]
    operations = [migrations.RunPython(forward, backward)]
