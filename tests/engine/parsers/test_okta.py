from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, NormalizedEvent, RecordError
from forensics.engine.parsers.okta import PARSER
from tests.engine.parsers.foreign import sample_records

ALICE_SESSION = "102vQ8sBn3KTrSx6GZJw1a9Xg"


def _events(name: str) -> list[NormalizedEvent]:
    return [PARSER.parse(record) for record in sample_records("okta", name)]


def _page() -> list[NormalizedEvent]:
    return _events("system_log_page.json")


def _export() -> list[NormalizedEvent]:
    return _events("system_log_export.jsonl")


def _event(**fields: Any) -> dict[str, Any]:
    """A minimal LogEvent; keyword arguments replace or add top-level members."""
    record: dict[str, Any] = {
        "uuid": "5a1f0c2e-4a5b-11ef-9a1b-0242ac120002",
        "published": "2024-05-14T09:12:03.412Z",
        "eventType": "user.session.start",
        "actor": {"id": "00u1f2g3h4J5k6L7m8n9", "type": "User", "alternateId": "alice@example.com"},
        "outcome": {"result": "SUCCESS", "reason": None},
    }
    record.update(fields)
    return record


def test_it_reads_the_api_page_and_the_jsonl_export() -> None:
    page = sample_records("okta", "system_log_page.json")
    export = sample_records("okta", "system_log_export.jsonl")

    assert (len(page), len(export)) == (6, 5)
    assert all(PARSER.sniff(r) for r in page + export)
    assert [e.action for e in _page()] == [
        "user.session.start",
        "user.authentication.auth_via_mfa",
        "user.authentication.sso",
        "app.oauth2.as.token.grant.access_token",
        "user.authentication.auth_via_mfa",
        "user.account.privilege.grant",
    ]
    assert all(e.source_kind == "okta" for e in _page() + _export())


def test_it_maps_a_session_start_to_an_authentication_with_the_okta_session() -> None:
    event = _page()[0]

    assert event.source_event_id == "8f1c2d3e-4a5b-11ef-9a1b-0242ac120002"
    assert event.event_time == datetime(2024, 5, 14, 9, 12, 3, 412000, tzinfo=UTC)
    assert event.category == "authentication"
    assert event.outcome == "success"
    assert (event.actor_principal, event.actor_kind) == ("alice@example.com", "user")
    assert event.credential_used == ALICE_SESSION
    assert event.correlation_id == ALICE_SESSION
    assert event.request_id == "ZkMrwx0h2nY5p8q9r1s2tAAAB1c"
    assert event.source_address == "198.51.100.23"
    assert event.user_agent.startswith("Mozilla/5.0 (Macintosh;")
    assert event.attrs["actor_id"] == "00u1f2g3h4J5k6L7m8n9"
    assert event.attrs["actor_type"] == "User"
    assert event.attrs["actor_display_name"] == "Alice Example"
    assert event.attrs["transaction_id"] == "ZkMrwx0h2nY5p8q9r1s2tAAAB1c"


def test_it_ties_the_sso_and_the_token_grant_to_the_same_session() -> None:
    start, _, sso, grant = _page()[:4]

    assert {sso.correlation_id, grant.correlation_id} == {start.correlation_id}
    assert sso.category == "authentication"
    assert (sso.resource, sso.resource_type) == ("AWS Account Federation", "AppInstance")
    assert sso.attrs["target_ids"] == ["0oa2b3c4d5E6f7G8h9i0", "0ua3c4d5e6F7g8H9i0j1"]


def test_it_marks_mfa_only_where_a_verified_factor_is_recorded() -> None:
    start, mfa, sso, _, failed_mfa, _ = _page()

    assert mfa.mfa is True
    assert start.mfa is None
    assert sso.mfa is None
    assert failed_mfa.mfa is None


def test_it_records_a_failed_mfa_without_a_session() -> None:
    event = _page()[4]

    assert event.category == "authentication"
    assert event.outcome == "failure"
    assert event.actor_principal == "bob@example.com"
    # The log writes "unknown" where there is no session: that is not a credential.
    assert event.credential_used == ""
    assert event.correlation_id == ""
    assert event.attrs["error_code"] == "INVALID_CREDENTIALS"
    assert "target_ids" not in event.attrs


