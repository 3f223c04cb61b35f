"""Building evidence packs: select the events of a scope, stream them with their raw records,
the events behind every hop, the identities, the chain of custody, and sign the manifest."""

from __future__ import annotations

import hashlib
import os
import socket
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from forensics.cases.models import Case, CaseEvent, CaseIdentity
from forensics.core.roles import AUDITOR, has_role
from forensics.evidence import keys
from forensics.evidence.models import EvidencePack
from forensics.evidence.writer import PackWriter
from forensics.identities.models import Identity
from forensics.identities.trace import trace_json
from forensics.ingest.models import STATUS_PENDING, Event, IngestBatch, Source
from forensics.investigate.filtersets import EventFilterSet

CHUNK = 2000
# A pack stuck in "building" this long is taken for a dead worker's and may be built again;
# one still queued after STALE_QUEUED lost its message.
STALE_BUILD = timedelta(minutes=30)
STALE_QUEUED = timedelta(minutes=10)
# Query-string keys that page, sort or lay out a listing but do not select events.
NOT_FILTERS = {"after", "before", "sort", "page", "per_page", "columns", "csrfmiddlewaretoken"}
EVENT_FIELDS = (
    "source_kind",
    "source_event_id",
    "category",
    "action",
    "outcome",
    "actor_kind",
    "actor_account",
    "credential_used",
    "credential_issued",
    "issued_principal",
    "issue_method",
    "session_name",
    "source_identity",
    "request_id",
    "correlation_id",
    "source_address",
    "user_agent",
    "resource",
    "resource_type",
    "personal_data",
    "mfa",
    "attrs",
    "hops",
    "raw_sha256",
    "raw",
)

# The event's own columns a pack reads, and its attribution's (read through the join;
# an event never correlated has none, and reads as pending with no hops).
ROW_FIELDS = (
    "pk",
    "source_id",
    "batch_id",
    "event_time",
    "actor_principal",
    "position",
    "dedupe_key",
    *(f for f in EVENT_FIELDS if f != "hops"),
)
PENDING = {
    "status": STATUS_PENDING,
    "reason": "",
    "origin_id": None,
    "hops": [],
    "evidence": "",
    "chain_label": "",
    "explanation": "",
    "correlated_at": None,
}


def _rows(events: QuerySet[Event]) -> Iterator[dict[str, Any]]:
    """``values()`` rows of these events with their attribution's fields, in chunks."""
    rows = events.values(*ROW_FIELDS, **{f: F(f"attribution__{f}") for f in PENDING})
    for row in rows.iterator(chunk_size=CHUNK):
        if row["status"] is None:
            row.update(PENDING, hops=[])  # a list of its own, not one shared by every row
        yield row


class ScopeError(ValueError):
    """The scope names nothing, or its filters are invalid, or it holds too many events."""


# --- scopes -----------------------------------------------------------------------------


def filters_from(params: QueryDict) -> dict[str, list[str]]:
    """The event filters of a listing's query string, without its paging and sorting."""
    return {
        k: [v for v in values if v != ""]
        for k, values in params.lists()
        if k not in NOT_FILTERS and any(v != "" for v in values)
    }


def _filtered(filters: dict[str, list[str]], base: QuerySet[Event]) -> QuerySet[Event]:
    data = QueryDict(mutable=True)
    for key, values in filters.items():
        data.setlist(key, values)
    filterset = EventFilterSet(data, queryset=base)
    if not filterset.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items())
        raise ScopeError(f"invalid filters: {problems}")
    return filterset.qs


def subjects(kind: str, scope: dict[str, Any]) -> QuerySet[Event]:
    """The events a pack of ``kind`` over ``scope`` is about (hop evidence comes on top)."""
    if kind == EvidencePack.CASE:
        case_events = CaseEvent.objects.filter(case_id=scope.get("case")).values("event_id")
        return Event.objects.filter(pk__in=case_events)
    if kind == EvidencePack.TRACE:
        return Event.objects.filter(pk=scope.get("event"))
    if kind == EvidencePack.TIMELINE:
        base = Event.objects.filter(attribution__origin_id=scope.get("identity"))
        return _filtered(scope.get("filters") or {}, base)
    if kind == EvidencePack.QUERY:
        return _filtered(scope.get("filters") or {}, Event.objects.all())
    raise ScopeError(f"unknown pack kind {kind!r}")


