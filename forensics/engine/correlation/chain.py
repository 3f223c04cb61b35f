"""The credential graph walk: who holds each actor position, memoized per event.

A rule module looks at one event and answers with a ``Step``: either the actor's chain is
known from the record alone (a root, or a gap), or it continues with the actor of another
event (the one that issued the credential used) and a ``link`` that turns that event's
chain into this one by adding the hop. ``Context.chain_of`` follows steps iteratively, so
long role-juggling chains cannot exhaust the stack, and memoizes every event it resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from forensics.engine.correlation.attribution import (
    CONFLICTING_EVIDENCE,
    MISSING_ISSUER,
    UNKNOWN_PRINCIPAL,
    Alias,
    Hop,
    Origin,
)
from forensics.engine.correlation.directory import Directory, normalize_alias
from forensics.engine.correlation.facts import attr, clean
from forensics.engine.correlation.index import EngineEvent, MemoryIndex

_EMPTY: frozenset[str] = frozenset()
# Inferred links fan out into nested walks; real chains never nest this deep.
MAX_NESTING = 32


@dataclass(frozen=True, slots=True)
class Chain:
    """What is known about one actor position: origin candidates, hops, gaps and notes.

    No origins means the chain stops short; ``reason`` says why. Several origins, or an
    inferred hop, make the result ambiguous.
    """

    origins: tuple[Origin, ...] = ()
    hops: tuple[Hop, ...] = ()
    reason: str | None = None
    missing_since: datetime | None = None  # time of the event whose issuer is missing
    waiting_on: frozenset[str] = _EMPTY
    depends_on: frozenset[str] = _EMPTY
    notes: tuple[str, ...] = ()
    source_identity: str = ""  # AWS sourceIdentity asserted along the chain
    long_lived_key: bool = False  # the origin acted with a long-lived key (GCP SA key)

    def then(
        self,
        *hops: Hop,
        note: str = "",
        waiting: Iterable[str] = (),
        depends: Iterable[str] = (),
    ) -> Chain:
        """This chain continued by hops, with a note and ids to wait for or depend on."""
        waiting_on = self.waiting_on
        depends_on = self.depends_on
        if waiting:
            waiting_on = waiting_on.union(v for v in waiting if v)
        if waiting or depends:
            depends_on = depends_on.union(waiting_on, (v for v in depends if v))
        return Chain(
            self.origins,
            self.hops + hops if hops else self.hops,
            self.reason,
            self.missing_since,
            waiting_on,
            depends_on,
            (*self.notes, note) if note else self.notes,
            self.source_identity,
            self.long_lived_key,
        )

    def broken(self, reason: str, note: str) -> Chain:
        """This chain stopped: no origin can be claimed, for ``reason``."""
        return Chain(
            (),
            self.hops,
            reason,
            self.missing_since,
            self.waiting_on,
            self.depends_on,
            (*self.notes, note) if note else self.notes,
            self.source_identity,
            self.long_lived_key,
        )

    def asserting(self, source_identity: str, where: str) -> Chain:
        """This chain with an AWS sourceIdentity asserted at ``where``; a different value
        asserted earlier is a contradiction."""
        if not source_identity or source_identity == self.source_identity:
            return self
        if self.source_identity:
            return self.broken(
                CONFLICTING_EVIDENCE,
                f"Source identity '{source_identity}' at {where} differs from "
                f"'{self.source_identity}' asserted earlier in the chain.",
            )
        return Chain(
            self.origins,
            self.hops,
            self.reason,
            self.missing_since,
            self.waiting_on,
            self.depends_on,
            self.notes,
            source_identity,
            self.long_lived_key,
        )

    def keyed(self) -> Chain:
        """This chain marked as resting on a long-lived key."""
        return Chain(
            self.origins,
            self.hops,
            self.reason,
            self.missing_since,
            self.waiting_on,
            self.depends_on,
            self.notes,
            self.source_identity,
            True,
        )


def gap(
    reason: str,
    note: str,
    *,
    waiting: Iterable[str] = (),
    depends: Iterable[str] = (),
    since: datetime | None = None,
) -> Chain:
    """A chain that stops before any origin."""
    waiting_on = frozenset(v for v in waiting if v)
    return Chain(
        reason=reason,
        missing_since=since,
        waiting_on=waiting_on,
        depends_on=waiting_on.union(v for v in depends if v),
        notes=(note,) if note else (),
    )


def missing(credential: str, at: EngineEvent, note: str, *, depends: Iterable[str] = ()) -> Chain:
    """The issuer of ``credential`` (used by ``at``) is not in the store."""
    return gap(
        MISSING_ISSUER,
        note,
        waiting=(credential,),
        depends=depends,
        since=at.event.event_time,
    )


Link = Callable[[Chain], Chain]


@dataclass(frozen=True, slots=True)
class Step:
    """One event's actor: a finished chain, or the upstream event to continue from."""

    chain: Chain | None = None
    upstream: EngineEvent | None = None
    link: Link | None = None

    def then(self, after: Link) -> Step:
        """This step with ``after`` applied to the chain it yields."""
        if self.upstream is None:
            assert self.chain is not None
            return Step(chain=after(self.chain))
        link = self.link
        if link is None:
            return Step(upstream=self.upstream, link=after)
        return Step(upstream=self.upstream, link=lambda up: after(link(up)))


def done(chain: Chain) -> Step:
    """A step whose chain is fully known."""
    return Step(chain=chain)


def follow(upstream: EngineEvent, link: Link) -> Step:
    """A step that continues with the actor chain of ``upstream``."""
    return Step(upstream=upstream, link=link)


Dispatch = Callable[[EngineEvent, "Context"], Step]


