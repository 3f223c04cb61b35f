"""When the call that issued an AWS key is not in the store: what the using record itself
asserts, else a match on role session and time that can only ever be inferred."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import timedelta

from forensics.engine.correlation.attribution import (
    ASSERTED,
    HUMAN,
    INFERRED,
    MISSING_ISSUER,
    WORKLOAD,
    Alias,
    Hop,
    Origin,
)
from forensics.engine.correlation.aws_actor import AwsActor
from forensics.engine.correlation.aws_links import delivered, issued_by_service, method_of
from forensics.engine.correlation.chain import Chain, Context, distinct_calls, gap, missing
from forensics.engine.correlation.facts import (
    SKEW,
    attr,
    clean,
    is_email,
    is_instance_id,
    role_name,
    role_path,
    same_role,
    when,
)
from forensics.engine.correlation.index import EngineEvent
from forensics.engine.model import CREDENTIAL_ISSUE, NormalizedEvent

_RESERVED_SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
# The longest an STS credential can live: 12 h for role sessions, 36 h for session and
# federation tokens; inferred matches look no further than this after the issuing call.
_MAX_ROLE_SESSION = timedelta(hours=12)
_MAX_TOKEN_SESSION = timedelta(hours=36)


def role_fallback(actor: AwsActor, ctx: Context) -> Chain:
    """The chain of a role session whose issuing call is not in the store."""
    ev = actor.item.event
    key = actor.item.key
    credential = actor.credential
    holder = actor.holder
    kept = (credential,) if credential else ()
    in_scope = attr(ev, "in_scope_of_issued_to")
    if in_scope:
        root = ctx.root(WORKLOAD, in_scope, [Alias("aws_workload", in_scope)])
        return root.then(
            Hop(holder, credential, "instance-profile", ASSERTED, key),
            depends=kept,
            note=f"The record says AWS issued these credentials to {in_scope}.",
        )
    if is_instance_id(actor.session_name) and attr(ev, "ec2_role_delivery"):
        root = ctx.root(WORKLOAD, holder, [Alias("aws_workload", holder)])
        return root.then(
            Hop(holder, credential, "instance-profile", ASSERTED, key),
            depends=kept,
            note=f"EC2 delivered these role credentials to instance {actor.session_name}.",
        )
    if _reserved_sso(actor.session_issuer_arn) and actor.session_name:
        # Identity Center names sessions of its reserved roles after the signed-in user, and
        # only Identity Center can assume roles under /aws-reserved/sso.amazonaws.com/ (their
        # trust policy admits its SAML provider alone, and IAM refuses edits there), so the
        # name is the service's own assertion, not a caller's choice: asserted, not inferred.
        # Without that path (an sts ARN never shows it) the same name proves nothing.
        name = actor.session_name
        aliases = [Alias("email", name.lower())] if is_email(name) else []
        root = ctx.root(HUMAN, name, aliases)
        return root.then(
            Hop(holder, credential, "sso", ASSERTED, key),
            depends=kept,
            note=f"Identity Center named this session after its user {name}.",
        )
    source_identity = clean(ev.source_identity)
    if source_identity:
        asserted = _source_identity_root(source_identity, ctx)
        if asserted is not None:
            return asserted.then(
                Hop(holder, credential, "assume-role", ASSERTED, key),
                depends=kept,
                note=f"The issuing call is not in the store; the session carries source "
                f"identity {source_identity}.",
            )
    looked_up = tuple(v for v in (actor.principal_id, actor.arn) if v)
    candidates = _inferred_issuers(actor, ctx)
    if candidates:
        return _inferred(actor, candidates, ctx, looked_up)
    if is_instance_id(actor.session_name):
        root = ctx.root(WORKLOAD, holder, [Alias("aws_workload", holder)])
        return root.then(
            Hop(holder, credential, "instance-profile", INFERRED, key),
            waiting=kept,
            depends=looked_up,
            note=f"Only the session name {actor.session_name} suggests an EC2 instance.",
        )
    if credential:
        return missing(credential, actor.item, missing_note(actor), depends=looked_up)
    if looked_up:
        return gap(
            MISSING_ISSUER,
            f"Session {holder} used no recorded key and no issuing call matches it.",
            waiting=looked_up[:1],
            depends=looked_up,
            since=ev.event_time,
        )
    return ctx.unknown("The role session names neither its key nor its principal.")


def missing_note(actor: AwsActor) -> str:
    """Why a session's chain stops: its issuing call is missing."""
    return f"The call that issued key {actor.credential} to {actor.holder} is not in the store."


def _reserved_sso(role_arn: str) -> bool:
    return role_name(role_arn).startswith("AWSReservedSSO_") and role_path(role_arn).startswith(
        _RESERVED_SSO_PATH
    )


def _source_identity_root(value: str, ctx: Context) -> Chain | None:
    found = ctx.directory.find_value(value)
    if len(found) == 1:
        known = found[0]
        aliases = [a for a in known.aliases if a.value.lower() == value.lower()]
        return ctx.root(known.kind, known.name, aliases)
    if not found and is_email(value):
        return ctx.root(HUMAN, value.lower(), [Alias("email", value.lower())])
    return None


