"""The trace --json contract."""

from __future__ import annotations

from forensics.engine.correlation import Alias, Attribution, Hop, Origin, to_json
from tests.engine.correlation.builders import run
from tests.engine.correlation.test_aws import _alice_admin_chain


def test_it_writes_an_attribution_in_the_trace_contract_shape() -> None:
    events, entry, admin = _alice_admin_chain()
    result = run(events)["read"]
    assert to_json(result) == {
        "status": "attributed",
        "reason": None,
        "origin": {
            "kind": "human",
            "name": "alice@example.com",
            "aliases": [
                "email:alice@example.com",
                "saml_subject:https://idp.example.com/saml2/metadata|alice@example.com",
            ],
        },
        "hops": [
            {
                "principal": entry.arn,
                "credential": entry.key,
                "method": "saml-federation",
                "evidence": "exact",
                "via_event": "saml",
            },
            {
                "principal": admin.arn,
                "credential": admin.key,
                "method": "assume-role",
                "evidence": "exact",
                "via_event": "hop",
            },
        ],
    }


def test_it_writes_null_origin_and_the_reason_when_unattributed() -> None:
    attribution = Attribution(
        "k",
        "unattributed",
        "shared_account",
        None,
        (Hop("arn:aws:sts::111122223333:assumed-role/R/s", "ASIA1", "assume-role", "exact", "e1"),),
        candidates=(
            Origin("human", "ops", (Alias("aws_iam_user", "arn:aws:iam::1:user/ops"),), "id"),
        ),
        waiting_on=("ASIA0",),
        explanation="shared",
    )
    data = to_json(attribution)
    assert list(data) == ["status", "reason", "origin", "hops"]
    assert data["origin"] is None
    assert data["reason"] == "shared_account"
    assert list(data["hops"][0]) == ["principal", "credential", "method", "evidence", "via_event"]
