"""Kubernetes: users, service accounts, impersonation, and the EKS bridge to IAM."""

from __future__ import annotations

from forensics.engine.correlation.attribution import (
    ANONYMOUS,
    ASSERTED,
    CONFLICTING_EVIDENCE,
    EXACT,
    HUMAN,
    SHARED_ACCOUNT,
    WORKLOAD,
    Alias,
    Hop,
)
from forensics.engine.correlation.aws import actor_step
from forensics.engine.correlation.aws_actor import eks_actor
from forensics.engine.correlation.chain import Chain, Context, Step, done, follow, gap
from forensics.engine.correlation.facts import attr, clean, is_email
from forensics.engine.correlation.index import EngineEvent

_SERVICE_ACCOUNT = "system:serviceaccount:"
# The user names of the admin client certificates cluster tools write to the kubeconfig
# they hand out (kubeadm's and kind's admin.conf, minikube's, k3s' and OpenShift's
# system:admin): a file, copied to whoever administers the cluster. EKS maps the cluster's
# creator to kubernetes-admin too, but names the IAM principal behind it (followed above).
_SHARED_ADMINS = frozenset({"kubernetes-admin", "minikube-user", "system:admin"})
_ANONYMOUS = "system:anonymous"


def k8s_step(item: EngineEvent, ctx: Context) -> Step:
    """The actor chain of a Kubernetes audit event."""
    ev = item.event
    user = clean(ev.actor_principal)
    if user == _ANONYMOUS or ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "The API server accepted an anonymous request."))
    if not user:
        return done(ctx.unknown("The audit event does not name its user."))
    # EKS's own control-plane components (eks:addon-manager and the like) act under roles
    # AWS runs for the cluster, whose issuing calls no customer trail holds: workloads.
    aws = None if user.startswith("eks:") else eks_actor(item)
    if aws is not None:
        # EKS maps an IAM principal to the Kubernetes user: the record asserts the bridge,
        # and the IAM principal's own chain (exact when its key was issued in the store)
        # continues behind it.
        bridge = Hop(user, "", "token-exchange", ASSERTED, item.key) if user != aws.arn else None
        step = actor_step(aws, ctx)
        if bridge is not None:
            step = step.then(lambda chain: chain.then(bridge))
    elif user in _SHARED_ADMINS:
        step = done(
            gap(
                SHARED_ACCOUNT,
                f"{user} is the name of the cluster-admin client certificate a cluster tool "
                "writes to its admin kubeconfig: whoever held that file acted, not one person.",
            )
        )
    elif user.startswith(_SERVICE_ACCOUNT):
        step = _service_account(item, user, ctx)
    elif user.startswith(("system:", "eks:")) or ev.actor_kind == "service":
        # Control-plane components (kubelets, controllers, a managed control plane's own
        # account such as AKS's aksService): workloads named by username.
        step = done(ctx.root(WORKLOAD, user, [Alias("k8s_user", user)]))
    else:
        aliases = [Alias("k8s_user", user)]
        if is_email(user):
            aliases.append(Alias("email", user.lower()))
        step = done(ctx.root(HUMAN, user, aliases))
    impersonated = attr(ev, "impersonated_user")
    if impersonated:
        # The impersonator authenticated and is the real actor; whom it acted as is a hop.
        hop = Hop(impersonated, "", "impersonation", ASSERTED, item.key)
        step = step.then(lambda chain: chain.then(hop))
    return step


def _service_account(item: EngineEvent, account: str, ctx: Context) -> Step:
    ev = item.event
    pod = attr(ev, "pod_name")
    note = f"Service account {account} acted from pod {pod}." if pod else ""
    root = ctx.root(WORKLOAD, account, [Alias("k8s_service_account", account)], note)
    credential = clean(ev.credential_used)
    if not credential:
        return done(root)
    calls = ctx.issuing_calls(credential)
    if len(calls) > 1:
        keys = ", ".join(c.key for c in calls)
        return done(
            gap(
                CONFLICTING_EVIDENCE,
                f"Token {credential} was issued by several requests ({keys}).",
                depends=(credential,),
            )
        )
    requester = calls[0].event if calls else None
    if (
        requester is None
        or calls[0].key == item.key
        or requester.actor_kind not in ("user", "service_account")
        or clean(requester.actor_principal) == account
    ):
        # Tokens the kubelet or a controller mints for a pod, or an account for itself,
        # belong to the workload.
        return done(root.then(depends=(credential,)))
    # A person (kubectl create token) or another workload's account requested this token:
    # whoever holds it acts with it, so the chain goes on from the requester.
    issuer = calls[0]
    issued_to = clean(issuer.event.issued_principal)

    def link(up: Chain) -> Chain:
        chain = up.then(
            Hop(account, credential, "token-exchange", EXACT, issuer.key),
            depends=(credential,),
        )
        if issued_to and issued_to != account:
            return chain.broken(
                CONFLICTING_EVIDENCE,
                f"Token {credential} was requested for {issued_to}, not {account}.",
            )
        return chain

    return follow(issuer, link)
