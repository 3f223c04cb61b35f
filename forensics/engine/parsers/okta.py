"""Okta System Log LogEvent objects, as the System Log API pages them or an export writes them,
and as an Okta log stream hands them to Amazon EventBridge (the LogEvent is the ``detail``).

The session an Okta user signs in with (``authenticationContext.externalSessionId``) is carried
by every later event of that session, including the token grants and SSO hand-offs made for
the user; it is the credential that ties those events back to the human.
"""

from __future__ import annotations

from typing import Any

from forensics.engine.model import (
    AUTHENTICATION,
    CREDENTIAL_ISSUE,
    DATA_ACCESS,
    OTHER,
    PERMISSION_CHANGE,
    NormalizedEvent,
    RecordError,
)
from forensics.engine.parsers.common import (
    fields_under,
    get,
    object_list,
    opt_dict,
    opt_list,
    opt_str,
    parse_time,
    unmasked,
)

# Okta writes these where it has no value; they are not identifiers.
# "redacted": what sanitized exports write where an id was withheld.
_PLACEHOLDERS = frozenset({"unknown", "null", "none", "hidden_due_to_security_reasons", "redacted"})

_SUCCESS = {"SUCCESS", "ALLOW"}
_FAILURE = {"FAILURE", "DENY"}

_USER_TYPES = {"user"}
_SERVICE_TYPES = {"systemprincipal"}
_APP_TYPES = {
    "publicclientapp",
    "appinstance",
    "client",
    "oauth2client",
    "serviceprincipal",
    "workloadidentityprincipal",
}

_ADDRESS_ACTOR = "ip"
_TOKEN_TARGET_TYPES = {"access_token", "id_token", "refresh_token", "token"}

# Grants that trade one token or assertion for another rather than signing someone in.
_EXCHANGE_GRANTS = {
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
}

_PERMISSION_PREFIXES = (
    "user.account.privilege.",
    "group.privilege.",
    "group.user_membership.",
    "group.application_assignment.",
    "iam.resourceset.bindings.",
)
_PERMISSION_TYPES = {
    "application.user_membership.add",
    "application.user_membership.remove",
    # A super admin granting, extending or revoking Okta Support's access to the org.
    "user.session.impersonation.grant",
    "user.session.impersonation.extend",
    "user.session.impersonation.revoke",
}
# Signing in (Okta Support too, as the access granted lets it), and a user's sign-in
# factors set, reset or removed (by the user or an admin), as Entra's audit files them.
_SIGN_INS = {
    "user.session.start",
    "user.session.impersonation.initiate",
    "user.account.reset_password",
    "user.account.update_password",
}
_SIGN_IN_FACTOR_PREFIXES = ("user.authentication.", "user.mfa.factor.")
# An API token made for the admin who creates it: the token acts with that admin's rights.
_TOKENS_MINTED = {"system.api_token.create"}
# An admin revealing a user's stored password for an application.
_DATA_READS = {"application.user_membership.show_password"}
_SIGN_IN_TARGET = "appinstance"  # what a sign-in was to, beside the factor it used


def _clean(value: str) -> str:
    """The value without Okta's placeholders and redactions ("unknown", "*****")."""
    return unmasked(value, _PLACEHOLDERS)


def _record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"record should be a JSON object, found {type(record).__name__}")
    return record


def _targets(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for _where, item in object_list(record, "target")]


def _outcome(result: str) -> str:
    result = result.upper()
    if result in _SUCCESS:
        return "success"
    if result in _FAILURE:
        return "failure"
    return "unknown"


def _actor_kind(actor_type: str, principal: str) -> str:
    if not principal:
        return "unknown"
    kind = actor_type.lower()
    if kind in _USER_TYPES:
        return "user"
    if kind in _SERVICE_TYPES:
        return "service"
    if kind in _APP_TYPES or kind.endswith(("app", "client")):
        return "service_principal"
    return "unknown"


