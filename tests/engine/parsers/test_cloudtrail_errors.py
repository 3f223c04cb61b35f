"""CloudTrail records that cannot be normalized: every error names the field, by its full
path, in every delivery (plain, EventBridge, Lake and event-history rows)."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.engine.model import RecordError
from forensics.engine.parsers.cloudtrail import PARSER
from forensics.engine.parsers.common import parse_time
from tests.engine.parsers.test_cloudtrail import read, record


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (record(eventTime=None), "eventTime"),
        (record(eventTime="yesterday"), "eventTime"),
        (record(eventName=None), "eventName"),
        (record(userIdentity="arn:aws:iam::111122223333:user/inline"), "userIdentity"),
        (record(userIdentity={"type": "AssumedRole", "sessionContext": []}),
         "userIdentity.sessionContext"),
        (record(userIdentity={"type": "IAMUser", "arn": {"value": "x"}}), "userIdentity.arn"),
    ],
)  # fmt: skip
def test_it_names_the_field_of_a_record_it_cannot_normalize(
    bad: dict[str, Any], field: str
) -> None:
    with pytest.raises(RecordError, match=re.escape(f"'{field}'")):
        PARSER.parse(bad)


def test_it_refuses_a_record_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="record should be a JSON object"):
        PARSER.parse(["not", "an", "event"])  # type: ignore[arg-type]


def test_it_names_the_field_inside_an_eventbridge_envelope() -> None:
    (envelope,) = read("eventbridge_s3_getobject.json")
    broken = copy.deepcopy(envelope)
    del broken["detail"]["eventTime"]
    with pytest.raises(RecordError, match=re.escape("'detail.eventTime'")):
        PARSER.parse(broken)
    not_an_object = {**envelope, "detail": "GetObject"}
    with pytest.raises(RecordError, match="'detail'"):
        PARSER.parse(not_an_object)


def test_it_names_a_lake_row_whose_event_json_is_unreadable() -> None:
    with pytest.raises(RecordError, match="'eventJson'"):
        PARSER.parse({"eventJson": '{"eventVersion": "1.09", "eventTime": '})
    with pytest.raises(RecordError, match="'eventJson'"):
        PARSER.parse({"eventJson": "[1, 2]"})


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of a record with the field at a dotted path set, objects created on the way."""
    changed = copy.deepcopy(base)
    node = changed
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return changed


_NESTED_TEXT_FIELDS = [
    "userIdentity.type",
    "userIdentity.accountId",
    "userIdentity.identityProvider",
    "userIdentity.onBehalfOf.userId",
    "userIdentity.onBehalfOf.identityStoreArn",
    "userIdentity.invokedByDelegate.accountId",
    "userIdentity.inScopeOf.credentialsIssuedTo",
    "userIdentity.inScopeOf.issuerType",
    "userIdentity.sourceIdentity",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.sessionContext.sessionIssuer.principalId",
    "userIdentity.sessionContext.ec2RoleDelivery",
    "userIdentity.sessionContext.signInSessionArn",
    "userIdentity.sessionContext.sourceIdentity",
    "errorMessage",
    "recipientAccountId",
    "eventCategory",
    "userAgent",
]


@pytest.mark.parametrize("path", _NESTED_TEXT_FIELDS)
def test_it_names_the_full_path_of_a_malformed_field_in_every_delivery(path: str) -> None:
    bad = _with(record(), path, ["not", "text"])
    deliveries = {
        "": bad,
        "detail.": {"detail-type": "AWS API Call via CloudTrail", "detail": bad},
        "eventJson.": {"eventJson": json.dumps(bad)},
        "CloudTrailEvent.": {"EventId": "e", "CloudTrailEvent": json.dumps(bad)},
    }
    for prefix, delivered in deliveries.items():
        with pytest.raises(RecordError) as caught:
            PARSER.parse(delivered)
        assert str(caught.value) == f"field '{prefix}{path}' should be text, found list"


@pytest.mark.parametrize(
    "path",
    [
        "userIdentity.onBehalfOf",
        "userIdentity.inScopeOf",
        "userIdentity.sessionContext",
        "userIdentity.sessionContext.sessionIssuer",
    ],
)
def test_it_names_the_full_path_of_an_object_field_holding_text(path: str) -> None:
    with pytest.raises(RecordError) as caught:
        PARSER.parse(_with(record(), path, "text"))
    assert str(caught.value) == f"field '{path}' should be an object, found str"


def test_of_several_malformed_fields_it_names_the_same_one_every_time() -> None:
    both = record(sharedEventID={"a": 1}, errorMessage=[1], errorCode="AccessDenied")
    with pytest.raises(RecordError, match=re.escape("'sharedEventID'")):
        PARSER.parse(both)
    # Without an error code the message decides the outcome, so it is read first.
    with pytest.raises(RecordError, match=re.escape("'errorMessage'")):
        PARSER.parse({**both, "errorCode": ""})
    with pytest.raises(RecordError, match=re.escape("'userIdentity.accountId'")):
        PARSER.parse(_with(both, "userIdentity.accountId", {}))


@pytest.mark.parametrize(
    "written",
    [
        "2024-05-14T09:20:17Z",
        "2024-05-14T09:20:17.5Z",
        "2024-05-14T09:20:17.123456789Z",
        "2024-05-14T09:20:17z",
        " 2024-05-14T09:20:17Z ",
        "2024-05-14 09:20:17Z",
        "2024-05-14T11:20:17+02:00",
        "2024-05-14T09:20:17",
        1715678417,
    ],
)
def test_it_reads_event_times_in_every_written_form(written: Any) -> None:
    event = PARSER.parse(record(eventTime=written))
    assert event.event_time == parse_time(written, "eventTime")
    assert event.event_time == datetime(2024, 5, 14, 9, 20, 17, event.event_time.microsecond, UTC)
    assert event.event_time.tzinfo is UTC


@pytest.mark.parametrize(
    "written", ["2024-13-14T09:20:17Z", "2024-05-14T25:20:17Z", "2024-05-14T09:20:1xZ"]
)
def test_it_refuses_an_impossible_event_time_with_the_value(written: str) -> None:
    with pytest.raises(RecordError) as caught:
        PARSER.parse(record(eventTime=written))
    assert str(caught.value) == f"field 'eventTime' is not a valid timestamp: {written!r}"