def test_it_turns_a_token_grant_into_a_credential_issued_to_the_client() -> None:
    event = _page()[3]

    assert event.category == "credential_issue"
    assert (event.actor_principal, event.actor_kind) == ("Reporting Portal", "service_principal")
    assert event.credential_issued == "AT.q1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM"
    assert event.issued_principal == "Reporting Portal"
    assert event.issue_method == "sign-in"
    assert event.credential_used == ALICE_SESSION
    # The token is what was issued; the resource is the authorization server it is for.
    assert (event.resource, event.resource_type) == ("Reporting API", "AuthorizationServer")


def test_it_names_exchange_grants_token_exchange() -> None:
    record = _event(
        eventType="app.oauth2.as.token.grant.access_token",
        actor={"id": "0oa1", "type": "PublicClientApp", "alternateId": "agent"},
        debugContext={
            "debugData": {"grantType": "urn:ietf:params:oauth:grant-type:token-exchange"}
        },
        target=[{"id": "AT.abc", "type": "access_token", "displayName": "Access Token"}],
    )

    event = PARSER.parse(record)

    assert event.issue_method == "token-exchange"
    assert event.credential_issued == "AT.abc"


def test_it_claims_no_token_for_a_failed_grant() -> None:
    record = _event(
        eventType="app.oauth2.as.token.grant",
        actor={"id": "0oa1", "type": "PublicClientApp", "alternateId": "agent"},
        outcome={"result": "FAILURE", "reason": "no_matching_policy"},
        target=[{"id": "AT.abc", "type": "access_token"}],
    )

    event = PARSER.parse(record)

    assert event.category == "credential_issue"
    assert event.outcome == "failure"
    assert (event.credential_issued, event.issued_principal) == ("", "")


def test_it_takes_the_client_id_as_holder_when_a_user_is_the_grant_actor() -> None:
    record = _event(
        eventType="app.oauth2.as.token.grant.id_token",
        client={"id": "0oa8rp2kxZbQ4fT3h5d7", "ipAddress": "198.51.100.23"},
        target=[{"id": "ID.xyz", "type": "id_token"}],
    )

    event = PARSER.parse(record)

    assert event.credential_issued == "ID.xyz"
    assert event.issued_principal == "0oa8rp2kxZbQ4fT3h5d7"


def test_it_classifies_privilege_grants_and_group_membership_as_permission_changes() -> None:
    grant = _page()[5]
    membership = _export()[3]

    assert grant.category == "permission_change"
    assert (grant.actor_principal, grant.resource) == (
        "carol.admin@example.com",
        "dave@example.com",
    )
    assert membership.category == "permission_change"
    assert (membership.actor_principal, membership.actor_kind) == ("system@okta.com", "service")
    assert membership.request_id == "gjb3e4f5g6H7i8J9k0l1"
    assert membership.source_address == ""


def test_it_leaves_other_event_types_uncategorized() -> None:
    policy = _export()[4]

    assert policy.category == "other"
    assert policy.outcome == "success"  # ALLOW


def test_it_keeps_ipv6_addresses_and_a_failed_login_without_actor_id() -> None:
    bob, mallory = _export()[:2]

    assert bob.source_address == "2001:db8:4a2f::1c"
    assert mallory.outcome == "failure"
    assert mallory.actor_principal == "mallory@example.net"
    assert "actor_id" not in mallory.attrs
    assert "actor_display_name" not in mallory.attrs
    assert mallory.credential_used == ""


def test_it_gives_a_client_credentials_grant_no_session() -> None:
    event = _export()[2]

    assert event.category == "credential_issue"
    assert event.actor_kind == "service_principal"
    assert event.credential_used == ""
    assert event.credential_issued == "AT.z9Y8x7W6v5U4t3S2r1Q0pOnMlKjIhGfEdCbA"
    assert event.issued_principal == "payroll-sync"


@pytest.mark.parametrize(
    ("actor_type", "kind"),
    [
        ("User", "user"),
        ("PublicClientApp", "service_principal"),
        ("AppInstance", "service_principal"),
        ("SystemPrincipal", "service"),
        ("SomethingNew", "unknown"),
    ],
)
def test_it_maps_actor_types_to_kinds(actor_type: str, kind: str) -> None:
    record = _event(actor={"id": "x1", "type": actor_type, "alternateId": "someone"})

    assert PARSER.parse(record).actor_kind == kind


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        ("SUCCESS", "success"),
        ("ALLOW", "success"),
        ("FAILURE", "failure"),
        ("DENY", "failure"),
        ("SKIPPED", "unknown"),
        ("CHALLENGE", "unknown"),
        (None, "unknown"),
    ],
)
def test_it_maps_outcome_results(result: str | None, outcome: str) -> None:
    assert PARSER.parse(_event(outcome={"result": result})).outcome == outcome


