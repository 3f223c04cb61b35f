"""Okta sessions, Entra sign-ins with the Azure calls made with their tokens, and OCSF."""

from __future__ import annotations

from typing import Any

from forensics.engine.model import AUTHENTICATION, CREDENTIAL_ISSUE, DATA_ACCESS, OTHER
from tests.engine.correlation.builders import (
    Session,
    aliases,
    assume_role,
    evidence,
    iam_user_actor,
    minutes,
    normalized,
    run,
)

OKTA_SESSION = "102Xl5tyEXAMPLEsSC4cZ3Pw"
ALICE_OKTA = "00u1abcdEXAMPLE5d7"


def _okta(
    key: str, action: str, actor_id: str, login: str, *, kind: str = "user", **fields: Any
) -> Any:
    attrs = {"actor_type": "User" if kind == "user" else "PublicClientApp"}
    if actor_id:
        attrs["actor_id"] = actor_id
    return normalized(
        "okta",
        key,
        fields.pop("at", minutes(1)),
        category=fields.pop("category", OTHER),
        action=action,
        actor_principal=login,
        actor_kind=kind,
        credential_used=OKTA_SESSION,
        correlation_id=OKTA_SESSION,
        attrs=attrs,
        **fields,
    )


def test_it_ties_an_okta_session_event_to_the_user_who_started_the_session() -> None:
    start = _okta(
        "start",
        "user.session.start",
        ALICE_OKTA,
        "alice@example.com",
        category=AUTHENTICATION,
        at=minutes(0),
    )
    grant = _okta(
        "grant",
        "app.oauth2.as.token.grant",
        "0oa9clientEXAMPLE",
        "crm-example",
        kind="service_principal",
    )
    results = run([start, grant])
    assert results["grant"].status == "attributed"
    assert aliases(results["grant"]) == {f"okta_user:{ALICE_OKTA}", "email:alice@example.com"}
    assert evidence(results["grant"]) == [("sign-in", "asserted", "start")]
    assert results["start"].status == "attributed"
    assert results["start"].hops == ()


def test_it_flags_an_okta_event_whose_actor_is_not_the_session_user() -> None:
    start = _okta(
        "start",
        "user.session.start",
        ALICE_OKTA,
        "alice@example.com",
        category=AUTHENTICATION,
        at=minutes(0),
    )
    other = _okta(
        "other", "user.account.update_profile", "00u9mallEXAMPLE00", "mallory@example.com"
    )
    assert run([start, other])["other"].reason == "conflicting_evidence"


def test_it_does_not_tie_an_okta_app_event_to_anyone_without_its_session_start() -> None:
    grant = _okta(
        "grant",
        "app.oauth2.as.token.grant",
        "0oa9clientEXAMPLE",
        "crm-example",
        kind="service_principal",
    )
    result = run([grant])["grant"]
    assert (result.status, result.reason) == ("unattributed", "unknown_principal")
    assert OKTA_SESSION in result.depends_on


def test_it_treats_a_failed_okta_sign_in_as_proving_no_one() -> None:
    failed = _okta(
        "fail",
        "user.session.start",
        ALICE_OKTA,
        "alice@example.com",
        category=AUTHENTICATION,
        outcome="failure",
    )
    assert run([failed])["fail"].reason == "unknown_principal"


TOKEN = "ZTJmNjRhYjEtMWY2Mi00Yjc0LWE5ZDAtZXhhbXBsZQ"
ENTRA_USER = "4f1e0a9c-2b3d-4c5e-8f70-112233445566"


def _signin(**extra: Any) -> Any:
    attrs = {"sign_in_kind": "interactive", "user_id": ENTRA_USER, "unique_token_identifier": TOKEN}
    attrs.update(extra.pop("attrs", {}))
    return normalized(
        "entra",
        "signin",
        minutes(0),
        category=AUTHENTICATION,
        action="Sign-in activity",
        actor_principal=extra.pop("actor_principal", "Bob@Example.com"),
        actor_kind=extra.pop("actor_kind", "user"),
        credential_issued=TOKEN,
        issued_principal="Bob@Example.com",
        issue_method="sign-in",
        attrs=attrs,
        **extra,
    )


def _activity(
    object_id: str = ENTRA_USER, kind: str = "user", principal: str = "bob@example.com"
) -> Any:
    return normalized(
        "azure_activity",
        "listkeys",
        minutes(5),
        category=DATA_ACCESS,
        action="Microsoft.Storage/storageAccounts/listKeys/action",
        actor_principal=principal,
        actor_kind=kind,
        credential_used=TOKEN,
        attrs={"caller_object_id": object_id},
    )


def test_it_links_an_azure_call_to_its_sign_in_by_token_id() -> None:
    result = run([_signin(), _activity()])["listkeys"]
    assert result.status == "attributed"
    assert aliases(result) == {f"entra_user:{ENTRA_USER}", "email:bob@example.com"}
    assert evidence(result) == [("sign-in", "exact", "signin")]


