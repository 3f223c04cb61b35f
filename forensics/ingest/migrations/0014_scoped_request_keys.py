# Two kinds of stored keys could take distinct events for duplicates:
# - a Kubernetes auditID alone: the API server takes it from the client's Audit-ID header when
#   one is sent, so two requests can share it. The key now also carries a digest of the
#   request's user, action and resource (what all the stages of one request share);
# - an event id that is a placeholder ("redacted", "xxxxxxxx-...", a nil UUID) that sanitized
#   exports write: the key is now the raw record's hash, as for a record with no id.
# This rewrites the keys already stored, from the event's own columns, in the forms
# forensics.engine.model gives, kept here as they were when written. A key claim keeps its
# precedence (a Kubernetes record's stage rank).

import hashlib
import re

from django.db import migrations

CHUNK = 2000
PLACEHOLDER = re.compile(
    r"[\W_]*(?:redacted|hidden_due_to_security_reasons|null|none|n/?a|unknown|[x0*#?-]+)?[\W_]*",
    re.IGNORECASE,
)
COLUMNS = ("pk", "dedupe_key", "source_kind", "source_event_id", "raw_sha256")
SCOPE_COLUMNS = ("actor_principal", "action", "resource", "actor_account", "event_time")


def _k8s_key(audit_id, principal, action, resource):
    request = hashlib.sha256("\x1f".join((principal, action, resource)).encode()).hexdigest()
    return f"k8s_audit:{audit_id}@{request[:16]}"[:300]


def _id_key(kind, event_id, account, when):
    if kind == "gcp_audit":
        from datetime import UTC

        return f"gcp_audit:{event_id}@{account}/{when.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"[:300]
    return f"{kind}:{event_id}"[:300]


def _new_key(kind, event_id, raw_sha, principal, action, resource, account, when):
    if PLACEHOLDER.fullmatch(event_id):
        return f"{kind}:sha256:{raw_sha}"
    if kind == "k8s_audit":
        return _k8s_key(event_id, principal, action, resource)
    return None


def _old_key(kind, event_id, raw_sha, principal, action, resource, account, when):
    if PLACEHOLDER.fullmatch(event_id) or kind == "k8s_audit":
        return _id_key(kind, event_id, account, when)
    return None


def _rekey(apps, schema_editor, old_key, new_key):
    db = schema_editor.connection.alias
    Event = apps.get_model("ingest", "Event")
    EventKey = apps.get_model("ingest", "EventKey")
    rows = Event.objects.using(db).exclude(source_event_id="").order_by("pk")
    last = 0
    while chunk := list(rows.filter(pk__gt=last).values_list(*COLUMNS, *SCOPE_COLUMNS)[:CHUNK]):
        last = chunk[-1][0]
        moves = {}
        for pk, key, *values in chunk:
            old, new = old_key(*values), new_key(*values)
            if new is not None and key == old and old != new:
                moves[pk] = (old, new)
        if not moves:
            continue
        claims = EventKey.objects.using(db)
        precedence = dict(
            claims.filter(dedupe_key__in=[old for old, _ in moves.values()]).values_list(
                "dedupe_key", "precedence"
            )
        )
        taken = set(
            claims.filter(dedupe_key__in=[new for _, new in moves.values()]).values_list(
                "dedupe_key", flat=True
            )
        )
        kept = {}
        for pk, (old, new) in moves.items():
            # Taken only when going back: requests that now have keys of their own shared
            # one before, and only one of them could hold it.
            if new in taken:
                continue
            taken.add(new)
            kept[pk] = (old, new)
        if not kept:
            continue
        Event.objects.using(db).bulk_update(
            [Event(pk=pk, dedupe_key=new) for pk, (_, new) in kept.items()],
            ["dedupe_key"],
            batch_size=500,
        )
        claims.filter(dedupe_key__in=[old for old, _ in kept.values()]).delete()
        claims.bulk_create(
            [EventKey(dedupe_key=new, precedence=precedence.get(old)) for old, new in kept.values()]
        )


def forward(apps, schema_editor):
    _rekey(apps, schema_editor, _old_key, _new_key)


def backward(apps, schema_editor):
    _rekey(apps, schema_editor, _new_key, _old_key)


class Migration(migrations.Migration):
    dependencies = [("ingest", "0013_batch_correlated_at")]
    operations = [migrations.RunPython(forward, backward)]