def test_it_falls_back_to_the_actor_id_without_an_alternate_id() -> None:
    record = _event(actor={"id": "00u1f2g3h4J5k6L7m8n9", "type": "User", "alternateId": None})

    event = PARSER.parse(record)

    assert event.actor_principal == "00u1f2g3h4J5k6L7m8n9"
    assert event.actor_kind == "user"


def test_it_reports_an_unknown_actor_when_the_log_hides_it() -> None:
    record = _event(actor={"id": "unknown", "type": "User", "alternateId": "*****"})

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")


def test_it_falls_back_to_the_ip_chain_when_the_client_has_no_address() -> None:
    record = _event(
        client={"ipAddress": None, "userAgent": None},
        request={"ipChain": [{"ip": "203.0.113.9", "version": "V4"}]},
    )

    assert PARSER.parse(record).source_address == "203.0.113.9"


def test_it_tolerates_a_record_with_only_the_required_members() -> None:
    event = PARSER.parse(
        {"uuid": "u1", "published": "2024-05-14T09:12:03Z", "eventType": "x", "actor": None}
    )

    assert event.actor_principal == ""
    assert event.resource == ""
    assert event.attrs == {}


def test_it_reads_the_root_session_id_when_present() -> None:
    record = _event(authenticationContext={"externalSessionId": "idxA", "rootSessionId": "idxR"})

    assert PARSER.parse(record).attrs["root_session_id"] == "idxR"


