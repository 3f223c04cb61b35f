"""Which related events correlation needs, and the loop that fetches them until none is new.

The service runs the same loop against the database that tests run in memory: ask
``lookups_for`` the new events, fetch what matches, add it to the index, repeat. Lookups that
only feed inferred links (assumed role id, session ARN) are asked for once the exact ones
are exhausted, and only for sessions whose issuing call is still not in the index, so a role
whose session name repeats every hour does not pull in its whole history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields

from forensics.engine.correlation.aws_actor import actor_of, eks_actor, is_aws_shaped
from forensics.engine.correlation.facts import attr, clean
from forensics.engine.correlation.index import EngineEvent, Lookups, MemoryIndex
from forensics.engine.model import AUTHENTICATION, NormalizedEvent

Source = Callable[[Lookups], Iterable[EngineEvent]]

# Sources whose credential_used can be the credential_issued of another event.
_ISSUED_ELSEWHERE = frozenset({"cloudtrail", "ocsf", "k8s_audit"})
# Sources whose credential is the uti of an Entra token, issued by a sign-in.
_ENTRA_TOKEN_USERS = frozenset({"azure_activity", "m365_audit", "graph_activity"})


def lookups_for(events: Iterable[EngineEvent], index: MemoryIndex | None = None) -> Lookups:
    """What to fetch so these events can be correlated.

    Without an index, the lookups for inferred links are always included; with one, only
    for sessions whose issuing call the index does not hold.
    """
    wanted = Lookups()
    for item in events:
        _exact(item.event, wanted)
        _inferable(item, index, wanted)
    return wanted


def exact_lookups(events: Iterable[EngineEvent]) -> Lookups:
    """The lookups that can back exact or asserted links."""
    wanted = Lookups()
    for item in events:
        _exact(item.event, wanted)
    return wanted


def inferable_lookups(events: Iterable[EngineEvent], index: MemoryIndex | None) -> Lookups:
    """The lookups that feed inferred links, for sessions whose issuer the index lacks."""
    wanted = Lookups()
    for item in events:
        _inferable(item, index, wanted)
    return wanted


def close_over(
    index: MemoryIndex,
    source: Source,
    events: Iterable[EngineEvent] | None = None,
    asked: Lookups | None = None,
) -> int:
    """Fetch from ``source`` every event the chains of ``events`` (default: all indexed
    events, which should already be in ``index``) can reach; returns how many were added.

    ``asked``, when given, holds lookups already answered (not asked again) and gains every
    lookup asked here, so a caller can ask the same again later to see what is new.
    """
    frontier = list(index.events() if events is None else events)
    touched = list(frontier)
    asked = Lookups() if asked is None else asked
    added = 0
    while True:
        wanted = exact_lookups(frontier) - asked
        if wanted.is_empty():
            wanted = inferable_lookups(touched, index) - asked
            touched = []
            if wanted.is_empty():
                return added
        for f in fields(wanted):
            getattr(asked, f.name).update(getattr(wanted, f.name))
        fresh: dict[str, EngineEvent] = {}
        for item in source(wanted):
            if item.key not in index and item.key not in fresh:
                fresh[item.key] = item
        frontier = [fresh[k] for k in sorted(fresh)]
        index.add(frontier)
        added += len(frontier)
        touched.extend(frontier)


def arrival_keys(event: NormalizedEvent) -> frozenset[str]:
    """The values by which a newly stored event can change earlier results: compare them
    with ``Attribution.depends_on`` to find what to correlate again."""
    values = (
        clean(event.credential_issued),
        clean(event.issued_principal),
        clean(event.correlation_id),
        attr(event, "assumed_role_id"),
        attr(event, "shared_event_id"),
        attr(event, "session_uid"),
    )
    return frozenset(v for v in values if v)


def _exact(ev: NormalizedEvent, wanted: Lookups) -> None:
    kind = ev.source_kind
    credential = clean(ev.credential_used)
    if credential:
        if kind in _ENTRA_TOKEN_USERS:
            wanted.token_ids.add(credential)
        elif kind in _ISSUED_ELSEWHERE:
            wanted.issued_credentials.add(credential)
    if kind == "k8s_audit":
        key = attr(ev, "eks_access_key_id")
        if key:
            wanted.issued_credentials.add(key)
    elif kind in ("cloudtrail", "ocsf"):
        shared = attr(ev, "shared_event_id")
        if shared and attr(ev, "identity_type").lower() == "awsaccount":
            wanted.shared_event_ids.add(shared)
    if kind == "okta":
        session = clean(ev.correlation_id)
        if session and ev.action != "user.session.start":
            wanted.correlation_ids.add(session)
    elif kind == "ocsf" and ev.category != AUTHENTICATION:
        session = attr(ev, "session_uid") or clean(ev.correlation_id)
        if session:
            wanted.correlation_ids.add(session)


def _inferable(item: EngineEvent, index: MemoryIndex | None, wanted: Lookups) -> None:
    ev = item.event
    if ev.source_kind == "k8s_audit":
        actor = eks_actor(item)
    elif ev.source_kind == "cloudtrail" or (ev.source_kind == "ocsf" and is_aws_shaped(ev)):
        actor = actor_of(item)
    else:
        return
    if actor is None or actor.identity_type != "AssumedRole":
        return
    if actor.credential and index is not None and index.issuing(actor.credential):
        return
    if ":" in actor.principal_id:
        wanted.assumed_role_ids.add(actor.principal_id)
    if ":assumed-role/" in actor.arn:
        wanted.issued_principals.add(actor.arn)