def title_for(kind: str, scope: dict[str, Any]) -> str:
    """A readable name for the pack, e.g. 'case 3: Payroll read' or 'timeline of alice'."""
    if kind == EvidencePack.CASE:
        case = Case.objects.filter(pk=scope.get("case")).first()
        return f"case {scope.get('case')}: {case.title if case else '?'}"
    if kind == EvidencePack.TRACE:
        event = (
            Event.objects.select_related(None)
            .filter(pk=scope.get("event"))
            .only("action", "event_time")
            .first()
        )
        what = f"{event.action} at {event.event_time:%Y-%m-%d %H:%M:%S}" if event else "?"
        return f"trace of event {scope.get('event')}: {what}"
    chosen = sorted((scope.get("filters") or {}).items())
    filters = ", ".join(f"{k}={'|'.join(v)}" for k, v in chosen)
    if kind == EvidencePack.TIMELINE:
        identity = Identity.objects.filter(pk=scope.get("identity")).first()
        name = identity.name if identity else "?"
        return f"timeline of {name}" + (f" ({filters})" if filters else "")
    return f"events where {filters}" if filters else "all events"


def request_pack(
    user: AbstractBaseUser, kind: str, scope: dict[str, Any], *, queue: bool = True
) -> EvidencePack:
    """Record the request and (with ``queue``) queue the build on the exports queue.

    The caller has checked that ``user`` may read the scope; here it is checked that the
    scope selects something and is not too large, so the user hears it at once."""
    count = subjects(kind, scope).count()
    if count == 0:
        raise ScopeError("the scope holds no events")
    if count > settings.EVIDENCE_MAX_EVENTS:
        raise ScopeError(
            f"the scope holds {count:,} events, more than the {settings.EVIDENCE_MAX_EVENTS:,} "
            "a pack may hold (EVIDENCE_MAX_EVENTS): narrow the filters"
        )
    pack = EvidencePack.objects.create(
        kind=kind, scope=scope, title=title_for(kind, scope)[:300], requested_by=user
    )
    if queue:
        from forensics.evidence.tasks import build_pack

        transaction.on_commit(lambda: build_pack.delay(pack.pk))
    return pack


# --- building ---------------------------------------------------------------------------


def pack_path(pack: EvidencePack) -> Path:
    return Path(settings.EVIDENCE_DIR) / pack.filename


def claim(pack_id: int) -> bool:
    """Take a queued pack (or one a dead worker left building) for this worker."""
    now = timezone.now()
    return bool(
        EvidencePack.objects.filter(pk=pack_id)
        .filter(
            Q(status=EvidencePack.QUEUED)
            | Q(status=EvidencePack.BUILDING, started_at__lt=now - STALE_BUILD)
        )
        .update(status=EvidencePack.BUILDING, started_at=now, error="")
    )


def stale_packs() -> list[int]:
    """Packs whose message was lost or whose worker died, for the sweeper to send again."""
    now = timezone.now()
    return list(
        EvidencePack.objects.filter(
            Q(status=EvidencePack.QUEUED, requested_at__lt=now - STALE_QUEUED)
            | Q(status=EvidencePack.BUILDING, started_at__lt=now - STALE_BUILD)
        ).values_list("pk", flat=True)
    )


