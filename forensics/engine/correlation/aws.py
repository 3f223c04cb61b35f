"""AWS: follow temporary keys back to the calls that issued them, up to a root identity.

An AWS chain is exact where a key id matches: the call that issued a key names it in its
response, and every later request signed with it names it in ``userIdentity``. Where the
issuing call is not in the store, only what the using record itself asserts may stand in
for it (``inScopeOf``, an Identity Center role session's name, ``sourceIdentity``); a match
on assumed role id and time alone is a guess, and stays ``inferred``.
"""

from __future__ import annotations

from forensics.engine.correlation.attribution import (
    ANONYMOUS,
    ASSERTED,
    CONFLICTING_EVIDENCE,
    EXACT,
    HUMAN,
    WORKLOAD,
    Alias,
    Hop,
)
from forensics.engine.correlation.aws_actor import (
    AwsActor,
    actor_of,
)
from forensics.engine.correlation.aws_gaps import missing_note, role_fallback
from forensics.engine.correlation.aws_links import (
    delivered,
    exact_link,
    issued_by_service,
    method_of,
    two_issuers,
)
from forensics.engine.correlation.chain import (
    Chain,
    Context,
    Link,
    Step,
    distinct_calls,
    done,
    follow,
    gap,
    missing,
)
from forensics.engine.correlation.facts import attr, clean, is_email, strip_scheme
from forensics.engine.correlation.index import EngineEvent

# OIDC providers whose subjects are people signing in to an app, not workloads.
_CONSUMER_IDPS = frozenset({"accounts.google.com", "graph.facebook.com", "www.amazon.com"})
_SSO_SOURCES = frozenset({"sso.amazonaws.com", "portal.sso.amazonaws.com"})


def cloudtrail_step(item: EngineEvent, ctx: Context) -> Step:
    """The actor chain of a CloudTrail record (or an OCSF record of an AWS call)."""
    actor = actor_of(item)
    return actor_step(actor, ctx).then(own_facts(actor))


def own_facts(actor: AwsActor) -> Link:
    """What the record itself adds on top of its actor: sourceIdentity and invokedBy."""
    ev = actor.item.event
    key = actor.item.key
    source_identity = clean(ev.source_identity)
    # For services acting on their own (or with their service role) invokedBy is the actor.
    invoked = attr(ev, "invoked_by") if actor.identity_type not in ("AWSService", "Role") else ""

    def add(chain: Chain) -> Chain:
        chain = chain.asserting(source_identity, f"event {key}")
        if invoked:
            chain = chain.then(Hop(invoked, "", "service", ASSERTED, key))
        return chain

    return add


def actor_step(actor: AwsActor, ctx: Context) -> Step:
    """The chain of whoever an AWS principal is, following its key when it has one."""
    ev = actor.item.event
    itype = actor.identity_type
    action = ev.action.rsplit(":", 1)[-1]
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "The request was made without credentials."))
    if itype == "AWSAccount":
        return _other_account(actor, ctx)
    if itype == "AWSService":
        return done(_service_root(actor, ctx))
    if itype == "SAMLUser" or action == "AssumeRoleWithSAML":
        return done(_saml_root(actor, ctx))
    if itype == "WebIdentityUser" or action == "AssumeRoleWithWebIdentity":
        return done(_web_identity_root(actor, ctx))
    if itype == "IdentityCenterUser" or attr(ev, "on_behalf_of_user_id"):
        return done(_identity_center(actor, ctx))
    if itype in ("IAMUser", "Root"):
        return _long_lived_user(actor, ctx)
    if itype == "FederatedUser":
        return _federated(actor, ctx)
    if itype == "AssumedRole":
        return _role_session(actor, ctx)
    if itype == "Role":
        return done(_service_role(actor, ctx))
    if attr(ev, "event_source") in _SSO_SOURCES and attr(ev, "user_name"):
        return done(_portal_user(actor, ctx))
    return done(ctx.unknown(f"The record names no AWS principal that leads anywhere ({itype})."))


