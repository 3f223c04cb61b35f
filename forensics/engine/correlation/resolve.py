"""Entry points: attribute one event or many, and turn a chain into a status with a reason."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from forensics.engine.correlation.attribution import (
    AMBIGUOUS,
    ATTRIBUTED,
    CONFLICTING_EVIDENCE,
    INFERRED,
    LONG_LIVED_SHARED_KEY,
    MISSING_ISSUER,
    PENDING,
    SHARED_ACCOUNT,
    UNATTRIBUTED,
    UNKNOWN_PRINCIPAL,
    Attribution,
    Hop,
    Origin,
)
from forensics.engine.correlation.aws import cloudtrail_step
from forensics.engine.correlation.chain import Chain, Context, Step, done, gap
from forensics.engine.correlation.directory import Directory, DirectoryIdentity
from forensics.engine.correlation.gcp import gcp_step
from forensics.engine.correlation.idp import (
    azure_activity_step,
    azure_data_step,
    entra_audit_step,
    entra_step,
    m365_step,
    ocsf_step,
    okta_step,
)
from forensics.engine.correlation.index import EngineEvent, MemoryIndex
from forensics.engine.correlation.k8s import k8s_step
from forensics.engine.model import AUTHENTICATION

Progress = Callable[[int, int, str], None]

_RULES: dict[str, Callable[[EngineEvent, Context], Step]] = {
    "cloudtrail": cloudtrail_step,
    "gcp_audit": gcp_step,
    "k8s_audit": k8s_step,
    "okta": okta_step,
    "entra": entra_step,
    "azure_activity": azure_activity_step,
    "entra_audit": entra_audit_step,
    "azure_keyvault": azure_data_step,
    "azure_storage": azure_data_step,
    "m365_audit": m365_step,
    "graph_activity": azure_activity_step,
    "ocsf": ocsf_step,
}


def _dispatch(item: EngineEvent, ctx: Context) -> Step:
    rule = _RULES.get(item.event.source_kind)
    if rule is None:
        return done(gap(UNKNOWN_PRINCIPAL, f"No rules for source '{item.event.source_kind}'."))
    return rule(item, ctx)


def new_context(
    index: MemoryIndex, directory: Directory, now: datetime, grace: timedelta
) -> Context:
    """A correlation run over one index; chains are memoized for the run's lifetime."""
    return Context(index, directory, now, grace, _dispatch)


def attribute(
    event: EngineEvent,
    index: MemoryIndex,
    directory: Directory,
    *,
    now: datetime,
    grace: timedelta,
) -> Attribution:
    """Who really did ``event``, from the events in ``index`` and the directory."""
    ctx = new_context(index, directory, now, grace)
    return finish(event, ctx.chain_of(event), ctx)


