"""The event store: sources, ingest batches, normalized events and quarantined records."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, Subquery
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.db.models.sql.constants import INNER
from django.db.models.sql.where import WhereNode
from django.utils import timezone

from forensics.engine import model as em
from forensics.engine.precedence import precedence as record_precedence
from forensics.ingest import partitions


class Source(models.Model):
    """Where logs come from (an AWS organisation trail, an Okta org, a cluster...)."""

    AUTO = "auto"
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(
        max_length=32, default=AUTO, help_text="Log format; 'auto' detects it per file."
    )
    description = models.TextField(blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_hint = models.CharField(max_length=16, blank=True, editable=False)
    token_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue_token(self) -> str:
        """Make a new ingest token; only its hash is kept. Returns the token, shown once."""
        token = "fsk_" + secrets.token_urlsafe(32)
        self.token_hash = self.hash_token(token)
        self.token_hint = token[:8]
        self.token_created_at = timezone.now()
        self.save(update_fields=["token_hash", "token_hint", "token_created_at"])
        return token

    def token_matches(self, token: str) -> bool:
        return bool(self.token_hash) and hmac.compare_digest(
            self.token_hash, self.hash_token(token)
        )


class IngestBatch(models.Model):
    """One submitted file: its raw bytes on disk and what became of every record."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]
    CLI, UPLOAD, API = "cli", "upload", "api"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    via = models.CharField(max_length=8, choices=[(v, v) for v in (CLI, UPLOAD, API)])
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    submitted_token_hint = models.CharField(max_length=16, blank=True)
    filename = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    requested_format = models.CharField(max_length=32, default=Source.AUTO)
    detected_format = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED, db_index=True)
    received = models.IntegerField(default=0)
    stored = models.IntegerField(default=0)
    duplicates = models.IntegerField(default=0)
    quarantined = models.IntegerField(default=0)
    # Of the duplicates, those that replaced the stored record of their event (a later stage
    # of a Kubernetes request): counted as duplicates, since no event was added.
    replaced = models.IntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    touched_at = models.DateTimeField(null=True, blank=True, help_text="last sign of progress")
    # When every event of this finished batch was found with an attribution (pending ones
    # too): events never correlated are in batches without one (see ``earliest_pending``).
    correlated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["id"], name="batch_uncorrelated_idx", condition=Q(correlated_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.filename})"

    @property
    def summary(self) -> str:
        line = (
            f"received {self.received}, stored {self.stored}, "
            f"duplicates {self.duplicates}, quarantined {self.quarantined}"
        )
        return f"{line}; replaced {self.replaced}" if self.replaced else line

    @property
    def finished(self) -> bool:
        return self.status in {self.DONE, self.FAILED}

    @property
    def progress_percent(self) -> int:
        if self.finished:
            return 100
        return int(100 * self.bytes_done / self.size) if self.size else 0


CATEGORY_CHOICES = [(c, c.replace("_", " ")) for c in em.CATEGORIES]
STATUS_PENDING, STATUS_ATTRIBUTED, STATUS_AMBIGUOUS, STATUS_UNATTRIBUTED = (
    "pending",
    "attributed",
    "ambiguous",
    "unattributed",
)
STATUS_VALUES = (STATUS_PENDING, STATUS_ATTRIBUTED, STATUS_AMBIGUOUS, STATUS_UNATTRIBUTED)
ATTRIBUTION_STATUSES = [(s, s) for s in STATUS_VALUES]


class EventKey(models.Model):
    """The claim on a dedupe key: an event is stored only by the insert that claims its key.

    On PostgreSQL the event table is partitioned by month, and a unique index there must
    include event_time; the same record can come back with another time (a Kubernetes audit
    record's stages share one auditID), so uniqueness of the key alone lives here.

    ``precedence`` is set for keys whose records can differ (see engine.precedence): the
    stored event's, compared with an arriving record's under this row's lock. Null for every
    other key, which is then never replaced.
    """

    dedupe_key = models.CharField(max_length=300, primary_key=True)
    # Null, not "": a plain claim writes the key alone, and null never compares as lower.
    precedence = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001

    def __str__(self) -> str:
        return self.dedupe_key


