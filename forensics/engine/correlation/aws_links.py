"""Exact AWS links: the call that issued a key, checked against the record that used it."""

from __future__ import annotations

from forensics.engine.correlation.attribution import (
    CONFLICTING_EVIDENCE,
    EXACT,
    UNKNOWN_PRINCIPAL,
    WORKLOAD,
    Alias,
    Hop,
)
from forensics.engine.correlation.aws_actor import AwsActor
from forensics.engine.correlation.chain import Chain, Context, gap
from forensics.engine.correlation.facts import (
    SKEW,
    attr,
    clean,
    role_name,
    same_arn,
    same_role,
    when,
)
from forensics.engine.correlation.index import EngineEvent
from forensics.engine.model import HOP_METHODS, NormalizedEvent

_METHODS_BY_ACTION = {
    "AssumeRole": "assume-role",
    "AssumeRoleWithSAML": "saml-federation",
    "AssumeRoleWithWebIdentity": "web-identity",
    "GetSessionToken": "session-token",
    "GetFederationToken": "federation-token",
    "GetRoleCredentials": "sso",
    "AssumeRoot": "assume-role",
}
# Services that deliver role credentials to a compute resource they run: the resource, not
# the service, is the workload that holds the key.
_POD_IDENTITY = "pods.eks.amazonaws.com"
_COMPUTE_SERVICES = frozenset(
    {
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
        "ecs-tasks.amazonaws.com",
        "pods.eks.amazonaws.com",
        "batch.amazonaws.com",
    }
)


def exact_link(up: Chain, actor: AwsActor, issuer: EngineEvent, ctx: Context) -> Chain:
    """The issuer's chain continued by the key it issued, unless the two records disagree."""
    # Every record of one session shares the link; only its time checks are per record.
    signature = (
        "exact",
        issuer.key,
        actor.credential,
        actor.arn,
        actor.principal_id,
        actor.session_issuer_arn,
        actor.identity_type,
        actor.session_name,
        actor.session_created,
    )
    chain = ctx.cache.get(signature)
    if chain is None:
        chain = _link_once(up, actor, issuer)
        ctx.cache[signature] = chain
    problems = timing_problems(actor.item.event, issuer.event)
    if problems:
        return chain.broken(CONFLICTING_EVIDENCE, _misfit(actor, issuer, problems))
    return chain


def _link_once(up: Chain, actor: AwsActor, issuer: EngineEvent) -> Chain:
    iev = issuer.event
    credential = actor.credential
    holder = clean(iev.issued_principal) or actor.holder
    hop = Hop(holder, credential, method_of(iev), EXACT, issuer.key)
    chain = up.asserting(attr(iev, "requested_source_identity"), f"issuing event {issuer.key}")
    chain = chain.then(hop, depends=(credential,))
    problems = identity_problems(actor, issuer)
    if problems:
        return chain.broken(CONFLICTING_EVIDENCE, _misfit(actor, issuer, problems))
    return chain


def _misfit(actor: AwsActor, issuer: EngineEvent, problems: list[str]) -> str:
    return (
        f"Key {actor.credential} from event {issuer.key} does not fit its use: "
        + "; ".join(problems)
        + "."
    )


def cross_check(actor: AwsActor, issuer: EngineEvent) -> list[str]:
    """Where the issuing call and the record using its key disagree (empty when they fit)."""
    return identity_problems(actor, issuer) + timing_problems(actor.item.event, issuer.event)


def identity_problems(actor: AwsActor, issuer: EngineEvent) -> list[str]:
    """Disagreements on who holds the key: principal, role, session name and creation."""
    iev = issuer.event
    problems: list[str] = []
    issued_to = clean(iev.issued_principal)
    if issued_to.startswith("arn:") and actor.arn and not same_arn(issued_to, actor.arn):
        problems.append(f"issued to {issued_to} but used as {actor.arn}")
    role_id = attr(iev, "assumed_role_id")
    if role_id and actor.principal_id and not _same_role_id(role_id, actor.principal_id):
        problems.append(f"assumed role id {role_id} but principal id {actor.principal_id}")
    role_arn = attr(iev, "role_arn")
    session_issuer = actor.session_issuer_arn
    if (
        role_arn
        and session_issuer
        and actor.identity_type == "AssumedRole"
        and role_name(session_issuer)
        and not same_role(role_arn, session_issuer)
    ):
        problems.append(f"role {role_arn} assumed but session issued by {session_issuer}")
    requested = attr(iev, "role_session_name")
    if requested and actor.session_name and requested != actor.session_name:
        problems.append(f"session name {requested} requested but {actor.session_name} used")
    created = when(actor.session_created)
    if created is not None and abs(created - iev.event_time) > SKEW:
        problems.append(f"session created {actor.session_created}, not at the issuing call")
    return problems