def attribute_all(
    events: Iterable[EngineEvent],
    index: MemoryIndex,
    directory: Directory,
    *,
    now: datetime,
    grace: timedelta,
    progress: Progress | None = None,
) -> list[Attribution]:
    """Attribute many events in one run, sharing resolved chains between them."""
    items = list(events)
    total = len(items)
    every = max(1, total // 100)
    ctx = new_context(index, directory, now, grace)
    results: list[Attribution] = []
    append = results.append
    # The run allocates many small acyclic objects; the cycle collector would rescan them
    # over and over (a fifth of the run time), so it waits until the run is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for n, item in enumerate(items, 1):
            append(finish(item, ctx.chain_of(item), ctx))
            if progress is not None and (n % every == 0 or n == total):
                progress(n, total, "correlating events")
    finally:
        if collecting:
            gc.enable()
    return results


def finish(item: EngineEvent, chain: Chain, ctx: Context) -> Attribution:
    """The attribution a chain supports for one event."""
    ev = item.event
    if ev.category == AUTHENTICATION and ev.outcome == "failure":
        return Attribution(
            item.key,
            UNATTRIBUTED,
            UNKNOWN_PRINCIPAL,
            None,
            (),
            explanation="A failed sign-in proves nothing about who tried: the account it "
            "names was not authenticated.",
        )
    # Records of one session share their chain object, and so their verdict.
    cache_key = ("verdict", id(chain))
    cached = ctx.cache.get(cache_key)
    if cached is None or cached[0] is not chain:
        cached = (chain, verdict(chain, ctx))
        ctx.cache[cache_key] = cached
    return Attribution(item.key, *cached[1])


Verdict = tuple[
    str,
    str | None,
    Origin | None,
    tuple[Hop, ...],
    tuple[Origin, ...],
    tuple[str, ...],
    str,
    tuple[str, ...],
]


def verdict(chain: Chain, ctx: Context) -> Verdict:
    """Status, reason, origin, hops, candidates, waiting_on, explanation and depends_on."""
    waiting = tuple(sorted(chain.waiting_on))
    depends = tuple(sorted(chain.depends_on))
    hops = chain.hops
    if not chain.origins:
        reason = chain.reason or UNKNOWN_PRINCIPAL
        if (
            reason == MISSING_ISSUER
            and chain.missing_since is not None
            and ctx.now - chain.missing_since < ctx.grace
        ):
            summary = "Pending: the issuing event may still arrive"
            return (PENDING, None, None, hops, (), waiting, _explain(chain, summary), depends)
        return (UNATTRIBUTED, reason, None, hops, (), waiting, _explain(chain, ""), depends)
    origins = chain.origins
    if len(origins) > 1 or any(hop.evidence == INFERRED for hop in hops):
        candidates = tuple(sorted(origins, key=_origin_order))
        summary = f"{len(origins)} possible origin(s)"
        return (AMBIGUOUS, None, None, hops, candidates, waiting, _explain(chain, summary), depends)
    origin = origins[0]
    known = ctx.directory.get(origin.identity_id) if origin.identity_id else None
    if known is not None and known.shared:
        reason = LONG_LIVED_SHARED_KEY if chain.long_lived_key else SHARED_ACCOUNT
        summary = (
            f"{known.name} is shared in the directory: its long-lived key proves no single holder"
            if chain.long_lived_key
            else f"{known.name} is a shared account in the directory: it proves no single "
            "person or workload"
        )
        return (
            UNATTRIBUTED,
            reason,
            None,
            hops,
            (origin,),
            waiting,
            _explain(chain, summary),
            depends,
        )
    if chain.source_identity and not names_match(chain.source_identity, origin, known):
        summary = (
            f"The chain leads to {origin.name} but the session's source identity is "
            f"'{chain.source_identity}'"
        )
        explanation = _explain(chain, summary)
        return (
            UNATTRIBUTED,
            CONFLICTING_EVIDENCE,
            None,
            hops,
            (origin,),
            waiting,
            explanation,
            depends,
        )
    summary = f"{origin.kind.capitalize()} {origin.name}, {_evidence(hops)}"
    return (ATTRIBUTED, None, origin, hops, (), waiting, _explain(chain, summary), depends)


def names_match(value: str, origin: Origin, known: DirectoryIdentity | None) -> bool:
    """True when an asserted source identity names this origin under any of its names."""
    wanted = value.strip().lower()
    wanted_local = wanted.split("@", 1)[0]
    names = [origin.name, *(a.value for a in origin.aliases)]
    if known is not None:
        names += [known.name, *(a.value for a in known.aliases)]
    for name in names:
        text = name.strip().lower()
        tail = text.rsplit("|", 1)[-1].rsplit("/", 1)[-1]
        forms = {text, tail, tail.split("@", 1)[0]}
        if wanted in forms or wanted_local in forms:
            return True
    return False


def _origin_order(origin: Origin) -> tuple[str, str, str, str]:
    return (origin.kind, origin.name, ",".join(map(str, origin.aliases)), origin.identity_id or "")


def _evidence(hops: tuple[Hop, ...]) -> str:
    if not hops:
        return "named by the record itself."
    kinds = sorted({h.evidence for h in hops})
    return f"through {len(hops)} hop(s) ({', '.join(kinds)})."


def _explain(chain: Chain, summary: str) -> str:
    parts = []
    if summary:
        parts.append(summary.rstrip(".") + ".")
    parts.extend(chain.notes)
    if chain.reason == MISSING_ISSUER and chain.waiting_on:
        parts.append("Waiting for: " + ", ".join(sorted(chain.waiting_on)) + ".")
    return " ".join(parts)