# An event without an attribution (never correlated). Stated on the attribution's own
# non-null column: "attribution__isnull" would test the event's id, the relation's local
# column, which is never null, and so match nothing.
UNCORRELATED = Q(attribution__status__isnull=True)


def status_is(*statuses: str) -> Q:
    """Events whose attribution has one of these statuses; pending takes in the events never
    correlated, which have none.

    With pending, it is asked as "no attribution with another status". Asked as "a status
    among these, or none" on the outer join, PostgreSQL took the missing rows for as rare
    as null statuses in the attribution table: it read and joined every event before
    sorting for the first page (2.9 s at 1.1 million events), where an anti-join reads the
    events newest first and stops at a page (0.23 s)."""
    if STATUS_PENDING not in statuses:
        return Q(attribution__status__in=statuses)
    others = Attribution.objects.filter(event_id=OuterRef("pk")).exclude(status__in=statuses)
    return ~Q(Exists(others))


def earliest_pending(using: str | None = None) -> datetime | None:
    """The earliest time a pending event can have; None when no event is pending.

    A pending event has an attribution stored as pending, or none: never correlated. Those
    are all in batches not found correlated (``mark_correlated``), whose earliest events
    the batch-and-time index gives at once. So the pending filter reads the events from
    this time on only: in a store that is all correlated, a few recent batches' worth,
    where it read every event to find the few pending ones (2.7 s at 1.1 million)."""
    db = using or router.db_for_read(Event)
    first = (
        Event.objects.using(db)
        .select_related(None)
        .filter(batch_id=OuterRef("pk"))
        .order_by("event_time")
        .values("event_time")[:1]
    )
    never = (
        IngestBatch.objects.using(db)
        .filter(correlated_at=None)
        .order_by()
        .annotate(first=Subquery(first))
        .aggregate(earliest=Min("first"))["earliest"]
    )
    waiting = (
        Attribution.objects.using(db)
        .filter(status=STATUS_PENDING)
        .order_by("event_time")
        .values_list("event_time", flat=True)
        .first()
    )
    return min((t for t in (never, waiting) if t is not None), default=None)


def mark_correlated(
    batch_ids: Iterable[int], *, all_read: bool = False, using: str | None = None
) -> int:
    """Mark these batches correlated where every event of theirs has an attribution; returns
    how many were marked. Only finished batches (done) are: one still running may get more
    events. A marked batch stays so: an event only loses its attribution when a record of a
    running batch replaces its own, and the event then moves into that batch.

    ``all_read``: the caller took these batch ids while they were done, then correlated
    every event they held (a done batch gets no more), so there is nothing to look at.
    Otherwise each batch's events are checked for an attribution, one index probe each."""
    db = using or router.db_for_write(IngestBatch)
    ids = sorted(set(batch_ids))
    marked = 0
    for start in range(0, len(ids), 1000):
        batches = IngestBatch.objects.using(db).filter(
            pk__in=ids[start : start + 1000], status=IngestBatch.DONE, correlated_at=None
        )
        if not all_read:
            has = Attribution.objects.using(db).filter(event_id=OuterRef("pk"))
            lacking = (
                Event.objects.using(db)
                .select_related(None)
                .filter(batch_id=OuterRef("pk"))
                .exclude(Exists(has))
            )
            batches = batches.exclude(Exists(lacking))
        marked += batches.update(correlated_at=timezone.now())
    return marked


def uncorrelated_batch_ids(among: Iterable[int] | None = None) -> list[int]:
    """The finished batches (of ``among``, if given) not yet marked correlated."""
    batches = IngestBatch.objects.filter(correlated_at=None, status=IngestBatch.DONE)
    if among is not None:
        batches = batches.filter(pk__in=list(among))
    return list(batches.order_by().values_list("pk", flat=True))


