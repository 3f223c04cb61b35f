"""The events correlation reads, and the lookups that fetch the ones it still needs."""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields

from forensics.engine.correlation.facts import attr, clean
from forensics.engine.model import NormalizedEvent
from forensics.engine.values import record_type


@record_type
class EngineEvent:
    """A normalized event with our stable key for it."""

    key: str
    event: NormalizedEvent


@dataclass(slots=True)
class Lookups:
    """Values to fetch related events by; each set names one indexed field of the store.

    - issued_credentials: events whose ``credential_issued`` is in the set
    - issued_principals: events whose ``issued_principal`` is in the set
    - assumed_role_ids: events whose attrs ``assumed_role_id`` is in the set
    - shared_event_ids: events whose attrs ``shared_event_id`` is in the set
    - correlation_ids: events whose ``correlation_id`` or attrs ``session_uid`` is in the set
    - token_ids: events whose ``credential_issued`` is in the set (Entra token ids, kept apart
      so the store may look only at sign-ins)
    """

    issued_credentials: set[str] = field(default_factory=set)
    issued_principals: set[str] = field(default_factory=set)
    assumed_role_ids: set[str] = field(default_factory=set)
    shared_event_ids: set[str] = field(default_factory=set)
    correlation_ids: set[str] = field(default_factory=set)
    token_ids: set[str] = field(default_factory=set)

    def is_empty(self) -> bool:
        """True when nothing is asked for."""
        return not any(getattr(self, f.name) for f in fields(self))

    def union(self, other: Lookups) -> Lookups:
        """Everything either asks for."""
        return Lookups(
            **{f.name: getattr(self, f.name) | getattr(other, f.name) for f in fields(self)}
        )

    def difference(self, other: Lookups) -> Lookups:
        """What this asks for that ``other`` does not."""
        return Lookups(
            **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)}
        )

    def __or__(self, other: Lookups) -> Lookups:
        return self.union(other)

    def __sub__(self, other: Lookups) -> Lookups:
        return self.difference(other)

    def size(self) -> int:
        """How many values are asked for in all."""
        return sum(len(getattr(self, f.name)) for f in fields(self))


_NO_EVENTS: tuple[EngineEvent, ...] = ()


class MemoryIndex:
    """Events held in memory with dict lookups on every field ``Lookups`` names.

    Lookups return events sorted by key, so nothing read from the index depends on the order
    events were added in.
    """

    def __init__(self, events: Iterable[EngineEvent] = ()) -> None:
        self._events: dict[str, EngineEvent] = {}
        self._issued: dict[str, list[EngineEvent]] = {}
        self._issued_principal: dict[str, list[EngineEvent]] = {}
        self._assumed_role_id: dict[str, list[EngineEvent]] = {}
        self._shared_event_id: dict[str, list[EngineEvent]] = {}
        self._correlation: dict[str, list[EngineEvent]] = {}
        self.add(events)

    def add(self, events: Iterable[EngineEvent]) -> int:
        """Index these events (a key already held is kept as it is); returns how many were new."""
        added = 0
        for item in events:
            if item.key in self._events:
                continue
            self._events[item.key] = item
            added += 1
            ev = item.event
            _put(self._issued, clean(ev.credential_issued), item)
            _put(self._issued_principal, clean(ev.issued_principal), item)
            if ev.attrs:
                _put(self._assumed_role_id, attr(ev, "assumed_role_id"), item)
                _put(self._shared_event_id, attr(ev, "shared_event_id"), item)
                session_uid = attr(ev, "session_uid")
                if session_uid and session_uid != clean(ev.correlation_id):
                    _put(self._correlation, session_uid, item)
            _put(self._correlation, clean(ev.correlation_id), item)
        return added

    def __len__(self) -> int:
        return len(self._events)

    def __contains__(self, key: object) -> bool:
        return key in self._events

    def get(self, key: str) -> EngineEvent | None:
        """The event with this key, if held."""
        return self._events.get(key)

    def events(self) -> Iterator[EngineEvent]:
        """Every held event."""
        return iter(self._events.values())

    def issuing(self, credential: str) -> tuple[EngineEvent, ...] | list[EngineEvent]:
        """Events whose credential_issued is this credential."""
        return self._issued.get(credential, _NO_EVENTS)

    def with_issued_principal(self, principal: str) -> tuple[EngineEvent, ...] | list[EngineEvent]:
        """Events whose issued_principal is this principal."""
        return self._issued_principal.get(principal, _NO_EVENTS)

    def with_assumed_role_id(self, role_id: str) -> tuple[EngineEvent, ...] | list[EngineEvent]:
        """Issuing events whose attrs assumed_role_id is this id."""
        return self._assumed_role_id.get(role_id, _NO_EVENTS)

    def with_shared_event_id(self, shared: str) -> tuple[EngineEvent, ...] | list[EngineEvent]:
        """Events (both sides of a cross-account call) carrying this shared event id."""
        return self._shared_event_id.get(shared, _NO_EVENTS)

    def with_correlation(self, session: str) -> tuple[EngineEvent, ...] | list[EngineEvent]:
        """Events sharing this session / correlation id."""
        return self._correlation.get(session, _NO_EVENTS)

    def fetch(self, lookups: Lookups) -> list[EngineEvent]:
        """Every held event a store would return for these lookups (usable as a source)."""
        found: dict[str, EngineEvent] = {}
        for table, values in (
            (self._issued, lookups.issued_credentials),
            (self._issued, lookups.token_ids),
            (self._issued_principal, lookups.issued_principals),
            (self._assumed_role_id, lookups.assumed_role_ids),
            (self._shared_event_id, lookups.shared_event_ids),
            (self._correlation, lookups.correlation_ids),
        ):
            for value in values:
                for item in table.get(value, _NO_EVENTS):
                    found[item.key] = item
        return [found[k] for k in sorted(found)]


def _put(table: dict[str, list[EngineEvent]], value: str, item: EngineEvent) -> None:
    if not value:
        return
    bucket = table.get(value)
    if bucket is None:
        table[value] = [item]
    else:
        insort(bucket, item, key=_key)


def _key(item: EngineEvent) -> str:
    return item.key