def _inferred_issuers(actor: AwsActor, ctx: Context) -> tuple[EngineEvent, ...]:
    ev = actor.item.event
    found: dict[str, EngineEvent] = {}
    pools = []
    if actor.principal_id and ":" in actor.principal_id:
        pools.append(_by_time(ctx, "role-id", actor.principal_id))
    if ":assumed-role/" in actor.arn:
        pools.append(_by_time(ctx, "session", actor.arn))
    # Only calls made within the longest session lifetime before the use can have issued it.
    low = (ev.event_time - _MAX_TOKEN_SESSION - SKEW).timestamp()
    high = (ev.event_time + SKEW).timestamp()
    for times, pool in pools:
        for n in range(bisect_left(times, low), bisect_right(times, high)):
            candidate = pool[n]
            if candidate.key == actor.item.key or candidate.key in found:
                continue
            if _could_have_issued(actor, ev, candidate.event):
                found[candidate.key] = candidate
    return distinct_calls([found[k] for k in sorted(found)])


def _by_time(ctx: Context, table: str, value: str) -> tuple[list[float], list[EngineEvent]]:
    cache_key = ("by-time", table, value)
    cached = ctx.cache.get(cache_key)
    if cached is None:
        events = (
            ctx.index.with_assumed_role_id(value)
            if table == "role-id"
            else ctx.index.with_issued_principal(value)
        )
        ordered = sorted(events, key=lambda e: (e.event.event_time, e.key))
        cached = ([e.event.event_time.timestamp() for e in ordered], ordered)
        ctx.cache[cache_key] = cached
    return cached


def _could_have_issued(actor: AwsActor, ev: NormalizedEvent, iev: NormalizedEvent) -> bool:
    if iev.category != CREDENTIAL_ISSUE or iev.outcome == "failure":
        return False
    issued = clean(iev.credential_issued)
    if actor.credential and issued and issued != actor.credential:
        return False  # it handed out another key: a different session of the same name
    start = iev.event_time
    if ev.event_time < start - SKEW:
        return False
    longest = _MAX_TOKEN_SESSION if method_of(iev) != "assume-role" else _MAX_ROLE_SESSION
    expires = when(attr(iev, "credential_expiration")) or start + longest
    if ev.event_time > expires + SKEW:
        return False
    created = when(actor.session_created)
    if created is not None and abs(created - start) > SKEW:
        return False
    role_arn = attr(iev, "role_arn")
    return not (
        role_arn and actor.session_issuer_arn and not same_role(role_arn, actor.session_issuer_arn)
    )


def _inferred(
    actor: AwsActor, candidates: tuple[EngineEvent, ...], ctx: Context, looked_up: tuple[str, ...]
) -> Chain:
    credential = actor.credential
    kept = (credential,) if credential else looked_up[:1]
    holder = actor.holder
    if len(candidates) == 1:
        issuer = candidates[0]
        up, method = _candidate_chain(actor, issuer, ctx)
        return up.then(
            Hop(holder, credential, method, INFERRED, issuer.key),
            waiting=kept,
            depends=looked_up,
            note=f"The issuer of {holder} is matched on role session and time only "
            f"(event {issuer.key}).",
        )
    found = [_candidate_chain(actor, c, ctx) for c in candidates]
    chains = [chain for chain, _ in found]
    origins: dict[tuple[str, str, tuple[Alias, ...], str | None], Origin] = {}
    depends: set[str] = set(looked_up)
    waiting: set[str] = set(kept)
    for chain in chains:
        depends |= chain.depends_on
        waiting |= chain.waiting_on
        for origin in chain.origins:
            origins[(origin.kind, origin.name, origin.aliases, origin.identity_id)] = origin
    keys = ", ".join(c.key for c in candidates)
    note = f"{len(candidates)} issuing calls match {holder} on role session and time only ({keys})."
    methods = sorted({method for _, method in found})
    hop = Hop(holder, credential, methods[0] if len(methods) == 1 else "assume-role", INFERRED, "")
    if not origins:
        return gap(
            MISSING_ISSUER,
            note,
            waiting=waiting,
            depends=depends,
            since=actor.item.event.event_time,
        )
    return Chain(
        origins=tuple(origins[k] for k in sorted(origins, key=str)),
        hops=(hop,),
        waiting_on=frozenset(waiting),
        depends_on=frozenset(depends | waiting),
        notes=(note,),
    )


def _candidate_chain(actor: AwsActor, candidate: EngineEvent, ctx: Context) -> tuple[Chain, str]:
    # A service-made candidate delivered the key to a resource it runs, as an exact link
    # would say; its own hop is dropped here and the caller adds it back as inferred.
    if issued_by_service(candidate.event):
        chain = delivered(actor, candidate, ctx)
        if chain.hops:
            return replace(chain, hops=chain.hops[:-1]), chain.hops[-1].method
        return chain, method_of(candidate.event)
    return ctx.chain_of(candidate), method_of(candidate.event)
