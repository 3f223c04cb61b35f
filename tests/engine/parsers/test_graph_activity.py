"""The Microsoft Graph activity logs parser against the sample files and inline records."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from forensics.engine.model import ATTR_KEYS, RecordError
from forensics.engine.parsers import detect
from forensics.engine.parsers.graph_activity import PARSER
from tests.engine.parsers.foreign import sample_records

ALICE = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
PAYROLL_SP = "d4c3b2a1-6f5e-4987-b1a0-7b6a5f4e3d2c"


def records(name: str = "PT1H.json") -> list[dict[str, Any]]:
    return sample_records("graph_activity", name)


def events(name: str = "PT1H.json") -> list[Any]:
    return [PARSER.parse(r) for r in records(name)]


def test_both_shapes_are_detected_and_read_alike() -> None:
    assert detect(records()) is PARSER
    assert detect(records("log_analytics_graph_activity.json")) is PARSER
    assert events("log_analytics_graph_activity.json") == events()[:2]


def test_a_delegated_read_names_the_user_and_carries_the_token_uti() -> None:
    read = events()[0]
    assert (read.actor_principal, read.actor_kind) == (ALICE, "user")
    assert read.credential_used == "Vb2nR7tKq0mY4wE1cP9sFA"
    assert read.action == "GET /v1.0/users/{id}/messages"
    assert read.category == "data_access" and read.outcome == "success"
    assert read.resource.startswith("https://graph.microsoft.com/v1.0/users/7c6b5a4f-")
    assert read.attrs["caller_object_id"] == ALICE
    assert read.attrs["scopes"] == "Mail.Read Mail.Read.Shared User.Read"
    assert read.source_address == "198.51.100.23"
    assert read.actor_account == "8c1f0a5e-2b3d-4e6f-9a7b-1c2d3e4f5a6b"
    # The service's request id; the client's (here, as when it sends none, the operation id)
    # beside it.
    assert read.request_id == read.source_event_id == "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f01"
    assert read.attrs["client_request_id"] == "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c01"


def test_an_app_only_read_names_the_service_principal() -> None:
    _read, listing, denied, _grant = events()
    assert (listing.actor_principal, listing.actor_kind) == (PAYROLL_SP, "service_principal")
    assert listing.attrs["app_id"] == "a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
    assert listing.attrs["client_auth_method"] == "client secret"
    assert listing.attrs["roles"] == "User.Read.All"
    assert listing.action == "GET /v1.0/users"
    assert denied.outcome == "failure" and denied.attrs["http_status"] == "403"
    assert denied.action == "GET /v1.0/users/{id}/mailFolders/inbox/messages"


def test_granting_an_app_role_is_a_permission_change() -> None:
    grant = events()[3]
    assert grant.category == "permission_change"
    assert grant.action == "POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo"


def test_every_attribute_is_a_known_key_holding_text() -> None:
    for event in events() + events("log_analytics_graph_activity.json"):
        assert set(event.attrs) <= set(ATTR_KEYS), event.action
        assert all(isinstance(v, str) for v in event.attrs.values()), event.action


def test_a_request_naming_no_caller_is_unknown_and_bad_times_are_named() -> None:
    record = records()[0]
    for key in ("userId", "servicePrincipalId", "appId"):
        record["properties"].pop(key)
    assert PARSER.parse(record).actor_kind == "unknown"
    record["properties"]["timeGenerated"] = "not a time"
    with pytest.raises(RecordError, match=r"properties\.timeGenerated"):
        PARSER.parse(record)


def test_a_request_uri_urllib_refuses_still_gives_the_event() -> None:
    record = sample_records("graph_activity", "PT1H.json")[0]
    record["properties"]["requestUri"] = "https://[graph.microsoft.com/v1.0/users/x/messages"
    event = PARSER.parse(record)
    assert event.resource == record["properties"]["requestUri"]


@pytest.mark.parametrize(
    ("method", "path", "category"),
    [
        # A credential an application signs in with, as addPassword and addKey add.
        ("POST", "/v1.0/applications/{a}/federatedIdentityCredentials", "permission_change"),
        ("POST", "/v1.0/applications/{a}/addPassword", "permission_change"),
        # A user's sign-in factors, filed as the directory audit log files them.
        ("POST", "/v1.0/users/{u}/authentication/temporaryAccessPassMethods", "authentication"),
        ("POST", "/beta/users/{u}/authentication/methods/{m}/resetPassword", "authentication"),
        ("GET", "/v1.0/users/{u}/authentication/methods", "data_access"),
        ("PATCH", "/v1.0/users/{u}", "other"),
    ],
)
def test_a_request_gets_its_category(method: str, path: str, category: str) -> None:
    record = copy.deepcopy(records()[3])
    ids = {"a": "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "u": ALICE, "m": "28c10230-6103-485e"}
    record["properties"]["requestMethod"] = method
    record["properties"]["requestUri"] = "https://graph.microsoft.com" + path.format(**ids)
    assert PARSER.parse(record).category == category
