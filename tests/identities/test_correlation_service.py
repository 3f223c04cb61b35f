"""Correlation through the store: late issuers, the grace period, directory changes, trace."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from forensics.identities.models import Identity, IdentityAlias
from forensics.identities.trace import find_event, trace_json
from forensics.ingest.models import Attribution, Event, EventWait
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db
SAML = SAMPLES / "cloudtrail" / "saml_role_chain.json"
GET_OBJECT = "5b0d2a6c-9f1e-4c3b-8a7d-1e2f3a4b5c03"


def split_records(src: Path, tmp: Path, strip_source_identity: bool = False) -> list[Path]:
    """One Records file per record, so a test can deliver them in any order."""
    out = []
    for n, record in enumerate(json.loads(src.read_text())["Records"]):
        if strip_source_identity:
            record["userIdentity"].get("sessionContext", {}).pop("sourceIdentity", None)
            for part in ("requestParameters", "responseElements"):
                (record.get(part) or {}).pop("sourceIdentity", None)
        path = tmp / f"{src.stem}-{n}.json"
        path.write_text(json.dumps({"Records": [record]}))
        out.append(path)
    return out


@pytest.fixture(autouse=True)
def _ingest(ingest_files):
    global ingest
    ingest = ingest_files


def test_source_identity_alone_attributes_through_an_asserted_hop(source, tmp_path):
    _saml, _assume, get = split_records(SAML, tmp_path)
    ingest(source, get)
    event = Event.objects.get(source_event_id=GET_OBJECT)
    assert event.status == "attributed"
    assert [h["evidence"] for h in event.hops] == ["asserted"]
    assert event.origin.aliases.filter(namespace="email", value="jane.doe@example.com").exists()


def test_an_access_delivered_before_its_issuers_converges_when_they_arrive(source, tmp_path):
    # Without sourceIdentity the session says nothing of its origin: only the issuers can.
    saml, assume, get = split_records(SAML, tmp_path, strip_source_identity=True)
    ingest(source, get)
    event = Event.objects.get(source_event_id=GET_OBJECT)
    # The event is from 2024: far past the grace period, so the gap is reported, not hidden.
    assert (event.status, event.reason) == ("unattributed", "missing_issuer")
    assert EventWait.objects.filter(event=event).exists()
    ingest(source, assume)
    event.refresh_from_db()
    assert (event.status, event.reason) == ("unattributed", "missing_issuer")
    ingest(source, saml)
    event.refresh_from_db()
    assert event.status == "attributed"
    assert event.reason == ""
    assert [h["method"] for h in event.hops] == ["saml-federation", "assume-role"]
    assert {h["evidence"] for h in event.hops} == {"exact"}
    assert event.origin.kind == "human"


def test_delivery_order_does_not_change_the_stored_attribution(make_user, tmp_path):
    from forensics.ingest.models import Source

    results = []
    for n, order in enumerate([(0, 1, 2), (2, 1, 0), (1, 2, 0)]):
        Event.objects.all().delete()
        source = Source.objects.create(name=f"s{n}")
        folder = tmp_path / str(n)
        folder.mkdir()
        parts = split_records(SAML, folder, strip_source_identity=True)
        ingest(source, *(parts[i] for i in order))
        results.append(trace_json(find_event(GET_OBJECT)))
    assert results[0]["status"] == "attributed"
    assert results[0] == results[1] == results[2]


def test_a_pending_event_within_the_grace_period_is_pending(source, tmp_path, settings):
    settings.CORRELATION_GRACE_MINUTES = 10**7  # years: the 2024 sample is still "recent"
    _saml, _assume, get = split_records(SAML, tmp_path, strip_source_identity=True)
    ingest(source, get)
    assert Event.objects.get(source_event_id=GET_OBJECT).status == "pending"


def test_marking_an_iam_user_shared_makes_its_activity_unattributed(source, tmp_path):
    ingest(source, SAMPLES / "cloudtrail" / "shared_iam_user.json")
    used = Event.objects.filter(actor_principal="arn:aws:iam::111122223333:user/etl-shared")
    assert used.exists() and all(e.status == "attributed" for e in used)
    directory_file = tmp_path / "dir.csv"
    directory_file.write_text(
        "identity,kind,alias_namespace,alias_value,owner,shared\n"
        "etl-shared,human,aws_iam_user,arn:aws:iam::111122223333:user/etl-shared,,true\n"
    )
    out = StringIO()
    call_command("import_identities", str(directory_file), stdout=out)
    assert "rows" in out.getvalue()
    statuses = {(e.status, e.reason) for e in used.all()}
    assert statuses == {("unattributed", "shared_account")}


def test_import_merges_identities_that_share_an_alias_and_export_round_trips(tmp_path):
    a = Identity.objects.create(kind="human", name="alice@corp.example")
    IdentityAlias.objects.create(identity=a, namespace="email", value="alice@corp.example")
    b = Identity.objects.create(kind="human", name="00u1alice")
    IdentityAlias.objects.create(identity=b, namespace="okta_user", value="00u1alice")
    f = tmp_path / "dir.csv"
    f.write_text(
        "identity,kind,alias_namespace,alias_value,owner,shared\n"
        "Alice Example,human,email,Alice@Corp.Example,,\n"
        "Alice Example,human,okta_user,00u1alice,,\n"
        "payroll-exporter,workload,aws_iam_user,"
        "arn:aws:iam::111122223333:user/payroll-exporter,Alice Example,\n"
    )
    call_command("import_identities", str(f), stdout=StringIO())
    alice = Identity.objects.get(name="Alice Example")
    assert sorted(alice.aliases.values_list("namespace", flat=True)) == ["email", "okta_user"]
    assert Identity.objects.filter(kind="human").count() == 1
    assert Identity.objects.get(name="payroll-exporter").owner == alice
    out = StringIO()
    call_command("export_identities", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "identity,kind,alias_namespace,alias_value,owner,shared"
    arn = "arn:aws:iam::111122223333:user/payroll-exporter"
    assert f"payroll-exporter,workload,aws_iam_user,{arn},Alice Example,false" in lines


def test_import_names_the_bad_row(tmp_path):
    from django.core.management.base import CommandError

    f = tmp_path / "dir.csv"
    f.write_text("identity,kind,alias_namespace,alias_value,owner,shared\nx,robot,email,x@y,,\n")
    with pytest.raises(CommandError, match="row 2: 'kind'"):
        call_command("import_identities", str(f), stdout=StringIO())


CONTRACT_KEYS = ["event", "status", "reason", "origin", "hops"]
HOP_KEYS = ["principal", "credential", "method", "evidence", "via_event"]


SAMPLE_FILES = sorted(
    str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md"
)


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_trace_json_matches_the_contract_for_every_sample_event(source, sample):
    (batch,) = ingest(source, SAMPLES / sample)
    assert batch.quarantined == 0
    for event in Event.objects.all():
        out = StringIO()
        call_command("trace", str(event.pk), "--json", stdout=out)
        data = json.loads(out.getvalue())
        assert list(data) == CONTRACT_KEYS
        assert data["status"] in {"attributed", "ambiguous", "unattributed", "pending"}
        if data["status"] in {"attributed", "pending"}:
            assert data["reason"] is None
        if data["status"] == "unattributed":
            assert data["reason"] in {
                "shared_account",
                "missing_issuer",
                "unknown_principal",
                "anonymous",
                "conflicting_evidence",
                "long_lived_shared_key",
            }
        if data["origin"] is not None:
            assert list(data["origin"]) == ["kind", "name", "aliases"]
            assert data["origin"]["kind"] in {"human", "workload"}
        for hop in data["hops"]:
            assert list(hop) == HOP_KEYS
            assert hop["evidence"] in {"exact", "asserted", "inferred"}
        if data["status"] == "attributed":
            assert data["origin"] is not None
            assert all(h["evidence"] != "inferred" for h in data["hops"])


def test_trace_finds_an_event_by_the_producers_id_and_prints_a_readable_chain(source):
    ingest(source, SAML)
    out = StringIO()
    call_command("trace", GET_OBJECT, stdout=out)
    text = out.getvalue()
    assert "status  attributed" in text
    assert "saml-federation" in text and "assume-role" in text
    assert "[exact]" in text


def test_trace_of_an_unknown_event_exits_2():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as info:
        call_command("trace", "no-such-event", stdout=StringIO())
    assert info.value.returncode == 2


def test_correlate_command_prints_a_summary(source):
    ingest(source, SAML)
    out = StringIO()
    call_command("correlate", "--all", stdout=out)
    assert out.getvalue().startswith("correlated 3: attributed 3")


def test_correlate_command_without_all_takes_the_events_never_correlated(source, settings):
    settings.CORRELATE_AFTER_INGEST = False
    ingest(source, SAML)
    assert not Attribution.objects.exists()
    assert Event.objects.with_status("pending").count() == 3
    out = StringIO()
    call_command("correlate", stdout=out)
    assert out.getvalue().startswith("correlated 3: attributed 3")
    assert not Event.objects.with_status("pending").exists()
    out = StringIO()
    call_command("correlate", stdout=out)
    assert out.getvalue().startswith("correlated 0")


def test_the_grace_sweep_also_settles_events_never_correlated(source, settings, monkeypatch):
    # An event whose correlation never ran (its task lost with a worker) is pending too,
    # and the sweep must not pass it over for having no result at all.
    from datetime import timedelta

    from django.utils import timezone

    from forensics.identities import services
    from forensics.ingest.models import IngestBatch

    settings.CORRELATE_AFTER_INGEST = False
    settings.CORRELATION_GRACE_MINUTES = 60
    ingest(source, SAML)
    # Stored just now: its own correlation may still be queued.
    assert services.expire_pending().events == 0
    # Stored before the sweep's look-back: left to "manage.py correlate".
    IngestBatch.objects.update(finished_at=timezone.now() - timedelta(days=1, minutes=61))
    assert services.expire_pending().events == 0
    IngestBatch.objects.update(finished_at=timezone.now() - timedelta(minutes=61))
    monkeypatch.setattr(services, "SWEEP_SLICE", 2)  # a backlog is taken a slice at a time
    assert services.expire_pending().events == 3
    assert Event.objects.with_status("attributed").count() == 3


def test_correlate_command_shares_add_up_to_the_whole_store(source):
    from django.core.management.base import CommandError

    ingest(source, SAML)
    counts = []
    for share in ("0/2", "1/2"):
        out = StringIO()
        call_command("correlate", "--all", "--share", share, stdout=out)
        counts.append(int(out.getvalue().split()[1].rstrip(":")))
    assert sum(counts) == 3
    for bad in ("2/2", "x", "1/0"):
        with pytest.raises(CommandError):
            call_command("correlate", "--share", bad, stdout=StringIO())


def test_import_refuses_one_alias_under_two_identities(tmp_path):
    from django.core.management.base import CommandError

    f = tmp_path / "dir.csv"
    f.write_text(
        "identity,kind,alias_namespace,alias_value,owner,shared\n"
        "ann,human,aws_iam_user,arn:aws:iam::111122223333:user/deploy-bot,,true\n"
        "bob,human,aws_iam_user,arn:aws:iam::111122223333:user/deploy-bot,,true\n"
    )
    with pytest.raises(CommandError, match=r"row 3: alias aws_iam_user:.*'ann' \(row 2\)"):
        call_command("import_identities", str(f), stdout=StringIO())
    assert not Identity.objects.exists()


def test_merging_identities_keeps_their_case_links(investigator):
    from forensics.cases.models import Case, CaseIdentity
    from forensics.identities.directory import merge

    keep = Identity.objects.create(kind="human", name="Alice")
    other = Identity.objects.create(kind="human", name="00u1alice")
    both = Case.objects.create(title="both", created_by=investigator)
    only_other = Case.objects.create(title="other", created_by=investigator)
    CaseIdentity.objects.create(case=both, identity=keep)
    CaseIdentity.objects.create(case=both, identity=other)
    CaseIdentity.objects.create(case=only_other, identity=other)
    merge(keep, other)
    links = sorted(CaseIdentity.objects.values_list("case__title", "identity__name"))
    assert links == [("both", "Alice"), ("other", "Alice")]


def test_in_embedded_mode_an_ingest_also_settles_events_past_their_grace(
    source, tmp_path, settings
):
    settings.CORRELATION_GRACE_MINUTES = 10**7
    _saml, _assume, get = split_records(SAML, tmp_path, strip_source_identity=True)
    ingest(source, get)
    assert Event.objects.get(source_event_id=GET_OBJECT).status == "pending"
    settings.CORRELATION_GRACE_MINUTES = 60
    ingest(source, SAMPLES / "cloudtrail" / "federation_token.json")
    event = Event.objects.get(source_event_id=GET_OBJECT)
    assert (event.status, event.reason) == ("unattributed", "missing_issuer")


def test_re_correlation_writes_only_the_results_that_changed(source):
    from forensics.identities import services

    ingest(source, SAML)
    before = dict(Event.objects.values_list("pk", "attribution__correlated_at"))
    assert all(before.values())
    services.correlate_all()
    assert dict(Event.objects.values_list("pk", "attribution__correlated_at")) == before
    read = Event.objects.get(source_event_id=GET_OBJECT)
    Attribution.objects.filter(event_id=read.pk).update(status="pending", origin=None, hops=[])
    services.correlate_all()
    after = dict(Event.objects.values_list("pk", "attribution__correlated_at"))
    assert [pk for pk in after if after[pk] != before[pk]] == [read.pk]
    read.refresh_from_db()
    assert read.status == "attributed" and read.origin_id is not None


def test_an_attribution_stored_with_a_stale_time_follows_its_event(source):
    # A result computed before a replaced record moved its event in time, and stored after:
    # the next correlation finds the same result, and must still move it to the event's time
    # (the event is joined to its attribution by id and time).
    from datetime import timedelta

    from forensics.identities import services

    ingest(source, SAML)
    read = Event.objects.get(source_event_id=GET_OBJECT)
    Attribution.objects.filter(event_id=read.pk).update(
        event_time=read.event_time - timedelta(hours=1)
    )
    assert Event.objects.get(pk=read.pk).status == "pending"  # no longer joined
    services.correlate_all()
    read = Event.objects.get(pk=read.pk)
    assert read.status == "attributed" and read.attribution.event_time == read.event_time


def stored_results() -> list[tuple]:
    from forensics.identities.services import COMPARED_COLUMNS

    results = Attribution.objects.order_by("event_id").values_list("event_id", *COMPARED_COLUMNS)
    return [
        (*row, sorted(EventWait.objects.filter(event_id=row[0]).values_list("key", flat=True)))
        for row in results
    ]


def test_first_results_go_straight_in_and_match_what_the_upsert_stores(source, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    from forensics.identities import services

    ingest(source, SAML, SAMPLES / "cloudtrail" / "federation_token.json")
    Attribution.objects.all().delete()
    EventWait.objects.all().delete()
    ids = list(Event.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        services.correlate_ids(ids)
    assert not any("ON CONFLICT" in q["sql"] for q in queries)  # no staging, no upsert
    direct = stored_results()
    assert any(row[-1] for row in direct)  # some events wait on a value
    Attribution.objects.all().delete()
    EventWait.objects.all().delete()
    monkeypatch.setattr(services, "_first_results", lambda cursor, ids: False)
    services.correlate_ids(ids)
    assert stored_results() == direct


def test_a_result_stored_meanwhile_makes_the_chunk_take_the_upsert(source, monkeypatch):
    # Something without the chains' locks stored a result after the check: the straight
    # insert meets the unique key, and the chunk is stored by the upsert instead.
    from django.test.utils import CaptureQueriesContext

    from forensics.identities import services

    ingest(source, SAML)
    expected = stored_results()
    read = Event.objects.get(source_event_id=GET_OBJECT)
    Attribution.objects.filter(event_id=read.pk).update(status="pending", origin=None, hops=[])
    monkeypatch.setattr(services, "_first_results", lambda cursor, ids: True)
    with CaptureQueriesContext(connection) as queries:
        services.correlate_all()
    assert any("ON CONFLICT" in q["sql"] for q in queries)
    assert stored_results() == expected


def test_the_engine_sees_the_same_events_through_either_read_path(source):
    from forensics.identities import services

    ingest(source, SAML, SAMPLES / "entra" / "graph_signins.json")
    qs = Event.objects.order_by("pk")
    fast = services._values(qs)
    assert fast == services.engine_events(qs.values("id", *services.ENGINE_FIELDS))
    assert len(fast) == qs.count() and all(e.event.attrs for e in fast)


def test_a_chunk_reads_its_events_within_their_time_span(source):
    from django.test.utils import CaptureQueriesContext

    from forensics.identities import services

    ingest(source, SAML)
    Attribution.objects.all().delete()  # never correlated
    with CaptureQueriesContext(connection) as queries:
        services.correlate_ids(Event.objects.values_list("pk", flat=True))
    by_id = ('"id" IN', '"id" = ANY')  # a list of ids: IN on SQLite, one array on PostgreSQL
    reads = [q["sql"] for q in queries if "FROM" in q["sql"] and any(m in q["sql"] for m in by_id)]
    assert any("BETWEEN" in sql for sql in reads), reads
    assert Event.objects.with_status("attributed").count() == 3


def test_an_event_whose_time_moved_after_planning_is_still_correlated(source):
    from datetime import timedelta

    from forensics.identities import services

    ingest(source, SAML)
    Attribution.objects.all().delete()  # never correlated
    ids = sorted(Event.objects.values_list("pk", flat=True))
    access = Event.objects.get(source_event_id=GET_OBJECT)
    # The span as planned no longer holds the access (its record was replaced meanwhile).
    span = (access.event_time - timedelta(days=2), access.event_time - timedelta(days=1))
    services._correlate_chunk(ids, [0], timedelta(minutes=60), span)
    access.refresh_from_db()
    assert access.status == "attributed" and access.origin is not None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partial indexes and their planner are PostgreSQL's"
)
def test_a_long_lookup_list_reads_the_partial_indexes_not_the_whole_table(source):
    """PostgreSQL proves that a list of values excludes "" (the condition of the lookup
    columns' indexes) only for lists of up to 100 values; correlation asks for thousands."""
    from forensics.engine.correlation import Lookups
    from forensics.identities import services

    ingest(source, SAML)
    issued = set(
        Event.objects.exclude(credential_issued="").values_list("credential_issued", flat=True)
    )
    many = {f"ASIAEXAMPLE{n:09d}" for n in range(300)}
    lookups = Lookups(
        issued_credentials=issued | many,
        issued_principals={f"arn:aws:sts::111122223333:assumed-role/R/s{n}" for n in range(300)},
        correlation_ids={f"corr-{n}" for n in range(300)},
        assumed_role_ids={f"AROAEXAMPLE:{n}" for n in range(300)},
        shared_event_ids={f"shared-{n}" for n in range(300)},
    )
    qs = Event.objects.filter(services._answering(lookups)).values_list("pk")
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a scan it cannot avoid stays one
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert {e.event.credential_issued for e in services.fetch_lookups(lookups)} >= issued


def test_an_insight_is_attributed_to_cloudtrail_and_never_to_the_callers_it_names(source):
    insight = "444455556666_CloudTrail-Insight_us-east-1_20240410T1440Z_InsightEXAMPLE.json.gz"
    ingest(source, SAMPLES / "cloudtrail" / insight)
    events = list(Event.objects.select_related("attribution__origin"))
    assert len(events) == 3
    for event in events:
        assert event.status == "attributed" and not event.personal_data
        assert event.origin.name == "cloudtrail.amazonaws.com"
        assert event.origin.kind == "workload" and event.hops == []
    named = Identity.objects.filter(name__contains="contractor-session")
    assert not named.exists()


def test_a_microsoft_365_file_access_traces_to_the_entra_sign_in_of_its_token(source, tmp_path):
    content = SAMPLES / "m365_audit" / "management_api_content.json"
    signins = json.loads((SAMPLES / "entra" / "graph_signins.json").read_text())
    signin = dict(signins["value"][0])
    signin.update(
        id="66ea54eb-6301-4ee5-be62-ff5a759b0999",
        createdDateTime="2024-04-10T14:20:11Z",
        userPrincipalName="alice@contoso.com",
        uniqueTokenIdentifier="Xq4fB2y_dEKvS5rN8mQ3AA",  # the uti the access carried
    )
    signin_file = tmp_path / "signin.json"
    signin_file.write_text(json.dumps({"value": [signin]}))
    # The access first, its sign-in later: the access is re-attributed when it arrives.
    ingest(source, content)
    access = Event.objects.get(source_event_id="7b1d3e5f-0a2c-4e6b-9d8f-1a3c5e7b9d01")
    assert access.status == "attributed" and access.hops == []
    ingest(source, signin_file)
    access.refresh_from_db()
    assert access.status == "attributed"
    assert [(h["method"], h["evidence"]) for h in access.hops] == [("sign-in", "exact")]
    via = Event.objects.get(pk=int(access.hops[0]["via_event"]))
    assert via.source_kind == "entra" and via.credential_issued == "Xq4fB2y_dEKvS5rN8mQ3AA"
    values = set(access.origin.aliases.values_list("namespace", "value"))
    assert ("email", "alice@contoso.com") in values
    system = Event.objects.get(source_event_id="7b1d3e5f-0a2c-4e6b-9d8f-1a3c5e7b9d05")
    assert (system.status, system.reason, system.origin) == (
        "unattributed",
        "unknown_principal",
        None,
    )


def test_graph_requests_trace_to_the_sign_ins_that_issued_their_tokens(source):
    ingest(source, SAMPLES / "graph_activity" / "PT1H.json")  # the requests before the sign-ins
    ingest(source, SAMPLES / "entra" / "graph_signins.json")
    by_request = {e.source_event_id: e for e in Event.objects.filter(source_kind="graph_activity")}
    read = by_request["1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f01"]
    listing = by_request["1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f02"]
    for event in (read, listing):
        assert event.status == "attributed"
        assert [(h["method"], h["evidence"]) for h in event.hops] == [("sign-in", "exact")]
        via = Event.objects.get(pk=int(event.hops[0]["via_event"]))
        assert via.source_kind == "entra" and via.credential_issued == event.credential_used
    # Named first by object id alone (the requests came first), then by the sign-in's too.
    alice = set(read.origin.aliases.values_list("namespace", "value"))
    assert ("email", "alice@example.com") in alice
    oid = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
    assert Identity.objects.filter(aliases__value=oid).count() == 1
    # ...and named by her sign-in name, as if the sign-ins had come first.
    assert read.origin.name == "alice@example.com"
    assert listing.origin.kind == "workload"
    assert ("entra_app", "a1b2c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7") in set(
        listing.origin.aliases.values_list("namespace", "value")
    )


def test_a_name_an_admin_gave_is_kept_when_the_logs_name_the_identity_otherwise(source):
    oid = "3f7a2c1d-9e8b-4a6f-b5c4-d3e2f1a0b9c8"
    named = Identity.objects.create(kind="human", name="Alice (finance)", origin=Identity.ADMIN)
    named.aliases.create(namespace="entra_user", value=oid)
    ingest(source, SAMPLES / "graph_activity" / "PT1H.json")
    ingest(source, SAMPLES / "entra" / "graph_signins.json")
    named.refresh_from_db()
    assert named.name == "Alice (finance)"
    assert named.aliases.filter(namespace="email", value="alice@example.com").exists()


def test_results_written_together_keep_their_own_origin_hops_and_waits():
    """What results share (origin, hops, wait keys) is worked out once per shared object: an
    empty hops tuple or an empty key tuple shared by unrelated results must not carry one
    result's origin, label or waits over to another."""
    from forensics.engine.correlation import Alias, Hop, Origin
    from forensics.engine.correlation import Attribution as Result
    from forensics.identities.services import Summary, write_back
    from tests.investigate import factories

    alice = Origin("human", "alice@corp.example", (Alias("email", "alice@corp.example"),))
    bob = Origin("human", "bob@corp.example", (Alias("email", "bob@corp.example"),))
    hop = Hop("arn:aws:iam::111122223333:role/Reader", "ASIAREADER", "assume-role", "exact", "9")
    events = [factories.event() for _ in range(4)]
    results = [
        Result(str(events[0].pk), "attributed", None, alice, ()),
        Result(str(events[1].pk), "attributed", None, bob, (), depends_on=("ASIAONE",)),
        Result(str(events[2].pk), "attributed", None, bob, (hop,), waiting_on=("ASIATWO",)),
        Result(str(events[3].pk), "unattributed", "unknown_principal", None, ()),
    ]
    summary = Summary()
    write_back(results, summary, {str(e.pk): e.event_time for e in events})

    stored = {a.event_id: a for a in Attribution.objects.select_related("origin")}
    first, second, third, fourth = (stored[e.pk] for e in events)
    assert (first.origin.name, first.chain_label, first.hops) == ("alice@corp.example",) * 2 + ([],)
    assert (second.origin.name, second.chain_label) == ("bob@corp.example",) * 2
    assert third.origin_id == second.origin_id
    assert third.hops[0]["credential"] == "ASIAREADER" and third.evidence == "exact"
    assert third.chain_label == "bob@corp.example → assume-role → Reader"
    assert (fourth.origin, fourth.chain_label, fourth.hops) == (None, "", [])
    waits = sorted(EventWait.objects.values_list("event_id", "key"))
    assert waits == [(events[1].pk, "ASIAONE"), (events[2].pk, "ASIATWO")]
    assert (summary.events, summary.attributed, summary.identities_created) == (4, 3, 2)


def test_correlation_spaces_the_cycle_collector_while_it_reads_and_stores(source, monkeypatch):
    import gc

    from forensics.engine.collection import BULK_THRESHOLD
    from forensics.identities import services

    ingest(source, SAML)
    before = gc.get_threshold()
    seen = []
    write_back = services.write_back

    def recording(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return write_back(*args, **kwargs)

    monkeypatch.setattr(services, "write_back", recording)
    services.correlate_all()
    services.correlate_ids(Event.objects.values_list("pk", flat=True))
    assert seen == [BULK_THRESHOLD, BULK_THRESHOLD]
    assert gc.get_threshold() == before