def test_it_falls_back_to_the_caller_object_id_the_call_asserts() -> None:
    result = run([_activity()])["listkeys"]
    assert result.status == "attributed"
    assert result.hops == ()
    assert TOKEN in result.depends_on


def test_it_flags_a_token_used_by_someone_else_than_its_sign_in() -> None:
    result = run([_signin(), _activity(object_id="99999999-2b3d-4c5e-8f70-112233445566")])[
        "listkeys"
    ]
    assert result.reason == "conflicting_evidence"


def test_it_attributes_service_principals_and_managed_identities_to_workloads() -> None:
    spn = _signin(
        actor_principal="backup-job",
        actor_kind="service_principal",
        attrs={
            "sign_in_kind": "service_principal",
            "app_id": "11112222-3333-4444-5555-666677778888",
        },
    )
    result = run([spn])["signin"]
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {"entra_app:11112222-3333-4444-5555-666677778888"}
    msi = _activity(
        object_id="aaaabbbb-cccc-dddd-eeee-ffff00001111",
        kind="managed_identity",
        principal="vm-export",
    )
    result = run([msi])["listkeys"]
    assert aliases(result) == {"azure_managed_identity:aaaabbbb-cccc-dddd-eeee-ffff00001111"}


def _ocsf(key: str, at: Any, category: str, principal: str, **fields: Any) -> Any:
    attrs = {
        "class_uid": "3002" if category == AUTHENTICATION else "6003",
        "session_uid": "sess-7f3a",
    }
    attrs.update(fields.pop("attrs", {}))
    return normalized(
        "ocsf",
        key,
        at,
        category=category,
        actor_principal=principal,
        actor_kind=fields.pop("actor_kind", "user"),
        correlation_id=fields.pop("correlation_id", "sess-7f3a"),
        attrs=attrs,
        **fields,
    )


def test_it_ties_an_ocsf_event_to_the_authentication_of_its_session() -> None:
    login = _ocsf("login", minutes(0), AUTHENTICATION, "erin@example.com")
    call = _ocsf(
        "call",
        minutes(2),
        DATA_ACCESS,
        "crm-sync",
        actor_kind="service",
        attrs={"invoked_by_app": "crm-sync"},
    )
    result = run([login, call])["call"]
    assert result.status == "attributed"
    assert aliases(result) == {"email:erin@example.com"}
    assert evidence(result) == [("sign-in", "asserted", "login")]


def test_it_follows_an_ocsf_aws_credential_like_a_cloudtrail_key() -> None:
    session = Session(
        "Analyst", "alice", "ASIAOCSF000000000001", "AROAOCSF000000000001", minutes(0)
    )
    issue = assume_role("assume", iam_user_actor("alice", "AKIAALICE00000000001"), session)
    call = normalized(
        "ocsf",
        "ocsf-call",
        minutes(2),
        category=DATA_ACCESS,
        action="GetObject",
        actor_principal=session.arn,
        actor_kind="role_session",
        credential_used=session.key,
        attrs={
            "class_uid": "6003",
            "identity_type": "AssumedRole",
            "principal_id": session.principal_id,
            "session_issuer": session.role_arn,
            "credential_uid": session.key,
        },
    )
    result = run([issue, call])["ocsf-call"]
    assert result.status == "attributed"
    assert evidence(result) == [("assume-role", "exact", "assume")]


def test_it_does_not_name_an_ocsf_actor_of_unknown_kind() -> None:
    event = _ocsf(
        "opaque",
        minutes(1),
        DATA_ACCESS,
        "u-8812",
        actor_kind="unknown",
        correlation_id="",
        attrs={"session_uid": ""},
    )
    assert run([event])["opaque"].reason == "unknown_principal"


def test_it_keeps_credential_issue_events_of_idps_attributed_to_their_actor() -> None:
    grant = _okta(
        "grant",
        "app.oauth2.as.token.grant",
        ALICE_OKTA,
        "alice@example.com",
        category=CREDENTIAL_ISSUE,
        credential_issued="AT.EXAMPLEtokenid",
    )
    assert run([grant])["grant"].status == "attributed"


def _m365(principal: str = "bob@example.com", user_type: str = "Regular", **fields: Any) -> Any:
    kind = fields.pop("actor_kind", "user")
    return normalized(
        "m365_audit",
        "file",
        minutes(5),
        category=DATA_ACCESS,
        action="SharePoint:FileAccessed",
        actor_principal=principal,
        actor_kind=kind,
        credential_used=fields.pop("credential_used", TOKEN),
        resource="https://example.sharepoint.com/sites/HR/Shared Documents/payroll.xlsx",
        attrs={"user_type": user_type, **fields.pop("attrs", {})},
        **fields,
    )