def test_it_turns_numbers_into_text() -> None:
    record = _event(transaction={"id": 12345, "type": "WEB"})

    assert PARSER.parse(record).request_id == "12345"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"published": None}, "published"),
        ({"published": "yesterday"}, "published"),
        ({"published": True}, "published"),
        ({"actor": "alice"}, "actor"),
        ({"target": "0oa1"}, "target"),
        ({"target": ["0oa1"]}, "target[0]"),
        ({"outcome": {"result": {"code": 1}}}, "outcome.result"),
        ({"authenticationContext": []}, "authenticationContext"),
    ],
)
def test_it_names_the_field_it_cannot_read(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{named}'")):
        PARSER.parse(_event(**fields))


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        PARSER.parse(["not", "an", "event"])  # type: ignore[arg-type]


def test_it_sniffs_a_log_event_only_with_an_actor_object() -> None:
    assert PARSER.sniff(_event())
    assert not PARSER.sniff(_event(actor="alice"))


def test_it_sets_only_documented_attrs() -> None:
    for event in _page() + _export():
        assert set(event.attrs) <= set(ATTR_KEYS), event.source_event_id


# --- Okta log streaming to Amazon EventBridge ---------------------------------------------


def test_it_reads_the_log_event_of_a_log_stream_eventbridge_event() -> None:
    envelopes = sample_records("okta", "eventbridge_log_stream.jsonl")

    assert all(PARSER.sniff(e) and "uuid" not in e for e in envelopes)
    assert [PARSER.parse(e) for e in envelopes] == [
        PARSER.parse(r) for r in sample_records("okta", "system_log_export.jsonl")[:3]
    ]


def test_it_names_the_log_stream_field_it_cannot_read() -> None:
    envelope = sample_records("okta", "eventbridge_log_stream.jsonl")[0]
    envelope["detail"]["actor"] = "bob@example.com"

    with pytest.raises(RecordError, match=re.escape("'detail.actor'")):
        PARSER.parse(envelope)


def test_an_eventbridge_event_from_another_partner_is_not_okta() -> None:
    envelope = sample_records("okta", "eventbridge_log_stream.jsonl")[0]
    envelope["source"] = "aws.partner/example.com/feed"

    assert not PARSER.sniff(envelope)


SUPPORT = {"id": "00u_support", "type": "User", "alternateId": "support.engineer@okta.com"}


@pytest.mark.parametrize(
    ("event_type", "category"),
    [
        # A super admin letting Okta Support in, and Okta Support signing in to the org.
        ("user.session.impersonation.grant", "permission_change"),
        ("user.session.impersonation.extend", "permission_change"),
        ("user.session.impersonation.revoke", "permission_change"),
        ("user.session.impersonation.initiate", "authentication"),
        ("user.session.impersonation.end", "other"),
        # An admin revealing another user's password for an application.
        ("application.user_membership.show_password", "data_access"),
        # A user's sign-in factors, filed as Entra's directory audit files them.
        ("user.mfa.factor.reset_all", "authentication"),
        ("user.account.reset_password", "authentication"),
        ("user.account.lock", "other"),
    ],
)
def test_okta_support_access_is_visible(event_type: str, category: str) -> None:
    assert PARSER.parse(_event(eventType=event_type, actor=SUPPORT)).category == category


def test_an_api_token_is_a_credential_issued_to_the_admin_who_made_it() -> None:
    record = _event(
        eventType="system.api_token.create",
        target=[{"id": "00Tabc123", "type": "Token", "displayName": "ci-pipeline"}],
    )

    event = PARSER.parse(record)

    assert event.category == "credential_issue"
    assert (event.credential_issued, event.issued_principal) == ("00Tabc123", "alice@example.com")
    failed = PARSER.parse({**record, "outcome": {"result": "FAILURE"}})
    assert failed.credential_issued == ""


def test_a_request_made_with_an_api_token_names_it() -> None:
    record = _event(
        eventType="user.lifecycle.deactivate",
        transaction={"type": "WEB", "id": "t1", "detail": {"requestApiTokenId": "00Tabc123"}},
    )
    assert PARSER.parse(record).attrs["api_token_id"] == "00Tabc123"


def test_a_sign_in_is_to_the_application_not_the_factor_it_used() -> None:
    record = _event(
        target=[
            {"id": "pfd1", "type": "AuthenticatorEnrollment", "displayName": "Okta Verify"},
            {"id": "0oa1", "type": "AppInstance", "displayName": "Okta Admin Console"},
        ]
    )
    assert (PARSER.parse(record).resource, PARSER.parse(record).resource_type) == (
        "Okta Admin Console",
        "AppInstance",
    )


def test_a_threat_detections_address_is_its_source_not_its_actor() -> None:
    record = _event(
        eventType="security.threat.detected",
        actor={"id": "203.0.113.9", "type": "IP", "alternateId": "203.0.113.9"},
        client={"ipAddress": None},
    )

    event = PARSER.parse(record)

    assert (event.actor_principal, event.actor_kind) == ("", "unknown")
    assert event.source_address == "203.0.113.9"


def test_identity_engine_verifying_the_password_is_no_second_factor() -> None:
    # Identity Engine writes auth_via_mfa for each authenticator verified, the password too.
    def verified(method: str, name: str) -> dict[str, Any]:
        return _event(
            eventType="user.authentication.auth_via_mfa",
            target=[
                {"id": "00u1f2g3h4J5k6L7m8n9", "type": "User", "alternateId": "alice@example.com"},
                {
                    "id": "pfd1a2b3c4D5e6F7g8h9",
                    "type": "AuthenticatorEnrollment",
                    "alternateId": "unknown",
                    "displayName": name,
                    "detailEntry": {"methodTypeUsed": method},
                },
            ],
        )

    assert PARSER.parse(verified("Password", "Password")).mfa is None
    assert PARSER.parse(verified("Okta Verify - Push", "Okta Verify")).mfa is True
    # The Classic engine names the factor in debugData.
    classic = _event(
        eventType="user.authentication.auth_via_mfa",
        debugContext={"debugData": {"factor": "OKTA_VERIFY_PUSH"}},
    )
    assert PARSER.parse(classic).mfa is True


def test_the_principal_behind_an_impersonated_actor_is_kept() -> None:
    # Okta Support acting as a customer's admin: debugData names the one who acted.
    record = _event(
        eventType="system.api_token.create",
        target=[{"id": "00T1pkSJOMoElZWVY0g3", "type": "Token", "displayName": "cli"}],
        debugContext={
            "debugData": {
                "originalPrincipal": {
                    "id": "00ujjjNmP7E3U2Rq50g3",
                    "type": "User",
                    "alternateId": "support-engineer@okta.example",
                    "displayName": "Support Engineer",
                }
            }
        },
    )
    event = PARSER.parse(record)
    assert event.actor_principal == "alice@example.com"
    assert event.attrs["original_principal"] == "support-engineer@okta.example"
    assert event.attrs["original_principal_id"] == "00ujjjNmP7E3U2Rq50g3"
    assert event.attrs["original_principal_type"] == "User"
    assert set(event.attrs) <= set(ATTR_KEYS)


def test_a_redacted_id_is_no_id() -> None:
    record = _event(
        actor={"id": "REDACTED", "type": "User", "alternateId": "john.doe@example.com"},
        transaction={"type": "WEB", "id": "t1", "detail": {"requestApiTokenId": "REDACTED"}},
    )
    event = PARSER.parse(record)
    assert event.actor_principal == "john.doe@example.com"
    assert "actor_id" not in event.attrs and "api_token_id" not in event.attrs