def build(pack_id: int) -> EvidencePack:
    """Build a claimed pack into EVIDENCE_DIR; a failure is recorded on the pack, never lost."""
    pack = EvidencePack.objects.select_related("requested_by").get(pk=pack_id)
    final = pack_path(pack)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
    try:
        with _snapshot():
            facts = _write(pack, partial)
        os.replace(partial, final)
    except ScopeError as exc:
        partial.unlink(missing_ok=True)
        return _fail(pack, str(exc))
    except Exception as exc:
        partial.unlink(missing_ok=True)
        _fail(pack, f"building the pack failed: {exc.__class__.__name__}: {exc}")
        raise
    pack.status = EvidencePack.READY
    pack.finished_at = timezone.now()
    pack.size = final.stat().st_size
    pack.sha256 = _file_sha256(final)
    for name, value in facts.items():
        setattr(pack, name, value)
    pack.save()
    return pack


@contextmanager
def _snapshot() -> Iterator[None]:
    """One read-only transaction that sees the store as it was when it began (PostgreSQL:
    repeatable read), so events, attributions, identities and custody agree with each other
    while ingest and correlation go on. SQLite's transaction is a snapshot already. Inside a
    caller's transaction the level is the caller's: it can no longer be changed."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _fail(pack: EvidencePack, error: str) -> EvidencePack:
    pack.status = EvidencePack.FAILED
    pack.error = error
    pack.finished_at = timezone.now()
    pack.save(update_fields=["status", "error", "finished_at"])
    return pack


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write(pack: EvidencePack, path: Path) -> dict[str, Any]:
    selected = subjects(pack.kind, pack.scope)
    count = selected.count()
    if count == 0:
        raise ScopeError("the scope holds no events (any more)")
    if count > settings.EVIDENCE_MAX_EVENTS:
        raise ScopeError(
            f"the scope holds {count:,} events, more than EVIDENCE_MAX_EVENTS "
            f"({settings.EVIDENCE_MAX_EVENTS:,})"
        )
    created_at = timezone.now()
    key = keys.signing_key()
    # The key as loaded once: the recorded fingerprint is the signer's, even if the file
    # were replaced during the build.
    fingerprint = keys.fingerprint_of(key)
    tally = _Tally()
    writer = PackWriter(path, created_at)
    try:
        written = writer.add_jsonl("events.jsonl", _event_rows(selected, tally))
        identities = _identities(pack, tally.origins)
        writer.add_json("identities.json", identities)
        writer.add_json("scope.json", _scope_document(pack))
        custody = _custody(pack, tally, created_at)
        writer.add_custody(custody)
        writer.add_verifier(_read_me(pack, fingerprint))
        manifest = writer.finish(
            {
                "pack_id": str(pack.pack_id),
                "kind": pack.kind,
                "title": pack.title,
                "scope": pack.scope,
                "requested_by": pack.requested_by.get_username(),
                "requested_at": _iso(pack.requested_at),
                "created_at": _iso(created_at),
                "producer": "forensics",
                "counts": {
                    "events": written,
                    "subjects": tally.subjects,
                    "personal_data": tally.personal_data,
                    "identities": len(identities),
                    "ingest_batches": len(tally.batches),
                },
                "attribution": dict(sorted(tally.statuses.items())),
            },
            key,
        )
    except BaseException:
        writer.abort()
        raise
    return {
        "events": written,
        "personal_data_events": tally.personal_data,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "key_fingerprint": fingerprint,
    }


class _Tally:
    """What the event stream saw, for the files written after it."""

    def __init__(self) -> None:
        self.subjects = 0
        self.personal_data = 0
        self.statuses: Counter[str] = Counter()
        self.origins: set[int] = set()
        self.batches: Counter[int] = Counter()
        self.correlated: list[datetime] = []

    def saw(self, event: dict[str, Any], role: str) -> None:
        self.subjects += role == "subject"
        self.personal_data += bool(event["personal_data"])
        if role == "subject":
            self.statuses[event["status"]] += 1
        if event["origin_id"] is not None:
            self.origins.add(event["origin_id"])
        self.batches[event["batch_id"]] += 1
        correlated = event["correlated_at"]
        if correlated is not None:
            if not self.correlated:
                self.correlated = [correlated, correlated]
            self.correlated[0] = min(self.correlated[0], correlated)
            self.correlated[1] = max(self.correlated[1], correlated)


def _event_rows(selected: QuerySet[Event], tally: _Tally) -> Iterator[dict[str, Any]]:
    """The scope's events in time order, then, round by round, every event a hop names that
    the pack does not hold yet (an issuing event's own hops may name older issuers)."""
    sources = dict(Source.objects.values_list("pk", "name"))
    included: set[int] = set()
    wanted: set[int] = set()
    rounds: Iterable[dict[str, Any]] = _rows(selected.order_by("event_time", "pk"))
    role = "subject"
    while True:
        for event in rounds:
            included.add(event["pk"])
            wanted.update(_hop_event_ids(event["hops"]))
            tally.saw(event, role)
            yield _event_row(event, role, sources)
        missing = sorted(wanted - included)
        if not missing:
            return
        wanted.clear()
        role = "hop_evidence"
        rounds = _by_ids(missing)


def _by_ids(ids: list[int]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield from _rows(Event.objects.filter(pk__any=chunk).order_by("event_time", "pk"))


def _hop_event_ids(hops: Any) -> Iterator[int]:
    for hop in hops or []:
        via = str(hop.get("via_event") or "") if isinstance(hop, dict) else ""
        if via.isdigit():
            yield int(via)


def _event_row(event: dict[str, Any], role: str, sources: dict[int, str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(event["pk"]),
        "role": role,
        "source": sources.get(event["source_id"], ""),
        "event_time": _iso(event["event_time"]),
        "principal": event["actor_principal"],
        "attribution": {
            "status": event["status"],
            "reason": event["reason"] or None,
            "origin": str(event["origin_id"]) if event["origin_id"] is not None else None,
            "evidence": event["evidence"] or None,
            "chain": event["chain_label"],
            "explanation": event["explanation"],
            "correlated_at": _iso(event["correlated_at"]),
        },
        "ingest": {
            "batch": event["batch_id"],
            "position": event["position"],
            "dedupe_key": event["dedupe_key"],
        },
    }
    for name in EVENT_FIELDS:
        row[name] = event[name]
    return row


def _identities(pack: EvidencePack, origins: set[int]) -> list[dict[str, Any]]:
    ids = set(origins)
    if pack.kind == EvidencePack.CASE:
        ids.update(
            CaseIdentity.objects.filter(case_id=pack.scope.get("case")).values_list(
                "identity_id", flat=True
            )
        )
    if pack.kind == EvidencePack.TIMELINE and pack.scope.get("identity"):
        ids.add(int(pack.scope["identity"]))
    rows = Identity.objects.filter(pk__in=ids).select_related("owner").prefetch_related("aliases")
    return [
        {
            "id": str(i.pk),
            "name": i.name,
            "kind": i.kind,
            "shared": i.shared,
            "owner": {"id": str(i.owner_id), "name": i.owner.name} if i.owner else None,
            "aliases": sorted(f"{a.namespace}:{a.value}" for a in i.aliases.all()),
        }
        for i in sorted(rows, key=lambda i: i.pk)
    ]


def _scope_document(pack: EvidencePack) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": pack.kind, "scope": pack.scope, "title": pack.title}
    if pack.kind == EvidencePack.CASE:
        case = Case.objects.select_related("created_by").get(pk=pack.scope["case"])
        doc["case"] = {
            "id": case.pk,
            "title": case.title,
            "description": case.description,
            "status": case.status,
            "created_by": case.created_by.get_username(),
            "created_at": _iso(case.created_at),
            "members": sorted(u.get_username() for u in case.members.all()),
            "notes": [
                {"author": n.author.get_username(), "at": _iso(n.at), "text": n.text}
                for n in case.notes.select_related("author")
            ],
        }
    if pack.kind == EvidencePack.TRACE:
        event = Event.objects.select_related("attribution__origin").get(pk=pack.scope["event"])
        doc["trace"] = trace_json(event)
    return doc


def _custody(pack: EvidencePack, tally: _Tally, created_at: datetime) -> list[dict[str, Any]]:
    """From each source file's arrival to this pack: who handed what over, when."""
    entries: list[dict[str, Any]] = []
    batches = IngestBatch.objects.filter(pk__in=list(tally.batches)).select_related(
        "source", "submitted_by"
    )
    for batch in batches:
        by = batch.submitted_by.get_username() if batch.submitted_by else ""
        if not by and batch.submitted_token_hint:
            by = f"ingest token {batch.submitted_token_hint}…"
        entries.append(
            {
                "at": _iso(batch.created_at),
                "action": "file received",
                "batch": batch.pk,
                "source": batch.source.name,
                "via": batch.via,
                "by": by,
                "file": batch.filename,
                "file_sha256": batch.sha256,
                "bytes": batch.size,
            }
        )
        entries.append(
            {
                "at": _iso(batch.finished_at or batch.started_at or batch.created_at),
                "action": "file ingested",
                "batch": batch.pk,
                "format": batch.detected_format,
                "received": batch.received,
                "stored": batch.stored,
                "duplicates": batch.duplicates,
                "quarantined": batch.quarantined,
                "events_in_pack": tally.batches[batch.pk],
            }
        )
    if tally.correlated:
        first, last = tally.correlated
        entries.append(
            {
                "at": _iso(last),
                "action": "attributions last changed",
                "first_correlated_at": _iso(first),
            }
        )
    entries.sort(key=lambda e: (e["at"] or "", e.get("batch") or 0))
    entries.append(
        {
            "at": _iso(pack.requested_at),
            "action": "pack requested",
            "by": pack.requested_by.get_username(),
            "pack_id": str(pack.pack_id),
        }
    )
    entries.append(
        {
            "at": _iso(created_at),
            "action": "pack built and signed",
            "by": f"exports worker on {socket.gethostname()}",
            "pack_id": str(pack.pack_id),
        }
    )
    return entries


def _read_me(pack: EvidencePack, fingerprint: str) -> str:
    return f"""Evidence pack {pack.pack_id}
{pack.title}
Requested by {pack.requested_by.get_username()} at {_iso(pack.requested_at)}.

Files
  manifest.json   what the pack holds, every file's SHA-256 and size, the signing key
  manifest.sig    Ed25519 signature of manifest.json's exact bytes (base64)
  events.jsonl    one event per line: normalized fields, attribution with every hop and its
                  evidence kind, and the raw record exactly as the producer wrote it
                  ("role": "subject" for the events in scope, "hop_evidence" for the
                  events that back a hop)
  identities.json the origin identities, with their aliases and owners
  scope.json      what was asked for (case, trace, timeline or query) and its details
  custody.jsonl   chain of custody, each entry holding the SHA-256 of the entry before it
  verify.py       the verifier (Python 3 and the 'cryptography' package)

Verify, offline, with a verifier you trust:
  python verify.py {pack.filename} --trust {fingerprint}

The signing key's fingerprint is {fingerprint}; check it against the one your
dashboard's administrators publish.
"""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def signing_keys() -> list[str]:
    """Fingerprints of every key that signed a pack here (the current one first, when this
    machine holds it): a pack signed before the key was changed is still this dashboard's."""
    current = keys.existing_fingerprint()
    used = (
        EvidencePack.objects.filter(status=EvidencePack.READY)
        .exclude(key_fingerprint="")
        .values_list("key_fingerprint", flat=True)
        .distinct()
    )
    return list(dict.fromkeys([*([current] if current else []), *sorted(used)]))


def visible_packs(user: AbstractBaseUser) -> QuerySet[EvidencePack]:
    """Auditors see every pack; anyone else only the packs they asked for."""
    packs = EvidencePack.objects.select_related("requested_by")
    return packs if has_role(user, AUDITOR) else packs.filter(requested_by=user)
