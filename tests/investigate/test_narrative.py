from __future__ import annotations

from datetime import UTC, datetime

from forensics.identities.models import Identity
from forensics.ingest.models import Attribution, Event
from forensics.investigate.narrative import Step, breaks_at, explain, pretty_raw, short_principal

WHEN = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def _event(status: str = "attributed", reason: str = "", **fields) -> Event:
    values = {
        "pk": 10,
        "event_time": WHEN,
        "action": "s3.amazonaws.com:GetObject",
        "resource": "s3://hr-payroll/2026/payroll.csv",
        "outcome": "success",
        "actor_principal": "arn:aws:sts::111122223333:assumed-role/DataReader/alice",
    }
    values.update(fields)
    attribution = Attribution(event_id=10, event_time=WHEN, status=status, reason=reason)
    return Event(**values, attribution=attribution)


def test_it_shortens_arns_to_what_follows_the_resource_type():
    assert short_principal("arn:aws:iam::111122223333:role/AdminRole") == "AdminRole"
    assert short_principal("arn:aws:sts::1:assumed-role/DataReader/alice") == "DataReader/alice"
    assert short_principal("alice@corp.example") == "alice@corp.example"


def test_it_says_when_a_hop_is_only_inferred_or_asserted():
    event = _event()
    steps = [
        Step("arn:aws:iam::1:role/Support", "", "sso", "inferred", "", None),
        Step("system:serviceaccount:billing:worker", "", "impersonation", "asserted", "10", event),
    ]
    text = explain(event, Identity(name="bob@corp.example"), steps)
    assert text.startswith(
        "bob@corp.example took IAM Identity Center credentials for Support "
        "(inferred, not proven), impersonated system:serviceaccount:billing:"
        "worker (asserted by the log), and as system:serviceaccount:"
    )


def test_it_never_names_an_origin_the_evidence_does_not_reach():
    event = _event(status="unattributed", reason="shared_account", outcome="failure")
    text = explain(event, None, [])
    assert text.startswith("An actor the evidence does not identify as DataReader/alice called")
    assert ", which failed." in text
    assert "shared by several people" in text


def test_a_pending_chain_says_it_is_waiting():
    assert "pending" in breaks_at(_event(status="pending"))


def test_raw_json_is_indented_and_other_text_kept_as_is():
    assert pretty_raw('{"a": {"b": 1}}') == '{\n  "a": {\n    "b": 1\n  }\n}'
    assert pretty_raw("<134>Oct 11 22:14:15 not json") == "<134>Oct 11 22:14:15 not json"