def status_is_not(*statuses: str) -> Q:
    """Events whose attribution has none of these statuses."""
    match = ~UNCORRELATED & ~Q(attribution__status__in=statuses)
    return match if STATUS_PENDING in statuses else match | UNCORRELATED


def joins_attribution(qs: models.QuerySet[Event]) -> bool:
    """Whether every event ``qs`` holds has an attribution: the query joins it for a filter
    on one of its fields (an INNER JOIN). Such a query is best ordered by the attribution's
    time and event id, the same values as the event's, which its indexes keep in order."""
    table = Attribution._meta.db_table
    return any(
        getattr(join, "table_name", None) == table and join.join_type == INNER
        for join in qs.query.alias_map.values()
    )


# A resource is free text of any length, so its index holds only its first characters: a
# btree entry must stay under about 2,700 bytes, and a character takes up to 4.
RESOURCE_KEY_CHARS = 500


class ResourceKey(models.Func):
    """The indexed prefix of a resource. The length is written out, not a query parameter:
    SQLite matches a query's expression to an index's only when they are the same text."""

    template = f"SUBSTR(%(expressions)s, 1, {RESOURCE_KEY_CHARS})"
    output_field = models.TextField()


class EventQuerySet(models.QuerySet["Event"]):
    """Keeps every stored event's key claimed and its month partition present."""

    # The attribution statuses this query's events can have, as ``with_status`` narrowed
    # them (None: any). Carried along as the query is refined.
    _statuses: tuple[str, ...] | None = None

    def _clone(self) -> EventQuerySet:
        clone = super()._clone()  # type: ignore[misc]
        clone._statuses = self._statuses
        return clone

    def possible_statuses(self) -> tuple[str, ...]:
        """The statuses this query's events can have, in their sort order; a status that a
        filter other than ``with_status`` rules out may still be named."""
        statuses = self._statuses if self._statuses is not None else STATUS_VALUES
        return tuple(sorted(statuses))

    def touching(self, *resources: str) -> EventQuerySet:
        """The events on exactly one of these resources, read through the resource index
        (event_resource_time_idx): a filter on the resource alone reads every event."""
        wanted = sorted({r for r in resources if r})
        if not wanted:
            return self.none()
        keys = sorted({r[:RESOURCE_KEY_CHARS] for r in wanted})
        qs = self.alias(resource_key=ResourceKey("resource")).exclude(resource="")
        if len(wanted) == 1:
            # Not "resource = x": SQLite would put x in place of the column in the indexed
            # expression too (constant propagation) and then no longer read the index.
            return qs.filter(resource_key=keys[0], resource__range=(wanted[0], wanted[0]))
        return qs.filter(resource_key__in=keys, resource__in=wanted)

    def carrying(self, value: str, *columns: str) -> EventQuerySet:
        """The events with ``value`` in one of these columns (indexed where not empty). The
        condition is stated outright: SQLite reads a partial index only for a query that
        repeats its WHERE term, and PostgreSQL proves it for short lists only."""
        if not value:
            return self.none()
        match = Q()
        for column in columns:
            match |= Q(**{column: value}) & ~Q(**{column: ""})
        return self.filter(match)

    def bulk_create(self, objs: Iterable[Event], *args: Any, **kwargs: Any) -> list[Event]:
        """Claim the events' keys, make their months' partitions, then insert them."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError("events skip duplicates through store.insert_events")
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            partitions.ensure_for_times([o.event_time for o in objs], self.db)
            EventKey.objects.using(self.db).bulk_create(
                [EventKey(dedupe_key=o.dedupe_key, precedence=o.precedence()) for o in objs],
                batch_size=kwargs.get("batch_size"),
            )
            return super().bulk_create(objs, *args, **kwargs)

    def with_status(self, *statuses: str) -> EventQuerySet:
        """The events whose attribution has one of these statuses. The pending ones alone
        are read from the earliest time one can have (``earliest_pending``) on."""
        qs = self.filter(status_is(*statuses))
        if set(statuses) == {STATUS_PENDING}:
            earliest = earliest_pending(self.db)
            qs = qs.none() if earliest is None else qs.filter(event_time__gte=earliest)
        before = self.possible_statuses()
        qs._statuses = tuple(s for s in statuses if s in before)
        return qs

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the events with their attributions, and release their keys, so the same
        records can be stored again."""
        with transaction.atomic(using=self.db, savepoint=False):
            rows = list(self.values_list("pk", "dedupe_key"))
            deleted = super().delete()
            for start in range(0, len(rows), 500):
                ids, keys = zip(*rows[start : start + 500], strict=True)
                EventKey.objects.using(self.db).filter(dedupe_key__in=keys).delete()
                Attribution.objects.using(self.db).filter(event_id__in=ids).delete()
        return deleted

    delete.alters_data = True
    delete.queryset_only = True