class Context:
    """One correlation run: the index, the directory, the clock, and memoized chains."""

    def __init__(
        self,
        index: MemoryIndex,
        directory: Directory,
        now: datetime,
        grace: timedelta,
        dispatch: Dispatch,
    ) -> None:
        self.index = index
        self.directory = directory
        self.now = now
        self.grace = grace
        self._dispatch = dispatch
        self._memo: dict[str, Chain] = {}
        self._active: set[str] = set()
        self._nesting = 0
        self._roots: dict[tuple[str, str, tuple[Alias, ...], str], Chain] = {}
        self._calls: dict[str, tuple[EngineEvent, ...]] = {}
        # Rule modules keep per-run results here (e.g. one link shared by a whole session).
        self.cache: dict[Hashable, Any] = {}

    # --- the walk ---------------------------------------------------------------------------

    def chain_of(self, item: EngineEvent) -> Chain:
        """The chain of whoever performed ``item``."""
        memo = self._memo
        hit = memo.get(item.key)
        if hit is not None:
            return hit
        if self._nesting >= MAX_NESTING:
            return gap(CONFLICTING_EVIDENCE, "The chain is too deep to follow.")
        self._nesting += 1
        stack: list[tuple[EngineEvent, Step]] = []
        current = item
        try:
            while True:
                hit = memo.get(current.key)
                if hit is not None:
                    base = hit
                    break
                if current.key in self._active:
                    base = self._loop(current, stack)
                    break
                self._active.add(current.key)
                step = self._dispatch(current, self)
                if step.upstream is None:
                    assert step.chain is not None
                    base = step.chain
                    memo[current.key] = base
                    self._active.discard(current.key)
                    break
                stack.append((current, step))
                current = step.upstream
            while stack:
                event, step = stack.pop()
                base = step.link(base) if step.link is not None else base
                memo[event.key] = base
                self._active.discard(event.key)
        finally:
            self._nesting -= 1
            for event, _ in stack:
                self._active.discard(event.key)
        return base

    def _loop(self, current: EngineEvent, stack: list[tuple[EngineEvent, Step]]) -> Chain:
        # Every event on a loop gets the same broken chain, whichever was reached first.
        for n, (event, _) in enumerate(stack):
            if event.key == current.key:
                members = stack[n:]
                del stack[n:]
                break
        else:
            members = []  # the loop closes in an enclosing walk, which reports it
        names = ", ".join(sorted(event.key for event, _ in members)) or current.key
        loop = gap(CONFLICTING_EVIDENCE, f"The credential chain loops through events {names}.")
        for event, _ in members:
            self._memo[event.key] = loop
            self._active.discard(event.key)
        return loop

    # --- roots ------------------------------------------------------------------------------

    def root(self, kind: str, name: str, aliases: Sequence[Alias], note: str = "") -> Chain:
        """A chain that starts at an authoritative root, resolved against the directory."""
        norm = tuple(sorted({normalize_alias(a) for a in aliases if a.value}))
        cache_key = (kind, name, norm, note)
        cached = self._roots.get(cache_key)
        if cached is not None:
            return cached
        notes: tuple[str, ...] = (note,) if note else ()
        matches = self.directory.match(norm)
        if not matches:
            origins: tuple[Origin, ...] = (Origin(kind, name, norm, None),)
        elif len(matches) == 1:
            known = matches[0]
            logged = name if name != known.name else ""
            held = {normalize_alias(a) for a in known.aliases}
            new = tuple(a for a in norm if a not in held)
            origins = (Origin(known.kind, known.name, norm, known.id, logged, new),)
        else:
            origins = tuple(Origin(i.kind, i.name, norm, i.id) for i in matches)
            names = ", ".join(i.name for i in matches)
            notes += (f"The directory gives these names to several identities ({names}).",)
        chain = Chain(origins=origins, notes=notes)
        self._roots[cache_key] = chain
        return chain

    def unknown(self, note: str) -> Chain:
        """No origin can be named for the recorded actor."""
        return gap(UNKNOWN_PRINCIPAL, note)

    # --- issuing calls ----------------------------------------------------------------------

    def issuing_calls(self, credential: str) -> tuple[EngineEvent, ...]:
        """One representative event per distinct call that issued ``credential``.

        Both accounts of a cross-account call, or the same record delivered through two
        channels, are one call: they share a shared event id or the producer's event id.
        """
        cached = self._calls.get(credential)
        if cached is not None:
            return cached
        calls = distinct_calls(self.index.issuing(credential))
        self._calls[credential] = calls
        return calls


def distinct_calls(events: Sequence[EngineEvent]) -> tuple[EngineEvent, ...]:
    """Events grouped into calls (by shared or producer event id), one representative each."""
    if len(events) <= 1:
        return tuple(events)
    parent = list(range(len(events)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for n, item in enumerate(events):
        for ident in (
            "s:" + attr(item.event, "shared_event_id"),
            "e:" + clean(item.event.source_event_id),
        ):
            if len(ident) == 2:
                continue
            if ident in seen:
                parent[find(n)] = find(seen[ident])
            else:
                seen[ident] = n
    groups: dict[int, list[EngineEvent]] = {}
    for n, item in enumerate(events):
        groups.setdefault(find(n), []).append(item)
    reps = [min(group, key=_call_rank) for group in groups.values()]
    return tuple(sorted(reps, key=lambda e: e.key))


def _call_rank(item: EngineEvent) -> tuple[bool, bool, str]:
    # The copy with the fullest identity stands for the call: the caller-account record
    # (not the AWSAccount-typed copy of the other account), and CloudTrail over re-encodings.
    ev = item.event
    return (
        attr(ev, "identity_type") == "AWSAccount",
        ev.source_kind != "cloudtrail",
        item.key,
    )
