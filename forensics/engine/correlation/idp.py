"""Identity providers: Okta sessions, Entra sign-ins and the Azure calls made with their
tokens, and OCSF actors."""

from __future__ import annotations

from forensics.engine.correlation.attribution import (
    ANONYMOUS,
    ASSERTED,
    CONFLICTING_EVIDENCE,
    EXACT,
    HUMAN,
    LONG_LIVED_SHARED_KEY,
    UNKNOWN_PRINCIPAL,
    WORKLOAD,
    Alias,
    Hop,
)
from forensics.engine.correlation.aws import cloudtrail_step
from forensics.engine.correlation.aws_actor import is_aws_shaped
from forensics.engine.correlation.chain import Chain, Context, Step, done, follow, gap, missing
from forensics.engine.correlation.facts import attr, clean, is_email
from forensics.engine.correlation.index import EngineEvent
from forensics.engine.model import AUTHENTICATION, NormalizedEvent

_SESSION_START = "user.session.start"
_WORKLOAD_KINDS = frozenset({"service", "service_account", "service_principal", "managed_identity"})


# --- Okta -------------------------------------------------------------------------------------


def okta_step(item: EngineEvent, ctx: Context) -> Step:
    """An Okta event: its own user actor, tied to the user who started its session."""
    ev = item.event
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "Okta recorded no authenticated actor."))
    original = attr(ev, "original_principal_id")
    if original and original != attr(ev, "actor_id"):
        return done(_okta_impersonation(item, original, ctx))
    own = _okta_user(ev, ctx)
    session = clean(ev.correlation_id)
    if not session or ev.action == _SESSION_START:
        return done(own or ctx.unknown(_not_a_user(ev)))
    starts = _starts(ctx, "okta", session)
    return done(_session_chain(item, own, own, session, starts, "actor_id", ctx))


def _starts(ctx: Context, source: str, session: str) -> list[EngineEvent]:
    """The successful sign-ins that started a session (looked up once per session)."""
    cache_key = ("starts", source, session)
    cached: list[EngineEvent] | None = ctx.cache.get(cache_key)
    if cached is None:
        cached = [s for s in ctx.index.with_correlation(session) if _is_start(s.event, source)]
        ctx.cache[cache_key] = cached
    return cached


def _is_start(ev: NormalizedEvent, source: str) -> bool:
    if ev.source_kind != source or ev.outcome != "success":
        return False
    if source == "okta":
        return ev.action == _SESSION_START and bool(attr(ev, "actor_id"))
    return ev.category == AUTHENTICATION and bool(clean(ev.actor_principal))


def _okta_user(ev: NormalizedEvent, ctx: Context) -> Chain | None:
    user_id = attr(ev, "actor_id")
    if ev.actor_kind != "user" or not user_id:
        return None
    login = clean(ev.actor_principal)
    aliases = [Alias("okta_user", user_id)]
    if is_email(login):
        aliases.append(Alias("email", login.lower()))
    return ctx.root(HUMAN, login or user_id, aliases)


def _okta_impersonation(item: EngineEvent, original: str, ctx: Context) -> Chain:
    """An event Okta records under its actor but names another principal behind
    (``debugData.originalPrincipal``): that principal acted, as the actor."""
    ev = item.event
    login = attr(ev, "original_principal")
    aliases = [Alias("okta_user", original)]
    if is_email(login):
        aliases.append(Alias("email", login.lower()))
    kind = HUMAN if attr(ev, "original_principal_type").lower() in ("", "user") else WORKLOAD
    acted_as = clean(ev.actor_principal) or attr(ev, "actor_id") or "(unnamed actor)"
    hop = Hop(acted_as, "", "impersonation", ASSERTED, item.key)
    return ctx.root(kind, login or original, aliases).then(hop)


def _not_a_user(ev: NormalizedEvent) -> str:
    who = clean(ev.actor_principal) or "(unnamed)"
    return f"Actor {who} is not a user and no session ties the event to one."


def _session_chain(
    item: EngineEvent,
    person: Chain | None,
    own: Chain | None,
    session: str,
    starts: list[EngineEvent],
    id_attr: str,
    ctx: Context,
) -> Chain:
    """The origin of an event in a session: the user the session's sign-in names (asserted
    by the IdP), checked against the event's own actor when that is a person; ``own`` is
    the actor's own root, used when no sign-in of the session is known."""
    ev = item.event
    # Every event of a session by the same actor gets the same chain; sessions can be long.
    cache_key = (
        "session",
        session,
        id_attr,
        _start_id(ev, id_attr),
        clean(ev.actor_principal),
        person is not None,
        id(own),  # roots are kept by the context, so their ids stay theirs
    )
    cached: Chain | None = ctx.cache.get(cache_key)
    if cached is None:
        cached = _session_link(item, person, own, session, starts, id_attr, ctx)
        ctx.cache[cache_key] = cached
    return cached