class Attribution(models.Model):
    """An event's attribution, as correlation last stored it (see identities.services).

    Kept apart from the event: the event row is the evidence, written once, and stays as it
    was stored, while re-attributing an event rewrites this narrow row and its indexes
    instead of the wide event row and every one of its indexes. An event without one has
    not been correlated yet: it is pending.
    """

    # The event's id and time; no database constraint, as for EventWait.event.
    event_id = models.BigIntegerField(primary_key=True)
    event_time = models.DateTimeField()
    status = models.CharField(max_length=12, choices=ATTRIBUTION_STATUSES, default=STATUS_PENDING)
    reason = models.CharField(max_length=32, blank=True)
    # No index of its own: attribution_origin_time_idx leads with it.
    origin = models.ForeignKey(
        "identities.Identity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributions",
        db_index=False,
    )
    hops = models.JSONField(default=list)
    evidence = models.CharField(max_length=10, blank=True, help_text="weakest hop evidence")
    chain_label = models.CharField(max_length=500, blank=True)
    explanation = models.TextField(blank=True)
    # When the result last changed; None on the pending stand-in of an event never correlated.
    correlated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # An identity's timeline and the queue, newest first, in the events' order.
            models.Index(
                fields=["origin", "event_time", "event_id"], name="attribution_origin_time_idx"
            ),
            models.Index(
                fields=["status", "event_time", "event_id"], name="attribution_status_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.status}"


class AttributionRelation(models.ForeignObject):
    """An event's join to its attribution: the same id, and the same time, stated as a range.

    With the time in the join, a lookup reads the event's month's partition only. Stated as
    an equality it would make PostgreSQL take two correlated join conditions for independent
    ones and expect a single row from joining an identity's thousands of attributions to
    their events, and then sort them all rather than read the attribution index in time
    order and stop at a page. (Sorted by the attribution's time, which is the event's, a page
    of a timeline or of the queue is read straight off that index.)
    """

    def get_extra_restriction(self, alias: str, related_alias: str) -> WhereNode:
        attribution_time = Attribution._meta.get_field("event_time").get_col(alias)
        event_time = self.model._meta.get_field("event_time").get_col(related_alias)
        return WhereNode(
            [
                GreaterThanOrEqual(event_time, attribution_time),
                LessThanOrEqual(event_time, attribution_time),
            ]
        )

    def get_extra_descriptor_filter(self, instance: models.Model) -> dict[str, Any]:
        return {"event_time": getattr(instance, "event_time", None)}


# The attribution's fields an event reads through (event.status, event.origin, ...).
RESULT_FIELDS = (
    "status",
    "reason",
    "origin",
    "origin_id",
    "hops",
    "evidence",
    "chain_label",
    "explanation",
    "correlated_at",
)


class AttributionField:
    """An attribution field read through its event: ``event.status`` is
    ``event.result.status``. To filter or sort by one, name it through the relation
    (``attribution__status``), or use EventQuerySet.with_status for a status."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, event: Event | None, owner: type | None = None) -> Any:
        if event is None:
            return self
        return getattr(event.result, self.name)


class EventManager(models.Manager["Event"]):
    def get_queryset(self) -> models.QuerySet[Event]:
        # Every page that lists events shows their attribution: read it in the same query.
        # (A query with only() or defer() drops it first: select_related(None).)
        return super().get_queryset().select_related("attribution")


class Event(models.Model):
    """One normalized record, with its raw original kept byte-exact, and its attribution."""

    # Neither reference is a database constraint: one is checked for every stored row at
    # commit (a lookup and a share lock on the batch row), about a quarter of what storing an
    # event costs the database. Ingest writes a batch's row before its events, and PROTECT
    # (enforced by Django) keeps a batch or source that has events (migration 0012).
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="events", db_constraint=False
    )
    # Indexed with event_time (event_batch_time_idx), which also answers a batch's newest event.
    batch = models.ForeignKey(
        IngestBatch,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    # Unique through EventKey, not here: see EventKey.
    dedupe_key = models.CharField(max_length=300)
    source_kind = models.CharField(max_length=32)
    source_event_id = models.CharField(max_length=200, blank=True)
    event_time = models.DateTimeField()
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES)
    action = models.CharField(max_length=300)
    outcome = models.CharField(max_length=10)
    actor_principal = models.CharField(max_length=500, blank=True)
    actor_kind = models.CharField(max_length=24)
    actor_account = models.CharField(max_length=200, blank=True)
    credential_used = models.CharField(max_length=300, blank=True)
    credential_issued = models.CharField(max_length=300, blank=True)
    issued_principal = models.CharField(max_length=500, blank=True)
    issue_method = models.CharField(max_length=24, blank=True)
    session_name = models.CharField(max_length=300, blank=True)
    source_identity = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=200, blank=True)
    source_address = models.CharField(max_length=200, blank=True)
    user_agent = models.TextField(blank=True)
    resource = models.TextField(blank=True)
    resource_type = models.CharField(max_length=100, blank=True)
    personal_data = models.BooleanField(default=False)
    mfa = models.BooleanField(null=True)
    attrs = models.JSONField(default=dict)
    # Copies of two attrs the correlation looks events up by, as indexed columns.
    assumed_role_id = models.CharField(max_length=200, blank=True)
    shared_event_id = models.CharField(max_length=100, blank=True)
    raw = models.TextField()
    raw_sha256 = models.CharField(max_length=64)
    position = models.CharField(max_length=80, blank=True)

    # Its attribution (none until the event is first correlated); the fields read through
    # it are below.
    attribution = AttributionRelation(
        "ingest.Attribution",
        on_delete=models.DO_NOTHING,
        from_fields=["id"],
        to_fields=["event_id"],
        null=True,
        related_name="+",
    )
    status = AttributionField()
    reason = AttributionField()
    origin = AttributionField()
    origin_id = AttributionField()
    hops = AttributionField()
    evidence = AttributionField()
    chain_label = AttributionField()
    explanation = AttributionField()
    correlated_at = AttributionField()

    objects = EventManager.from_queryset(EventQuerySet)()

    class Meta:
        indexes = [
            models.Index(fields=["event_time"], name="event_time_idx"),
            models.Index(fields=["dedupe_key"], name="event_dedupe_key_idx"),
            models.Index(
                fields=["credential_used"],
                name="event_cred_used_idx",
                condition=~Q(credential_used=""),
            ),
            models.Index(
                fields=["credential_issued"],
                name="event_cred_issued_idx",
                condition=~Q(credential_issued=""),
            ),
            models.Index(
                fields=["issued_principal"],
                name="event_issued_principal_idx",
                condition=~Q(issued_principal=""),
            ),
            models.Index(
                fields=["correlation_id"],
                name="event_correlation_idx",
                condition=~Q(correlation_id=""),
            ),
            models.Index(
                fields=["assumed_role_id"],
                name="event_assumed_role_idx",
                condition=~Q(assumed_role_id=""),
            ),
            models.Index(
                fields=["shared_event_id"],
                name="event_shared_event_idx",
                condition=~Q(shared_event_id=""),
            ),
            models.Index(
                fields=["request_id"], name="event_request_idx", condition=~Q(request_id="")
            ),
            models.Index(fields=["actor_principal", "event_time"], name="event_actor_time_idx"),
            models.Index(
                fields=["personal_data", "event_time"],
                name="event_pd_time_idx",
                condition=Q(personal_data=True),
            ),
            models.Index(fields=["source_event_id"], name="event_source_id_idx"),
            models.Index(fields=["batch", "event_time"], name="event_batch_time_idx"),
            # Who touched this resource, what came from this address: the resource page, the
            # search box and the explorer's address filter, newest first.
            models.Index(
                ResourceKey("resource"),
                F("event_time"),
                name="event_resource_time_idx",
                condition=~Q(resource=""),
            ),
            models.Index(fields=["source_address", "event_time"], name="event_address_time_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} by {self.actor_principal or '?'} at {self.event_time:%Y-%m-%d %H:%M:%S}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a new event first claims its key, and its month gets a partition if needed."""
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        update_fields = kwargs.get("update_fields")
        with transaction.atomic(using=using, savepoint=False):
            if self._state.adding or update_fields is None or "event_time" in update_fields:
                partitions.ensure_for_times([self.event_time], using)
            if self._state.adding:
                EventKey.objects.using(using).create(
                    dedupe_key=self.dedupe_key, precedence=self.precedence()
                )
            super().save(*args, **kwargs)

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the event with its attribution and release its key, so the same record can
        be stored again."""
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            pk = self.pk
            deleted = super().delete(using=using, keep_parents=keep_parents)
            EventKey.objects.using(using).filter(dedupe_key=self.dedupe_key).delete()
            Attribution.objects.using(using).filter(event_id=pk).delete()
        return deleted

    def precedence(self) -> str | None:
        """How this record ranks against others of the same key (see engine.precedence)."""
        return record_precedence(self.source_kind, self.attrs or {}, self.raw_sha256)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        # The attribution is joined on the id, which a refresh leaves as it was: its cached
        # copy would be kept, however the stored one changed.
        self._state.fields_cache.pop("attribution", None)

    @property
    def result(self) -> Attribution:
        """The event's attribution: as correlation stored it, or pending (not stored)."""
        try:
            found = self.attribution
        except Attribution.DoesNotExist:
            found = None
        if found is None:
            found = Attribution(event_id=self.pk, event_time=self.event_time)
        return found


class EventWait(models.Model):
    """An event whose attribution would change when ``key`` (a credential) shows up."""

    # No database constraint: a partitioned table has no unique index on id alone for a
    # foreign key to point at. Django still applies on_delete; events are never deleted
    # by the app anyway. No index of its own either: the unique (event, key) one leads
    # with it. Every correlated event writes its waits, so each index here is paid per event.
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="waits", db_constraint=False, db_index=False
    )
    # Looked up by equality only: a plain index (db_index would add a second, for LIKE).
    key = models.CharField(max_length=500)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "key"], name="eventwait_unique")]
        indexes = [models.Index(fields=["key"], name="eventwait_key_idx")]

    def __str__(self) -> str:
        return f"event {self.event_id} waits on {self.key}"


class QuarantinedRecord(models.Model):
    """A record that could not be stored, with where it was and why."""

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="quarantine")
    index = models.IntegerField()
    position = models.CharField(max_length=80)
    raw = models.TextField(blank=True)
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # No database constraint: see EventWait.event.
    resolved_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False
    )

    class Meta:
        ordering = ["batch_id", "index"]

    def __str__(self) -> str:
        return f"{self.batch.filename} {self.position}: {self.error}"


class PersonalDataRule(models.Model):
    """A pattern on an event's resource that marks the access as touching personal data."""

    GLOB, REGEX, CONTAINS = "glob", "regex", "contains"
    name = models.CharField(max_length=100)
    source_kind = models.CharField(max_length=32, blank=True, help_text="blank: every source kind")
    pattern_type = models.CharField(
        max_length=8,
        choices=[(GLOB, "glob"), (REGEX, "regular expression"), (CONTAINS, "contains")],
        default=GLOB,
    )
    pattern = models.CharField(max_length=500, help_text="e.g. s3://hr-payroll/*")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.pattern}"
