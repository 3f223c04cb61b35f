"""The identity directory as plain data."""

from __future__ import annotations

from forensics.engine.correlation import Alias, Directory, DirectoryIdentity
from tests.engine.correlation.builders import (
    Session,
    get_object,
    minutes,
    run,
    saml_login,
    session_actor,
)

ALICE = DirectoryIdentity("id-a", "human", "Alice", aliases=(Alias("email", "alice@example.com"),))
ALICE_AGAIN = DirectoryIdentity(
    "id-b", "human", "Alice (old)", aliases=(Alias("email", "ALICE@example.com"),)
)


def test_it_finds_identities_by_alias_ignoring_email_case() -> None:
    directory = Directory([ALICE])
    assert directory.find(Alias("email", " Alice@Example.COM ")) == ALICE
    assert directory.find(Alias("email", "bob@example.com")) is None
    assert directory.get("id-a") == ALICE
    assert directory.find_value("ALICE@example.com") == (ALICE,)


def test_it_refuses_to_pick_when_two_identities_hold_one_alias() -> None:
    directory = Directory([ALICE_AGAIN, ALICE])
    assert directory.find(Alias("email", "alice@example.com")) is None
    assert [i.id for i in directory.find_all(Alias("email", "alice@example.com"))] == [
        "id-a",
        "id-b",
    ]


def test_it_leaves_attribution_ambiguous_when_the_directory_holds_an_alias_twice() -> None:
    entry = Session(
        "Entry", "alice@example.com", "ASIAENTRY00000000001", "AROAENTRY00000000001", minutes(0)
    )
    events = [
        saml_login("saml", entry, "alice@example.com", "https://idp.example.com"),
        get_object("read", minutes(1), session_actor(entry), "s3://pii/x"),
    ]
    result = run(events, Directory([ALICE, ALICE_AGAIN]))["read"]
    assert result.status == "ambiguous"
    assert [c.identity_id for c in result.candidates] == ["id-a", "id-b"]


def test_an_empty_directory_works() -> None:
    directory = Directory()
    assert len(directory) == 0
    assert directory.find(Alias("email", "alice@example.com")) is None