def _session_link(
    item: EngineEvent,
    person: Chain | None,
    own: Chain | None,
    session: str,
    starts: list[EngineEvent],
    id_attr: str,
    ctx: Context,
) -> Chain:
    ev = item.event
    ids = sorted({_start_id(s.event, id_attr) for s in starts} - {""})
    if len(ids) > 1:
        return gap(
            CONFLICTING_EVIDENCE,
            f"Session {session} was started by several users ({', '.join(ids)}).",
            depends=(session,),
        )
    if not ids:
        if own is not None:
            return own.then(depends=(session,))
        return gap(
            UNKNOWN_PRINCIPAL,
            _not_a_user(ev),
            depends=(session,),
        )
    start = min((s for s in starts if _start_id(s.event, id_attr) == ids[0]), key=_by_key)
    own_id = _start_id(ev, id_attr)
    if person is not None and own_id and own_id != ids[0]:
        return gap(
            CONFLICTING_EVIDENCE,
            f"The event's actor {own_id} is not the user {ids[0]} who started session {session}.",
            depends=(session,),
        )
    root = _session_root(start.event, ctx)
    if root is None:
        return gap(
            UNKNOWN_PRINCIPAL,
            f"The sign-in that started session {session} names no user.",
            depends=(session,),
        )
    holder = clean(ev.actor_principal) or clean(start.event.actor_principal)
    return root.then(Hop(holder, session, "sign-in", ASSERTED, start.key), depends=(session,))


def _start_id(ev: NormalizedEvent, id_attr: str) -> str:
    # Without an id attr the principal string identifies the user; logins ignore case.
    return attr(ev, id_attr) if id_attr else clean(ev.actor_principal).lower()


def _session_root(ev: NormalizedEvent, ctx: Context) -> Chain | None:
    if ev.source_kind == "okta":
        return _okta_user(ev, ctx)
    return _ocsf_user(ev, ctx)


def _by_key(item: EngineEvent) -> str:
    return item.key


# --- Entra / Azure ------------------------------------------------------------------------------


def entra_step(item: EngineEvent, ctx: Context) -> Step:
    """An Entra sign-in: the user, service principal or managed identity that signed in."""
    return done(_entra_root(item.event, ctx))


def _entra_root(ev: NormalizedEvent, ctx: Context) -> Chain:
    kind = attr(ev, "sign_in_kind")
    principal = clean(ev.actor_principal)
    if kind == "managed_identity" or ev.actor_kind == "managed_identity":
        sp_id = attr(ev, "service_principal_id")
        if sp_id:
            return ctx.root(WORKLOAD, principal or sp_id, [Alias("azure_managed_identity", sp_id)])
        return ctx.unknown("The managed identity sign-in has no service principal id.")
    if kind == "service_principal" or ev.actor_kind == "service_principal":
        app_id = attr(ev, "app_id")
        if app_id:
            return ctx.root(WORKLOAD, principal or app_id, [Alias("entra_app", app_id)])
        return ctx.unknown("The service principal sign-in has no application id.")
    if ev.actor_kind == "user":
        return _entra_user(attr(ev, "user_id") or attr(ev, "actor_id"), principal, ctx)
    return ctx.unknown("The sign-in names no user, application or managed identity.")


def entra_audit_step(item: EngineEvent, ctx: Context) -> Step:
    """An Entra directory change: the user or application Entra recorded as initiating it.

    The directory writes its own record of who made the change, so the initiator is the
    origin with no hop, as for a sign-in. An application named only by its service principal
    object id is left unattributed: nothing says whether it is an app registration or a
    managed identity, and those are different aliases.
    """
    ev = item.event
    principal = clean(ev.actor_principal)
    if ev.actor_kind == "user":
        return done(_entra_user(attr(ev, "user_id"), principal, ctx))
    if ev.actor_kind == "service_principal":
        app_id = attr(ev, "app_id")
        if app_id:
            name = attr(ev, "app_display_name") or principal or app_id
            return done(ctx.root(WORKLOAD, name, [Alias("entra_app", app_id)]))
        return done(ctx.unknown("The change names its application by object id only."))
    return done(ctx.unknown("The audit record names no initiating user or application."))


