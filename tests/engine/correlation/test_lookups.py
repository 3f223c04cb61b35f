"""What correlation asks the store for, and the in-memory index that answers."""

from __future__ import annotations

from forensics.engine.correlation import EngineEvent, Lookups, MemoryIndex, close_over, lookups_for
from tests.engine.correlation.builders import (
    Session,
    assume_role,
    get_object,
    iam_user_actor,
    minutes,
    normalized,
    saml_login,
    session_actor,
)

PII = "s3://customer-pii-example/a.csv"


def _chain() -> tuple[list[EngineEvent], Session, Session]:
    entry = Session(
        "Entry", "alice@example.com", "ASIAENTRY00000000001", "AROAENTRY00000000001", minutes(0)
    )
    admin = Session("Admin", "alice", "ASIAADMIN00000000001", "AROAADMIN00000000001", minutes(1))
    events = [
        saml_login("saml", entry, "alice@example.com", "https://idp.example.com"),
        assume_role("hop", session_actor(entry), admin),
        get_object("read", minutes(2), session_actor(admin), PII),
    ]
    return events, entry, admin


def test_it_asks_for_the_issuer_of_every_key_used() -> None:
    events, _entry, admin = _chain()
    wanted = lookups_for(events[2:])
    assert wanted.issued_credentials == {admin.key}
    assert wanted.assumed_role_ids == {admin.principal_id}
    assert wanted.issued_principals == {admin.arn}
    with_issuer = lookups_for(events[2:], MemoryIndex(events))
    assert with_issuer.assumed_role_ids == set()
    assert with_issuer.issued_principals == set()


def test_it_fetches_the_whole_chain_from_one_event() -> None:
    events, _, _ = _chain()
    store = MemoryIndex(events)
    index = MemoryIndex(events[2:])
    assert close_over(index, store.fetch) == 2
    assert sorted(e.key for e in index.events()) == ["hop", "read", "saml"]


def test_it_only_asks_for_inferred_links_once_exact_ones_are_exhausted() -> None:
    session = Session(
        "Analyst", "alice", "ASIAINFER00000000001", "AROAINFER00000000001", minutes(0)
    )
    keyless = assume_role(
        "keyless", iam_user_actor("alice", "AKIAALICE00000000001"), session, credential_issued=""
    )
    use = get_object("use", minutes(1), session_actor(session), PII)
    asked: list[Lookups] = []
    store = MemoryIndex([keyless, use])

    def source(lookups: Lookups) -> list[EngineEvent]:
        asked.append(lookups)
        return store.fetch(lookups)

    close_over(MemoryIndex([use]), source)
    assert asked[0].issued_credentials == {session.key}
    assert asked[0].assumed_role_ids == set()
    assert asked[1].assumed_role_ids == {session.principal_id}


def test_it_asks_for_the_other_account_record_and_the_okta_session() -> None:
    other = normalized(
        "cloudtrail",
        "other",
        minutes(0),
        actor_principal="AIDAEXAMPLE",
        attrs={"identity_type": "AWSAccount", "shared_event_id": "shared-1"},
    )
    okta = normalized(
        "okta", "okta", minutes(0), correlation_id="102sess", credential_used="102sess"
    )
    azure = normalized("azure_activity", "az", minutes(0), credential_used="uti-1")
    wanted = lookups_for([other, okta, azure])
    assert wanted.shared_event_ids == {"shared-1"}
    assert wanted.correlation_ids == {"102sess"}
    assert wanted.token_ids == {"uti-1"}
    assert wanted.issued_credentials == set()


def test_it_ignores_redacted_values() -> None:
    hidden = normalized(
        "cloudtrail",
        "hidden",
        minutes(0),
        credential_used="HIDDEN_DUE_TO_SECURITY_REASONS",
        actor_principal="arn:aws:sts::111122223333:assumed-role/R/s",
        attrs={"identity_type": "AssumedRole", "principal_id": "*****"},
    )
    wanted = lookups_for([hidden])
    assert wanted.issued_credentials == set()
    assert wanted.assumed_role_ids == set()


def test_lookups_combine_and_subtract() -> None:
    a = Lookups(issued_credentials={"K1"}, correlation_ids={"S"})
    b = Lookups(issued_credentials={"K2"}, correlation_ids={"S"})
    assert (a | b).issued_credentials == {"K1", "K2"}
    assert (a - b).correlation_ids == set()
    assert (a - b).issued_credentials == {"K1"}
    assert Lookups().is_empty()
    assert not a.is_empty()
    assert (a | b).size() == 3


def test_the_index_keeps_the_first_event_of_a_key_and_sorts_lookups_by_key() -> None:
    events, _, admin = _chain()
    index = MemoryIndex(reversed(events))
    assert index.add(events) == 0
    assert len(index) == 3
    twin = assume_role("aaa-twin", iam_user_actor("bob", "AKIABOB0000000000001"), admin)
    index.add([twin])
    assert [e.key for e in index.issuing(admin.key)] == ["aaa-twin", "hop"]