def _other_account(actor: AwsActor, ctx: Context) -> Step:
    # The resource account's copy of a cross-account call only names the caller's account;
    # the caller's own copy, with the same shared event id, has the full identity.
    ev = actor.item.event
    shared = attr(ev, "shared_event_id")
    if not shared:
        return done(ctx.unknown("The record names only the calling account."))
    twins = [
        t
        for t in ctx.index.with_shared_event_id(shared)
        if t.key != actor.item.key and actor_of(t).identity_type != "AWSAccount"
    ]
    if not twins:
        return done(
            missing(
                shared,
                actor.item,
                f"The calling account's record of this call (shared event {shared}) "
                "is not in the store.",
            )
        )
    principals = sorted({clean(t.event.actor_principal) for t in twins})
    if len(principals) > 1:
        return done(
            gap(
                CONFLICTING_EVIDENCE,
                f"Records sharing event id {shared} name different callers: "
                + ", ".join(principals)
                + ".",
                depends=(shared,),
            )
        )
    twin = distinct_calls(twins)[0]
    note = f"The caller is named by the other account's record {twin.key}."
    return follow(twin, lambda up: up.then(note=note, depends=(shared,)))


def _service_root(actor: AwsActor, ctx: Context) -> Chain:
    ev = actor.item.event
    service = attr(ev, "invoked_by") or clean(ev.actor_principal)
    if not service:
        return ctx.unknown("An AWS service acted but the record does not say which.")
    return ctx.root(WORKLOAD, service, [Alias("aws_service", service)])


def _service_role(actor: AwsActor, ctx: Context) -> Chain:
    # A bare role as the identity (no session) is how CloudTrail records a service acting
    # with its service role: the service is the actor, the role a hop it took.
    ev = actor.item.event
    service = attr(ev, "invoked_by")
    if not service:
        return ctx.unknown(f"The role {actor.holder} acted with no session and no service.")
    root = ctx.root(WORKLOAD, service, [Alias("aws_service", service)])
    return root.then(Hop(actor.holder, actor.credential, "assume-role", ASSERTED, actor.item.key))


def _saml_root(actor: AwsActor, ctx: Context) -> Chain:
    ev = actor.item.event
    subject = attr(ev, "federation_subject") or attr(ev, "user_name")
    issuer = attr(ev, "federation_issuer")
    if not subject:
        return ctx.unknown("The SAML assertion's subject is not recorded.")
    if attr(ev, "federation_subject_type").lower().endswith(":transient"):
        return ctx.unknown(f"The SAML subject {subject} is a transient id: it names no one.")
    aliases = []
    if issuer:
        aliases.append(Alias("saml_subject", f"{issuer}|{subject}"))
    if is_email(subject):
        aliases.append(Alias("email", subject.lower()))
    if not aliases:
        return ctx.unknown(f"The SAML subject {subject} is recorded without its issuer.")
    return ctx.root(HUMAN, subject, aliases)


def _web_identity_root(actor: AwsActor, ctx: Context) -> Chain:
    ev = actor.item.event
    subject = attr(ev, "federation_subject") or attr(ev, "user_name")
    issuer = strip_scheme(
        attr(ev, "federation_issuer")
        or attr(ev, "web_id_federation_provider")
        or attr(ev, "identity_provider")
    )
    if not subject or not issuer:
        return ctx.unknown("The web identity token's subject or issuer is not recorded.")
    # The issuer keeps its path: EKS clusters differ only there (oidc.eks.<region>/id/<id>).
    aliases = [Alias("web_identity", f"{issuer}|{subject}")]
    if subject.startswith("system:serviceaccount:"):
        aliases.append(Alias("k8s_service_account", subject))
    kind = HUMAN if issuer in _CONSUMER_IDPS else WORKLOAD
    return ctx.root(kind, subject, aliases)


def _identity_center(actor: AwsActor, ctx: Context) -> Chain:
    # onBehalfOf is written by AWS for requests an application makes for an Identity Center
    # user (trusted identity propagation): the user is the origin, the application a hop.
    ev = actor.item.event
    key = actor.item.key
    user_id = attr(ev, "on_behalf_of_user_id")
    if not user_id:
        return ctx.unknown("An Identity Center request is recorded without its user id.")
    user_name = attr(ev, "user_name")
    aliases = [Alias("idc_user", user_id)]
    if is_email(user_name):
        aliases.append(Alias("email", user_name.lower()))
    root = ctx.root(HUMAN, user_name or user_id, aliases)
    credential = actor.credential
    holder = actor.arn or clean(ev.actor_principal) or user_id
    if actor.identity_type != "IdentityCenterUser" or not credential:
        return root.then(Hop(holder, credential, "delegation", ASSERTED, key))
    # An IdentityCenterUser request carries the Identity Center token id the application
    # obtained for the user (CreateTokenWithIAM names it too): an exact link when present.
    calls = ctx.issuing_calls(credential)
    if len(calls) > 1:
        return two_issuers(credential, calls)
    if not calls:
        return root.then(
            Hop(holder, credential, "delegation", ASSERTED, key), depends=(credential,)
        )
    issuer = calls[0]
    issued_to = clean(issuer.event.issued_principal)
    hops = []
    # The application that exchanged its token for the user's (CreateTokenWithIAM's caller,
    # as its record names it) acts for the user: a hop of the chain, never left out.
    app = clean(issuer.event.actor_principal)
    if app and app not in (user_id, holder):
        app_key = clean(issuer.event.credential_used)
        hops.append(Hop(app, app_key, "delegation", ASSERTED, issuer.key))
    hops.append(Hop(holder, credential, method_of(issuer.event), EXACT, issuer.key))
    chain = root.then(*hops, depends=(credential,))
    if issued_to and issued_to != user_id:
        return chain.broken(
            CONFLICTING_EVIDENCE,
            f"Token {credential} was issued for user {issued_to}, not {user_id}.",
        )
    return chain