def _entra_user(object_id: str, upn: str, ctx: Context) -> Chain:
    aliases = []
    if object_id:
        aliases.append(Alias("entra_user", object_id))
    if is_email(upn):
        aliases.append(Alias("email", upn.lower()))
    if not aliases:
        return ctx.unknown("The user is recorded without object id or sign-in name.")
    return ctx.root(HUMAN, upn or object_id, aliases)


def azure_activity_step(item: EngineEvent, ctx: Context) -> Step:
    """An Azure Resource Manager call or a Microsoft Graph request: the sign-in whose token it
    used (its ``uti``), else the caller its own record names."""
    ev = item.event
    token = clean(ev.credential_used)
    object_id = attr(ev, "caller_object_id")
    if token:
        calls = [c for c in ctx.issuing_calls(token) if c.event.source_kind == "entra"]
        if len(calls) > 1:
            keys = ", ".join(c.key for c in calls)
            return done(
                gap(
                    CONFLICTING_EVIDENCE,
                    f"Token {token} appears in several sign-ins ({keys}).",
                    depends=(token,),
                )
            )
        if calls:
            signin = calls[0]
            holder = clean(ev.actor_principal) or object_id
            signed_in = attr(signin.event, "user_id") or attr(signin.event, "service_principal_id")

            def link(up: Chain) -> Chain:
                cache_key = ("token", signin.key, holder, object_id)
                cached: Chain | None = ctx.cache.get(cache_key)
                if cached is not None:
                    return cached
                chain = up.then(Hop(holder, token, "sign-in", EXACT, signin.key), depends=(token,))
                if object_id and signed_in and object_id != signed_in:
                    chain = chain.broken(
                        CONFLICTING_EVIDENCE,
                        f"Token {token} was issued to {signed_in} but the call names {object_id}.",
                    )
                elif _other_kind(ev, signin.event):
                    chain = chain.broken(
                        CONFLICTING_EVIDENCE,
                        f"Token {token} was issued to {clean(signin.event.actor_principal)} "
                        f"({signin.event.actor_kind}) but the record names {holder} "
                        f"({ev.actor_kind}): a user's token and an application's are not one.",
                    )
                elif not object_id and _other_user(holder, signin.event):
                    chain = chain.broken(
                        CONFLICTING_EVIDENCE,
                        f"Token {token} was issued to {clean(signin.event.actor_principal)} "
                        f"but the record names {holder}.",
                    )
                ctx.cache[cache_key] = chain
                return chain

            return follow(signin, link)
    root = _claims_root(ev, object_id, ctx)
    if root is not None:
        return done(root.then(depends=(token,)))
    if token:
        return done(
            missing(token, item, f"The sign-in that issued token {token} is not in the store.")
        )
    return done(ctx.unknown("The call's claims name no caller."))


_APP_KINDS = frozenset({"service_principal", "managed_identity"})


def _other_kind(ev: NormalizedEvent, signin: NormalizedEvent) -> bool:
    """Whether a record and the sign-in that issued its token disagree on whether a user or
    an application held it (an app-only record naming a user's token, or the reverse)."""
    kinds = {ev.actor_kind, signin.actor_kind}
    return "user" in kinds and bool(kinds & _APP_KINDS)


def _other_user(holder: str, signin: NormalizedEvent) -> bool:
    """Whether a record naming its caller by sign-in name names another user than the sign-in
    that issued its token (names compared without case, as Entra compares them)."""
    signed_in = clean(signin.actor_principal)
    return is_email(holder) and is_email(signed_in) and holder.lower() != signed_in.lower()


def m365_step(item: EngineEvent, ctx: Context) -> Step:
    """A Microsoft 365 record: the Entra sign-in whose token it carried (its ``uti``), else the
    user or application Microsoft 365 recorded, as for an Azure Activity event.

    The accounts the service acts as itself (SharePoint's and Exchange's system accounts, a
    datacenter operator, a policy) name no one in the organisation: left unattributed.
    """
    ev = item.event
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "Microsoft 365 recorded the use of an anonymous sharing link."))
    if ev.actor_kind in ("service", "unknown") and not clean(ev.credential_used):
        user_type = attr(ev, "user_type") or "unknown"
        who = clean(ev.actor_principal) or "no account"
        return done(
            ctx.unknown(
                f"Microsoft 365 recorded {who} (user type {user_type}): the service acting as "
                "itself, or an account that names no person or application."
            )
        )
    return azure_activity_step(item, ctx)