def _category(event_type: str) -> str:
    if event_type in _SIGN_INS or event_type.startswith(_SIGN_IN_FACTOR_PREFIXES):
        return AUTHENTICATION
    if event_type in _TOKENS_MINTED or (
        event_type.startswith("app.oauth2.") and ".token.grant" in event_type
    ):
        return CREDENTIAL_ISSUE
    if event_type in _PERMISSION_TYPES or event_type.startswith(_PERMISSION_PREFIXES):
        return PERMISSION_CHANGE
    if event_type in _DATA_READS:
        return DATA_ACCESS
    return OTHER


def _mfa(
    event_type: str, outcome: str, debug: dict[str, Any], targets: list[dict[str, Any]]
) -> bool | None:
    """True only when the event records a second factor that was verified.

    Identity Engine writes ``auth_via_mfa`` for every authenticator verified, the password
    too: the authenticator (an ``AuthenticatorEnrollment`` target, its ``methodTypeUsed``)
    or the Classic engine's ``debugData.factor`` says which."""
    if outcome != "success":
        return None
    factor = _clean(opt_str(debug, "factor"))
    methods = [m for t in targets if (m := _authenticator(t))]
    if factor:
        methods.append(factor)
    if methods and all(m.lower().replace(" ", "_").startswith("password") for m in methods):
        return None
    if event_type == "user.authentication.auth_via_mfa" or factor:
        return True
    return None


def _authenticator(target: dict[str, Any]) -> str:
    """The method an authenticator target was verified with ("" for other targets)."""
    if opt_str(target, "type").lower() != "authenticatorenrollment":
        return ""
    detail = target.get("detailEntry")
    used = _clean(opt_str(detail, "methodTypeUsed")) if isinstance(detail, dict) else ""
    return used or _clean(opt_str(target, "displayName"))


def _target_name(target: dict[str, Any]) -> str:
    return (
        _clean(opt_str(target, "alternateId"))
        or _clean(opt_str(target, "displayName"))
        or _clean(opt_str(target, "id"))
    )


def _resource(targets: list[dict[str, Any]], sign_in: bool) -> tuple[str, str]:
    """The first target that is not a token: tokens are what was issued, not what was used.
    A sign-in's is the application signed in to, not the factor (an authenticator) used."""
    if sign_in:
        for target in targets:
            name = _target_name(target)
            if name and opt_str(target, "type").lower() == _SIGN_IN_TARGET:
                return name, opt_str(target, "type")
    for target in targets:
        kind = opt_str(target, "type")
        if kind.lower() in _TOKEN_TARGET_TYPES:
            continue
        name = _target_name(target)
        if name:
            return name, kind
    return "", ""


def _issued_token(targets: list[dict[str, Any]]) -> str:
    for target in targets:
        if opt_str(target, "type").lower() in _TOKEN_TARGET_TYPES:
            token_id = _clean(opt_str(target, "id"))
            if token_id:
                return token_id
    return ""


def _is_log_stream_event(record: dict[str, Any]) -> bool:
    """An Amazon EventBridge event from an Okta log stream: the LogEvent is its ``detail``
    (source ``aws.partner/okta.com/<org>/<stream>``), as EventBridge rules deliver it to a
    Firehose archive, a queue or a log group."""
    source = record.get("source")
    return (
        isinstance(source, str)
        and source.startswith("aws.partner/okta.com/")
        and "detail" in record
    )