def _portal_user(actor: AwsActor, ctx: Context) -> Chain:
    # Identity Center portal calls (GetRoleCredentials, ...) are recorded by the service with
    # the signed-in user's name: the service asserts who it authenticated.
    name = attr(actor.item.event, "user_name")
    aliases = [Alias("email", name.lower())] if is_email(name) else []
    return ctx.root(HUMAN, name, aliases)


def _long_lived_user(actor: AwsActor, ctx: Context) -> Step:
    if not actor.arn:
        return done(ctx.unknown("The IAM user is recorded without its ARN."))
    namespace = "aws_root" if actor.identity_type == "Root" else "aws_iam_user"
    root = ctx.root(HUMAN, actor.arn, [Alias(namespace, actor.arn)])
    credential = actor.credential
    if not credential or credential.startswith("AKIA"):
        return done(root)
    # A temporary key of the user itself: GetSessionToken, or a console session that no
    # call issued. The record names the user either way; the issuing call adds the hop.
    calls = ctx.issuing_calls(credential)
    if len(calls) > 1:
        return done(two_issuers(credential, calls))
    if calls and calls[0].key != actor.item.key:
        issuer = calls[0]
        return follow(issuer, lambda up: exact_link(up, actor, issuer, ctx))
    if attr(actor.item.event, "assumed_root") == "true":
        # An AssumeRoot session is root in name only: someone in the management account
        # holds it, and only the missing AssumeRoot call can say who.
        return done(missing(credential, actor.item, missing_note(actor)))
    return done(root.then(depends=(credential,)))


def _federated(actor: AwsActor, ctx: Context) -> Step:
    credential = actor.credential
    if credential:
        calls = ctx.issuing_calls(credential)
        if len(calls) > 1:
            return done(two_issuers(credential, calls))
        if calls and calls[0].key != actor.item.key:
            issuer = calls[0]
            return follow(issuer, lambda up: exact_link(up, actor, issuer, ctx))
    issuer_arn = actor.session_issuer_arn
    if actor.session_issuer_type in ("IAMUser", "Root") and issuer_arn:
        # GetFederationToken sessions record the IAM user that requested them.
        namespace = "aws_root" if actor.session_issuer_type == "Root" else "aws_iam_user"
        root = ctx.root(HUMAN, issuer_arn, [Alias(namespace, issuer_arn)])
        hop = Hop(actor.holder, credential, "federation-token", ASSERTED, actor.item.key)
        return done(root.then(hop, depends=(credential,)))
    if credential:
        return done(missing(credential, actor.item, missing_note(actor)))
    return done(ctx.unknown("The federated session names neither its key nor its issuer."))


def _role_session(actor: AwsActor, ctx: Context) -> Step:
    credential = actor.credential
    if credential:
        calls = ctx.issuing_calls(credential)
        if len(calls) > 1:
            return done(two_issuers(credential, calls))
        if calls and calls[0].key == actor.item.key:
            return done(
                gap(
                    CONFLICTING_EVIDENCE,
                    f"Event {actor.item.key} uses the key {credential} it issued.",
                    depends=(credential,),
                )
            )
        if calls:
            issuer = calls[0]
            if issued_by_service(issuer.event):
                return done(delivered(actor, issuer, ctx))
            return follow(issuer, lambda up: exact_link(up, actor, issuer, ctx))
    return done(role_fallback(actor, ctx))
