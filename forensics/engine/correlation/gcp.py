"""Google Cloud: the delegation chain Cloud Audit Logs records for impersonated service accounts.

``serviceAccountDelegationInfo`` is written by Google itself, so every impersonation step it
lists is asserted by the log. A GenerateAccessToken call could only be matched to a later use
on principal and time (access tokens carry no id in the logs), which would be an inferred
link: it cannot strengthen a step the log already asserts, so it is not used to back hops.
"""

from __future__ import annotations

import re

from forensics.engine.correlation.attribution import (
    ANONYMOUS,
    ASSERTED,
    HUMAN,
    WORKLOAD,
    Alias,
    Hop,
)
from forensics.engine.correlation.chain import Chain, Context, Step, done, gap
from forensics.engine.correlation.facts import attr, attr_list, clean, is_email
from forensics.engine.correlation.index import EngineEvent
from forensics.engine.parsers.gcp_audit import actor_kind as kind_of

_SA_DOMAIN = ".gserviceaccount.com"
_MEMBER_PREFIXES = ("serviceAccount:", "user:")
# Workload Identity Federation for GKE names Kubernetes service accounts in two shapes.
_GKE_PRINCIPAL = re.compile(r"\.svc\.id\.goog/subject/ns/([^/]+)/sa/([^/]+)$")
_GKE_LEGACY = re.compile(r"\.svc\.id\.goog\[([^/\]]+)/([^\]]+)\]$")
# principal://<pool>/subject/<subject> of Workload and Workforce Identity Federation.
_POOL_SUBJECT = re.compile(
    r"^principal://(.+/(?:workloadIdentityPools|workforcePools)/[^/]+)/subject/(.+)$"
)


def gcp_step(item: EngineEvent, ctx: Context) -> Step:
    """The actor chain of a Cloud Audit Logs entry."""
    ev = item.event
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "The request was made by allUsers, without credentials."))
    actor = bare(clean(ev.actor_principal))
    if not actor:
        return done(ctx.unknown("The audit log does not name the caller."))
    delegators = [bare(name) for name in attr_list(ev, "delegation_chain")]
    if delegators and delegators[-1] == actor:
        delegators.pop()
    if delegators and not any(delegators) and not is_service_account(actor):
        # Entries that name no one, for a caller that cannot have been impersonated (only
        # service accounts can be): Google writes [{}] for a federated principal's own call.
        delegators = []
    agent = ""
    while delegators and delegators[0] and kind_of(delegators[0]) == "service":
        # A Google service agent first (Compute Engine's hands a VM its attached account's
        # token): it decided nothing, so the chain starts at the account it handed out, as a
        # workload's key delivered by AWS starts at the workload.
        agent = delegators.pop(0)
    key_id = clean(ev.credential_used)
    key_name = attr(ev, "service_account_key_name")
    agent_note = (
        f"Google's service agent {agent} handed out the token; whoever ran on the resource "
        "the account is attached to is not named."
        if agent
        else ""
    )
    if agent and not delegators:
        return done(principal_root(actor, ev.actor_kind, ctx).then(note=agent_note))
    if delegators:
        if not delegators[0]:
            return done(ctx.unknown("The delegation chain does not name its original caller."))
        root = principal_root(delegators[0], "", ctx)
        hops = [Hop(name, "", "impersonation", ASSERTED, item.key) for name in delegators[1:]]
        hops.append(Hop(actor, key_id, "impersonation", ASSERTED, item.key))
        chain = root.then(*hops, note=agent_note)
        if key_name:
            chain = chain.then(
                note=f"Service account {actor} also presented long-lived key {key_name}."
            )
        return done(chain)
    original = bare(attr(ev, "original_principal"))
    if original and original != actor:
        # A Google service's own account did the work for the original principal.
        root = principal_root(original, "", ctx)
        return done(root.then(Hop(actor, key_id, "service", ASSERTED, item.key)))
    mapped = _POOL_SUBJECT.match(bare(clean(ev.issued_principal)))
    if ev.actor_kind == "federated_session" and mapped:
        # A token exchange names the principal its subject maps to, as the calls made with
        # the token name their caller; the subject the IdP gave may differ from it.
        return done(pool_root(mapped.group(1), mapped.group(2), ctx))
    audience = attr(ev, "federation_audience")
    if ev.actor_kind == "federated_session" and "Pools/" in audience:
        # A token exchange names the external subject and, in its audience, the pool.
        pool = audience.lstrip("/").split("/providers/", 1)[0]
        return done(pool_root(pool, actor, ctx))
    root = principal_root(actor, ev.actor_kind, ctx)
    if key_name and is_service_account(actor):
        return done(
            root.keyed().then(
                note=f"Service account {actor} authenticated with long-lived key {key_name}."
            )
        )
    return done(root)


def bare(principal: str) -> str:
    """A principal without its IAM member prefix ("serviceAccount:", "user:")."""
    for prefix in _MEMBER_PREFIXES:
        if principal.startswith(prefix) and ".svc.id.goog[" not in principal:
            return principal[len(prefix) :]
    return principal


def is_service_account(principal: str) -> bool:
    """True for a Google service account email."""
    return principal.lower().endswith(_SA_DOMAIN)


def principal_root(principal: str, actor_kind: str, ctx: Context) -> Chain:
    """The identity a Google principal string names, or unknown_principal."""
    if is_service_account(principal):
        email = principal.lower()
        return ctx.root(WORKLOAD, email, [Alias("gcp_service_account", email)])
    gke = _GKE_PRINCIPAL.search(principal) or _GKE_LEGACY.search(principal)
    if gke:
        account = f"system:serviceaccount:{gke.group(1)}:{gke.group(2)}"
        return ctx.root(WORKLOAD, account, [Alias("k8s_service_account", account)])
    if principal.startswith("system:serviceaccount:"):
        return ctx.root(WORKLOAD, principal, [Alias("k8s_service_account", principal)])
    if principal.startswith("system:"):
        # A GKE control-plane component (system:addon-manager), named as the cluster's own
        # audit log names it.
        return ctx.root(WORKLOAD, principal, [Alias("k8s_user", principal)])
    if is_email(principal) and actor_kind not in ("service", "service_account"):
        return ctx.root(HUMAN, principal.lower(), [Alias("email", principal.lower())])
    if is_email(principal) and actor_kind == "service_account":
        # Typed a service account by the log (principalSubject "serviceAccount:..."), under
        # a domain an export renamed.
        email = principal.lower()
        return ctx.root(WORKLOAD, email, [Alias("gcp_service_account", email)])
    pooled = _POOL_SUBJECT.match(principal)
    if pooled:
        return pool_root(pooled.group(1), pooled.group(2), ctx)
    return ctx.unknown(f"Principal {principal} fits no alias namespace.")


def pool_root(pool: str, subject: str, ctx: Context) -> Chain:
    """A subject an external IdP vouched for, federated through an identity pool.

    The pool stands in for the OIDC issuer in the web_identity alias: the pool's provider
    names the issuer, but only the pool is in the log. Workforce pools hold people.
    """
    kind = HUMAN if "/workforcePools/" in pool else WORKLOAD
    return ctx.root(kind, subject, [Alias("web_identity", f"{pool}|{subject}")])