class OktaParser:
    """Okta System Log LogEvent records."""

    kind = "okta"
    label = "Okta System Log"

    def sniff(self, record: dict[str, Any]) -> bool:
        """A LogEvent has uuid, published, eventType and an actor object (also as the
        ``detail`` of an Okta log stream's EventBridge event)."""
        if isinstance(record, dict) and _is_log_stream_event(record):
            record = record["detail"]
        return (
            isinstance(record, dict)
            and isinstance(record.get("uuid"), str)
            and isinstance(record.get("published"), str)
            and isinstance(record.get("eventType"), str)
            and isinstance(record.get("actor"), dict)
        )

    def parse(self, record: dict[str, Any]) -> NormalizedEvent:
        """Normalize one LogEvent; RecordError names the field when it cannot be."""
        record = _record(record)
        if _is_log_stream_event(record):
            detail = opt_dict(record, "detail")
            if not detail:
                raise RecordError("required field 'detail' is missing or empty")
            with fields_under("detail."):
                return self._parse(detail)
        return self._parse(record)

    def _parse(self, record: dict[str, Any]) -> NormalizedEvent:
        event_time = parse_time(get(record, "published"), "published")
        event_type = opt_str(record, "eventType")
        actor = opt_dict(record, "actor")
        auth = opt_dict(record, "authenticationContext")
        debug = opt_dict(record, "debugContext.debugData")
        targets = _targets(record)

        actor_id = _clean(opt_str(actor, "id"))
        actor_type = opt_str(actor, "type")
        principal = _clean(opt_str(actor, "alternateId")) or actor_id
        if actor_type.lower() == _ADDRESS_ACTOR:
            # A threat detection's actor is the address the requests came from: no one.
            principal = ""
        actor_kind = _actor_kind(actor_type, principal)
        outcome = _outcome(opt_str(record, "outcome.result"))
        session_id = _clean(opt_str(auth, "externalSessionId"))
        transaction_id = _clean(opt_str(record, "transaction.id"))
        category = _category(event_type)

        source_address = _clean(opt_str(record, "client.ipAddress"))
        if not source_address and actor_type.lower() == _ADDRESS_ACTOR:
            source_address = actor_id
        if not source_address:
            chain = opt_list(record, "request.ipChain")
            if chain and isinstance(chain[0], dict):
                source_address = _clean(opt_str(chain[0], "ip"))

        resource, resource_type = _resource(targets, category == AUTHENTICATION)

        attrs: dict[str, Any] = {}
        if actor_id:
            attrs["actor_id"] = actor_id
        if actor_type:
            attrs["actor_type"] = actor_type
        display = _clean(opt_str(actor, "displayName"))
        if display:
            attrs["actor_display_name"] = display
        if transaction_id:
            attrs["transaction_id"] = transaction_id
        target_ids = [tid for t in targets if (tid := _clean(opt_str(t, "id")))]
        if target_ids:
            attrs["target_ids"] = target_ids
        root_session = _clean(opt_str(auth, "rootSessionId")) or _clean(
            opt_str(debug, "rootSessionId")
        )
        if root_session:
            attrs["root_session_id"] = root_session
        if outcome == "failure":
            reason = _clean(opt_str(record, "outcome.reason"))
            if reason:
                attrs["error_code"] = reason

        # Someone acting as the actor (Okta Support's impersonation of an admin): the
        # principal behind it, as debugData names it.
        original = debug.get("originalPrincipal")
        if isinstance(original, dict):
            for member, attr in (
                ("id", "original_principal_id"),
                ("alternateId", "original_principal"),
                ("type", "original_principal_type"),
            ):
                value = original.get(member)
                value = _clean(value) if isinstance(value, str) else ""
                if value:
                    attrs[attr] = value
        api_token = _clean(opt_str(record, "transaction.detail.requestApiTokenId"))
        if api_token:
            attrs["api_token_id"] = api_token
        credential_issued = issued_principal = issue_method = ""
        if event_type in _TOKENS_MINTED:
            if outcome == "success":
                credential_issued, issued_principal = _issued_token(targets), principal
        elif category == CREDENTIAL_ISSUE:
            grant = opt_str(debug, "grantType")
            issue_method = "token-exchange" if grant in _EXCHANGE_GRANTS else "sign-in"
            if outcome == "success":
                credential_issued = _issued_token(targets)
                if actor_kind == "service_principal":
                    issued_principal = principal
                else:
                    issued_principal = _clean(opt_str(record, "client.id"))

        return NormalizedEvent(
            source_kind=self.kind,
            source_event_id=opt_str(record, "uuid"),
            event_time=event_time,
            category=category,
            action=event_type,
            outcome=outcome,
            actor_principal=principal,
            actor_kind=actor_kind,
            credential_used=session_id,
            credential_issued=credential_issued,
            issued_principal=issued_principal,
            issue_method=issue_method,
            request_id=transaction_id,
            correlation_id=session_id,
            source_address=source_address,
            user_agent=_clean(opt_str(record, "client.userAgent.rawUserAgent")),
            resource=resource,
            resource_type=resource_type,
            mfa=_mfa(event_type, outcome, debug, targets),
            attrs=attrs,
        )


PARSER = OktaParser()