def test_it_links_a_microsoft_365_access_to_the_sign_in_whose_token_it_carried() -> None:
    result = run([_signin(), _m365()])["file"]
    assert result.status == "attributed"
    assert aliases(result) == {f"entra_user:{ENTRA_USER}", "email:bob@example.com"}
    assert evidence(result) == [("sign-in", "exact", "signin")]
    # The sign-in arriving after the access converges to the same result.
    assert run([_m365(), _signin()])["file"] == result


def test_it_falls_back_to_the_user_microsoft_365_recorded_until_the_sign_in_arrives() -> None:
    result = run([_m365()])["file"]
    assert result.status == "attributed" and result.hops == ()
    assert aliases(result) == {"email:bob@example.com"}
    assert TOKEN in result.depends_on


def test_it_flags_a_microsoft_365_record_naming_another_user_than_its_token() -> None:
    result = run([_signin(), _m365(principal="mallory@example.com")])["file"]
    assert result.reason == "conflicting_evidence"


def test_an_app_only_record_carrying_a_users_token_is_conflicting_evidence() -> None:
    # An application (UserType 5) cannot hold a user's delegated token: one of the two
    # records is wrong, and neither is taken for the other.
    app = _m365(
        principal="6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817",
        user_type="Application",
        actor_kind="service_principal",
        attrs={"app_id": "6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817"},
    )
    for events in ([_signin(), app], [app, _signin()]):
        result = run(events)["file"]
        assert (result.status, result.reason) == ("unattributed", "conflicting_evidence")
        assert "a user's token and an application's are not one" in (result.explanation or "")
    # And a user's record with an application's token.
    signin = _signin(actor_principal="payroll-exporter", actor_kind="service_principal")
    assert run([signin, _m365()])["file"].reason == "conflicting_evidence"


def test_an_anonymous_sharing_links_use_is_anonymous() -> None:
    link = _m365(principal="urn:spo:anon#3d0f1e2a4b5c", actor_kind="anonymous", credential_used="")
    result = run([link])["file"]
    assert (result.status, result.reason) == ("unattributed", "anonymous")


def test_it_never_makes_a_person_of_microsoft_365_system_accounts() -> None:
    system = _m365(
        principal="SHAREPOINT\\system", user_type="System", actor_kind="service", credential_used=""
    )
    result = run([system])["file"]
    assert result.status == "unattributed" and result.reason == "unknown_principal"
    assert result.origin is None
    assert "SHAREPOINT\\system" in (result.explanation or "")


def test_it_attributes_an_app_only_microsoft_365_access_to_its_application() -> None:
    app = _m365(
        principal="Payroll Export Connector",
        user_type="Application",
        actor_kind="service_principal",
        credential_used="",
        attrs={"app_id": "6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817"},
    )
    result = run([app])["file"]
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {"entra_app:6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817"}


def test_a_known_identity_names_only_the_aliases_the_directory_lacks() -> None:
    from forensics.engine.correlation import Alias, Directory, DirectoryIdentity

    by_id = DirectoryIdentity("7", "human", ENTRA_USER, aliases=(Alias("entra_user", ENTRA_USER),))
    origin = run([_signin(), _m365()], Directory([by_id]))["file"].origin
    assert origin is not None and origin.identity_id == "7"
    assert origin.new_aliases == (Alias("email", "bob@example.com"),)
    assert origin.logged_name == "Bob@Example.com"
    both = DirectoryIdentity(
        "7",
        "human",
        "bob@example.com",
        aliases=(Alias("entra_user", ENTRA_USER), Alias("email", "BOB@example.com")),
    )
    origin = run([_signin(), _m365()], Directory([both]))["file"].origin
    assert origin is not None and origin.new_aliases == ()  # nothing to write back


def test_an_okta_event_acted_as_its_actor_is_attributed_to_the_principal_behind_it() -> None:
    acted = _okta(
        "token",
        "system.api_token.create",
        ALICE_OKTA,
        "alice@example.com",
        category=CREDENTIAL_ISSUE,
    )
    acted.event.attrs.update(
        original_principal="support-engineer@okta.example",
        original_principal_id="00ujjjNmP7E3U2Rq50g3",
        original_principal_type="User",
    )
    result = run([acted])["token"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {
        "okta_user:00ujjjNmP7E3U2Rq50g3",
        "email:support-engineer@okta.example",
    }
    assert [h.principal for h in result.hops] == ["alice@example.com"]
    assert evidence(result) == [("impersonation", "asserted", "token")]
    # Naming the actor itself is no one else behind it.
    alone = _okta("own", "system.api_token.create", ALICE_OKTA, "alice@example.com")
    alone.event.attrs.update(original_principal_id=ALICE_OKTA)
    own = run([alone])["own"]
    assert aliases(own) == {f"okta_user:{ALICE_OKTA}", "email:alice@example.com"}
    assert own.hops == ()
