"""What a file holds when it holds no logs: an API's error response or a web page saved in
place of the logs is named, with what the producer said."""

from __future__ import annotations

import pytest

from forensics.engine.not_logs import not_a_log, not_json
from forensics.engine.parsers import UnknownFormat, detect


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"error": {"code": 403, "message": "The caller does not have\npermission",
                       "status": "PERMISSION_DENIED"}},
            "a Google API error response (403 PERMISSION_DENIED: The caller does not have "
            "permission), not log records",
        ),
        (
            {"error": {"code": "InvalidAuthenticationToken",
                       "message": "Lifetime validation failed, the token is expired.",
                       "innerError": {"request-id": "r1"}}},
            "a Microsoft API error response (InvalidAuthenticationToken: Lifetime validation "
            "failed, the token is expired.), not log records",
        ),
        (
            {"errorCode": "E0000011", "errorSummary": "Invalid token provided",
             "errorLink": "E0000011", "errorId": "oae1", "errorCauses": []},
            "an Okta API error response (E0000011: Invalid token provided), not log records",
        ),
        (
            {"__type": "com.amazon.coral.service#AccessDeniedException",
             "Message": "User is not authorized to perform: cloudtrail:LookupEvents"},
            "an AWS API error response (AccessDeniedException: User is not authorized to "
            "perform: cloudtrail:LookupEvents), not log records",
        ),
        (
            {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
             "message": "events is forbidden", "code": 403},
            "a Kubernetes API error response (403 Forbidden: events is forbidden), not log records",
        ),
    ],
)  # fmt: skip
def test_an_api_error_response_is_named_with_what_it_said(record, reason):
    assert not_a_log(record) == reason
    with pytest.raises(UnknownFormat) as refused:
        detect([record])
    assert str(refused.value) == reason


def test_a_record_of_an_unknown_format_is_not_taken_for_an_error():
    assert not_a_log({"error": "disk full", "host": "a"}) == ""
    assert not_a_log({"level": "info", "msg": "started"}) == ""
    with pytest.raises(UnknownFormat) as refused:
        detect([{"level": "info", "msg": "started"}])
    assert str(refused.value).startswith("unrecognized log format; use --format")


def test_a_web_page_or_an_xml_error_is_named():
    page = b"\n<!DOCTYPE html>\n<html><head><title>Sign in &amp; continue</title></head></html>"
    assert not_json(page) == (
        'an HTML page titled "Sign in & continue", not log records: a sign-in or error page '
        "saved in place of the logs?"
    )
    s3 = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"
    )
    assert not_json(s3) == "an XML error response (AccessDenied: Access Denied), not log records"
    assert not_json(b"<?xml version='1.0'?><feed/>") == "an XML document, not log records"
    assert not_json(b"2024-05-14 09:20:17 sshd[42]: Accepted publickey") == ""


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            {"TenantId": "t", "TimeGenerated": "2024-05-14T09:00:00Z", "Operation": "FileAccessed",
             "UserId": "alice@example.com", "Type": "OfficeActivity"},
            "a Log Analytics row of table 'OfficeActivity', which is not read: ingest the "
            "records from the Microsoft 365 audit log (Purview audit search or the Management "
            "Activity API) instead",
        ),
        (
            {"TimeGenerated": "2024-05-14T09:00:00Z", "actor_alternateId_s": "alice@example.com",
             "Type": "Contoso_CL"},
            "a Log Analytics custom log row (table 'Contoso_CL'): its columns are not a "
            "producer's format",
        ),
        (
            {"TimeGenerated": "2024-05-14T09:00:00Z", "Type": "Heartbeat"},
            "a Log Analytics row of table 'Heartbeat', which is not read",
        ),
    ],
)  # fmt: skip
def test_a_row_of_a_log_analytics_table_not_read_is_named(row, reason):
    with pytest.raises(UnknownFormat) as refused:
        detect([row])
    assert str(refused.value) == reason


def test_a_record_with_a_type_member_is_no_log_analytics_row():
    assert not_a_log({"Type": "Heartbeat", "host": "a"}) == ""