def timing_problems(ev: NormalizedEvent, iev: NormalizedEvent) -> list[str]:
    """A key used before its issuing call, or successfully after it expired."""
    problems: list[str] = []
    if ev.event_time < iev.event_time - SKEW:
        problems.append("used before it was issued")
    expires = when(attr(iev, "credential_expiration"))
    if expires is not None and ev.outcome == "success" and ev.event_time > expires + SKEW:
        problems.append("used successfully after it expired")
    return problems


def delivered(actor: AwsActor, issuer: EngineEvent, ctx: Context) -> Chain:
    """The chain of a key an AWS service issued: to a resource it runs, or to itself."""
    # An AWS service assumed the role itself to hand the key to something it runs (instance
    # profile, Lambda, ECS task) or to act for itself: the origin is that resource or service.
    iev = issuer.event
    ev = actor.item.event
    service = attr(iev, "invoked_by") or clean(iev.actor_principal)
    holder = actor.arn or clean(iev.issued_principal) or actor.holder
    in_scope = attr(ev, "in_scope_of_issued_to")
    pod_account = attr(iev, "pod_service_account") if service == _POD_IDENTITY else ""
    if pod_account:
        # EKS Pod Identity tagged the session with the pod's service account: the workload
        # is that account, as the cluster's own audit log names it.
        root = ctx.root(WORKLOAD, pod_account, [Alias("k8s_service_account", pod_account)])
        method = "token-exchange"
    elif in_scope:
        root = ctx.root(WORKLOAD, in_scope, [Alias("aws_workload", in_scope)])
        method = "instance-profile"
    elif service in _COMPUTE_SERVICES and holder:
        root = ctx.root(WORKLOAD, holder, [Alias("aws_workload", holder)])
        method = "instance-profile"
    elif service:
        root = ctx.root(WORKLOAD, service, [Alias("aws_service", service)])
        method = method_of(iev)
    else:
        return gap(
            UNKNOWN_PRINCIPAL,
            f"An AWS service issued key {actor.credential} but the record does not say which.",
            depends=(actor.credential,),
        )
    chain = root.then(
        Hop(holder, actor.credential, method, EXACT, issuer.key),
        depends=(actor.credential,),
        note=f"The AWS service {service} delivered the key to {holder}.",
    )
    problems = cross_check(actor, issuer)
    if problems:
        return chain.broken(CONFLICTING_EVIDENCE, "; ".join(problems) + ".")
    return chain


def issued_by_service(iev: NormalizedEvent) -> bool:
    """True when an AWS service itself made the issuing call."""
    return iev.actor_kind == "service" or attr(iev, "identity_type") == "AWSService"


def two_issuers(credential: str, calls: tuple[EngineEvent, ...]) -> Chain:
    """A key issued by more than one call: a contradiction, never a pick."""
    keys = ", ".join(c.key for c in calls)
    return gap(
        CONFLICTING_EVIDENCE,
        f"Key {credential} was issued by {len(calls)} different calls ({keys}).",
        depends=(credential,),
    )


def method_of(iev: NormalizedEvent) -> str:
    """The hop method of an issuing call."""
    if iev.issue_method in HOP_METHODS:
        return iev.issue_method
    return _METHODS_BY_ACTION.get(iev.action.rsplit(":", 1)[-1], "assume-role")


def _same_role_id(issued: str, principal_id: str) -> bool:
    role_a, _, session_a = issued.partition(":")
    role_b, _, session_b = principal_id.partition(":")
    if role_a != role_b:
        return False
    return not (session_a and session_b) or session_a == session_b