def _claims_root(ev: NormalizedEvent, object_id: str, ctx: Context) -> Chain | None:
    # The token's claims, as Azure recorded them, assert who called.
    principal = clean(ev.actor_principal)
    if ev.actor_kind == "managed_identity" and object_id:
        return ctx.root(
            WORKLOAD, principal or object_id, [Alias("azure_managed_identity", object_id)]
        )
    if ev.actor_kind == "service_principal":
        app_id = attr(ev, "app_id")
        return (
            ctx.root(WORKLOAD, principal or app_id, [Alias("entra_app", app_id)])
            if app_id
            else None
        )
    if ev.actor_kind == "user" and (object_id or is_email(principal)):
        return _entra_user(object_id, principal, ctx)
    return None


# --- OCSF ---------------------------------------------------------------------------------------


def ocsf_step(item: EngineEvent, ctx: Context) -> Step:
    """An OCSF event: AWS principals as CloudTrail, others by session and actor.user."""
    ev = item.event
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "The event has no authenticated actor."))
    if is_aws_shaped(ev):
        return cloudtrail_step(item, ctx)
    own = _ocsf_user(ev, ctx)
    session = attr(ev, "session_uid") or clean(ev.correlation_id)
    if session and ev.category != AUTHENTICATION:
        starts = _starts(ctx, "ocsf", session)
        person = own if ev.actor_kind == "user" else None
        chain = _session_chain(item, person, own, session, starts, "", ctx)
    else:
        chain = own or ctx.unknown(
            f"Actor {clean(ev.actor_principal) or '(unnamed)'} names no identity."
        )
    app = attr(ev, "invoked_by_app")
    if app and app != clean(ev.actor_principal):
        chain = chain.then(Hop(app, "", "service", ASSERTED, item.key))
    return done(chain)


def _ocsf_user(ev: NormalizedEvent, ctx: Context) -> Chain | None:
    principal = clean(ev.actor_principal)
    if not principal:
        return None
    kind = WORKLOAD if ev.actor_kind in _WORKLOAD_KINDS else HUMAN
    if is_email(principal) and ev.actor_kind in ("user", "unknown"):
        return ctx.root(HUMAN, principal.lower(), [Alias("email", principal.lower())])
    if is_email(principal):
        return ctx.root(kind, principal.lower(), [Alias("email", principal.lower())])
    user_id = attr(ev, "actor_id") or principal
    if ev.actor_kind not in ("user", *_WORKLOAD_KINDS):
        return None  # an opaque id of unknown kind: not enough to name anyone
    source = attr(ev, "idp_name") or "ocsf"
    return ctx.root(kind, principal, [Alias("ocsf_user", f"{source}|{user_id}")])


# --- Azure data plane (Key Vault, Storage) ------------------------------------------------------

# Storage identity.type values (lower case, no spaces) of secrets that name no holder.
_ACCOUNT_KEY_AUTH = frozenset({"accountkey", "sharedkey"})


def azure_data_step(item: EngineEvent, ctx: Context) -> Step:
    """A Key Vault or Storage request: the caller the service recorded from the token's claims.

    The service validated the Entra token and wrote who it named, so that caller is the origin
    with no hop, as for an Activity event without its sign-in. An account key, a shared access
    signature or an anonymous request carries no identity: it is left unattributed.
    """
    ev = item.event
    if ev.actor_kind == "anonymous":
        return done(gap(ANONYMOUS, "The request was anonymous: no credential was presented."))
    auth = attr(ev, "auth_type").lower().replace(" ", "")
    if auth in _ACCOUNT_KEY_AUTH:
        return done(
            gap(
                LONG_LIVED_SHARED_KEY,
                "The request was signed with the storage account key: a shared secret that "
                "anyone holding it can use, which names no person or workload.",
            )
        )
    if "sas" in auth:
        return done(
            ctx.unknown(
                "The request presented a shared access signature: a bearer secret that anyone "
                "holding the URL can use, which names no person or workload."
            )
        )
    root = _claims_root(ev, attr(ev, "caller_object_id"), ctx)
    if root is not None:
        return done(root)
    if auth and auth not in ("oauth", "kerberos"):
        return done(ctx.unknown(f"The request was authenticated by {auth}, which names no one."))
    return done(ctx.unknown("The record names no user, application or managed identity."))
