"""AWS chains: exact key links, roots, and what happens when the issuing call is missing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forensics.engine.correlation import (
    Alias,
    Directory,
    DirectoryIdentity,
    MemoryIndex,
    arrival_keys,
    attribute,
    close_over,
)
from forensics.engine.model import CREDENTIAL_ISSUE, DATA_ACCESS
from forensics.engine.parsers.common import iso
from tests.engine.correlation.builders import (
    ACCOUNT,
    GRACE,
    LATER,
    OTHER_ACCOUNT,
    Session,
    aliases,
    assume_role,
    cloudtrail,
    evidence,
    get_object,
    iam_user_actor,
    minutes,
    run,
    saml_login,
    session_actor,
    web_identity_login,
)

IDP = "https://idp.example.com/saml2/metadata"
PII = "s3://customer-pii-example/exports/customers.csv"


def _alice_admin_chain() -> tuple[list, Session, Session]:
    entry = Session(
        "SSOEntry", "alice@example.com", "ASIAENTRY00000000001", "AROAENTRY00000000001", minutes(0)
    )
    admin = Session(
        "DataAdmin",
        "alice-admin",
        "ASIAADMIN00000000001",
        "AROAADMIN00000000001",
        minutes(5),
        account=OTHER_ACCOUNT,
    )
    events = [
        saml_login("saml", entry, "alice@example.com", IDP),
        assume_role("hop", session_actor(entry), admin),
        get_object("read", minutes(7), session_actor(admin), PII),
    ]
    return events, entry, admin


def test_it_attributes_saml_chain_to_human() -> None:
    events, entry, admin = _alice_admin_chain()
    result = run(events)["read"]
    assert result.status == "attributed"
    assert result.reason is None
    assert result.origin is not None
    assert result.origin.kind == "human"
    assert result.origin.identity_id is None  # a proposal: the directory is empty
    assert aliases(result) == {f"saml_subject:{IDP}|alice@example.com", "email:alice@example.com"}
    assert [h.principal for h in result.hops] == [entry.arn, admin.arn]
    assert [h.credential for h in result.hops] == [entry.key, admin.key]
    assert evidence(result) == [
        ("saml-federation", "exact", "saml"),
        ("assume-role", "exact", "hop"),
    ]
    assert result.waiting_on == ()


def test_it_names_the_directory_identity_that_holds_the_alias() -> None:
    events, _, _ = _alice_admin_chain()
    directory = Directory(
        [
            DirectoryIdentity(
                "id-alice", "human", "Alice Example", aliases=(Alias("email", "Alice@Example.com"),)
            )
        ]
    )
    result = run(events, directory)["read"]
    assert result.status == "attributed"
    assert result.origin is not None
    assert (result.origin.identity_id, result.origin.name) == ("id-alice", "Alice Example")


def test_it_attributes_the_intermediate_issuing_call_too() -> None:
    events, entry, _ = _alice_admin_chain()
    result = run(events)["hop"]
    assert result.status == "attributed"
    assert evidence(result) == [("saml-federation", "exact", "saml")]
    assert result.hops[0].principal == entry.arn


def test_it_attributes_github_actions_web_identity_to_the_workflow() -> None:
    deploy = Session(
        "deploy", "GitHubActions", "ASIAGHA0000000000001", "AROAGHA0000000000001", minutes(0)
    )
    subject = "repo:example-org/app:ref:refs/heads/main"
    events = [
        web_identity_login("oidc", deploy, subject, "token.actions.githubusercontent.com"),
        cloudtrail(
            "put",
            minutes(2),
            "s3:PutObject",
            session_actor(deploy),
            category=DATA_ACCESS,
            resource="s3://releases-example/app.zip",
        ),
    ]
    result = run(events)["put"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert result.origin.name == subject
    assert aliases(result) == {f"web_identity:token.actions.githubusercontent.com|{subject}"}
    assert evidence(result) == [("web-identity", "exact", "oidc")]


def test_it_attributes_an_eks_pod_role_to_its_service_account() -> None:
    provider = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    sub = "system:serviceaccount:billing:invoice-worker"
    pod = Session(
        "invoice-worker",
        "botocore-session-1772442000",
        "ASIAIRSA000000000001",
        "AROAIRSA000000000001",
        minutes(0),
    )
    events = [
        web_identity_login("irsa", pod, sub, provider),
        get_object("invoice", minutes(1), session_actor(pod), PII),
    ]
    result = run(events)["invoice"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"web_identity:{provider}|{sub}", f"k8s_service_account:{sub}"}


def _federation(with_issuer: bool) -> list:
    broker = iam_user_actor("carol", "AKIAIOSFODNN7EXAMPLE")
    fed_arn = f"arn:aws:sts::{ACCOUNT}:federated-user/carol-report"
    federated = {
        "actor_principal": fed_arn,
        "actor_kind": "federated_session",
        "actor_account": ACCOUNT,
        "credential_used": "ASIAFED0000000000001",
        "session_name": "carol-report",
        "attrs": {
            "identity_type": "FederatedUser",
            "principal_id": f"{ACCOUNT}:carol-report",
            "session_issuer_arn": f"arn:aws:iam::{ACCOUNT}:user/carol",
            "session_issuer_type": "IAMUser",
            "session_created": iso(minutes(0)),
        },
    }
    events = [get_object("fedread", minutes(3), federated, PII)]
    if with_issuer:
        events.append(
            cloudtrail(
                "gft",
                minutes(0),
                "sts:GetFederationToken",
                broker,
                category=CREDENTIAL_ISSUE,
                credential_issued="ASIAFED0000000000001",
                issued_principal=fed_arn,
                issue_method="federation-token",
                attrs={"federated_user_arn": fed_arn, "credential_expiration": iso(minutes(720))},
            )
        )
    return events


def test_it_follows_a_federation_token_back_to_the_iam_user_key() -> None:
    result = run(_federation(with_issuer=True))["fedread"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {f"aws_iam_user:arn:aws:iam::{ACCOUNT}:user/carol"}
    assert evidence(result) == [("federation-token", "exact", "gft")]


def test_it_takes_the_iam_user_a_federation_session_records_when_the_call_is_missing() -> None:
    result = run(_federation(with_issuer=False))["fedread"]
    assert result.status == "attributed"
    assert evidence(result) == [("federation-token", "asserted", "fedread")]
    assert "ASIAFED0000000000001" in result.depends_on


def test_it_lets_the_directory_make_an_iam_user_a_workload() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/carol"
    directory = Directory(
        [
            DirectoryIdentity(
                "id-bot",
                "workload",
                "report bot",
                owner="finance",
                aliases=(Alias("aws_iam_user", arn),),
            )
        ]
    )
    result = run(_federation(with_issuer=True), directory)["fedread"]
    assert result.origin is not None
    assert (result.origin.kind, result.origin.identity_id) == ("workload", "id-bot")


def test_it_attributes_an_application_call_to_the_identity_center_user_it_acts_for() -> None:
    app = Session("QAppRole", "q-app", "ASIAAPP0000000000001", "AROAAPP0000000000001", minutes(0))
    user_id = "94482488-3041-7026-18f3-be45837cd0e4"
    actor = session_actor(
        app,
        attrs={
            "on_behalf_of_user_id": user_id,
            "on_behalf_of_identity_store_arn": (
                "arn:aws:identitystore::111122223333:identitystore/d-1234567890"
            ),
        },
    )
    result = run([get_object("assist", minutes(4), actor, PII)])["assist"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {f"idc_user:{user_id}"}
    assert evidence(result) == [("delegation", "asserted", "assist")]
    assert result.hops[0].principal == app.arn


def test_it_links_an_identity_center_user_request_to_the_token_exchange_exactly() -> None:
    user_id = "94482488-3041-7026-18f3-be45837cd0e4"
    token = "AAAAAGV4YW1wbGUtY3JlZGVudGlhbC1pZA"
    app = Session("QAppRole", "q-app", "ASIAAPP0000000000001", "AROAAPP0000000000001", minutes(0))
    exchange = cloudtrail(
        "token",
        minutes(1),
        "sso-oauth:CreateTokenWithIAM",
        session_actor(app),
        category=CREDENTIAL_ISSUE,
        credential_issued=token,
        issued_principal=user_id,
        issue_method="sso",
    )
    request = cloudtrail(
        "chat",
        minutes(2),
        "qbusiness:Chat",
        {
            "actor_principal": user_id,
            "actor_kind": "identity_center_user",
            "actor_account": ACCOUNT,
            "credential_used": token,
            "attrs": {
                "identity_type": "IdentityCenterUser",
                "on_behalf_of_user_id": user_id,
                "credential_id": token,
            },
        },
    )
    result = run([exchange, request])["chat"]
    assert result.status == "attributed"
    # The application that exchanged the token acts for the user: it is in the chain.
    assert evidence(result) == [("delegation", "asserted", "token"), ("sso", "exact", "token")]
    assert [h.principal for h in result.hops] == [app.arn, user_id]
    alone = run([request])["chat"]
    assert alone.status == "attributed"
    assert evidence(alone) == [("delegation", "asserted", "chat")]


def test_it_refuses_a_shared_iam_user() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/ops"
    directory = Directory(
        [
            DirectoryIdentity(
                "id-ops", "human", "ops login", shared=True, aliases=(Alias("aws_iam_user", arn),)
            )
        ]
    )
    ops = iam_user_actor("ops", "AKIAOPS0000000000001")
    role = Session("Support", "ops", "ASIASUP0000000000001", "AROASUP0000000000001", minutes(0))
    events = [
        get_object("direct", minutes(1), ops, PII),
        assume_role("assume", ops, role),
        get_object("via-role", minutes(2), session_actor(role), PII),
    ]
    results = run(events, directory)
    for key in ("direct", "via-role"):
        assert results[key].status == "unattributed"
        assert results[key].reason == "shared_account"
        assert results[key].origin is None
        assert [c.identity_id for c in results[key].candidates] == ["id-ops"]
    assert run(events)["via-role"].status == "attributed"


def _missing_issuer_case() -> tuple[list, object, Session]:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    session = Session(
        "Analyst", "alice", "ASIALATE000000000001", "AROALATE000000000001", minutes(0)
    )
    issuer = assume_role("issuer", alice, session)
    use = get_object("use", minutes(10), session_actor(session), PII)
    return [use], issuer, session


def test_it_waits_for_a_missing_issuer_then_reports_it_then_attributes_it_when_it_arrives() -> None:
    events, issuer, session = _missing_issuer_case()
    index = MemoryIndex(events)
    directory = Directory()
    use = events[0]

    early = attribute(use, index, directory, now=minutes(30), grace=GRACE)
    assert early.status == "pending"
    assert early.waiting_on == (session.key,)

    late = attribute(use, index, directory, now=LATER, grace=GRACE)
    assert (late.status, late.reason) == ("unattributed", "missing_issuer")
    assert late.waiting_on == (session.key,)
    assert session.key in arrival_keys(issuer.event)

    store = MemoryIndex([*events, issuer])
    index = MemoryIndex(events)
    assert close_over(index, store.fetch) == 1
    final = attribute(use, index, directory, now=LATER, grace=GRACE)
    assert final.status == "attributed"
    assert evidence(final) == [("assume-role", "exact", "issuer")]
    assert final.waiting_on == ()


def test_it_flags_a_source_identity_the_chain_contradicts() -> None:
    bob = iam_user_actor("bob", "AKIABOB0000000000001")
    session = Session(
        "Analyst", "analysis", "ASIASRC000000000001", "AROASRC0000000000001", minutes(0)
    )
    issue = assume_role("assume", bob, session, attrs={"requested_source_identity": "alice"})
    use = get_object("use", minutes(2), session_actor(session), PII, source_identity="alice")
    results = run([issue, use])
    # The source identity bob set is the session's, not a claim about bob's own call.
    assert results["assume"].status == "attributed"
    result = results["use"]
    assert (result.status, result.reason) == ("unattributed", "conflicting_evidence")
    assert result.origin is None
    assert [c.name for c in result.candidates] == [f"arn:aws:iam::{ACCOUNT}:user/bob"]


@pytest.mark.parametrize(
    ("carried", "status", "reason"),
    [
        ("alice", "attributed", None),  # the source identity names the origin
        ("mallory", "unattributed", "conflicting_evidence"),  # it changed along the chain
    ],
)
def test_it_checks_the_source_identity_against_the_chain(
    carried: str, status: str, reason: str | None
) -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    session = Session(
        "Analyst", "analysis", "ASIASRC000000000001", "AROASRC0000000000001", minutes(0)
    )
    issue = assume_role("assume", alice, session, attrs={"requested_source_identity": "alice"})
    use = get_object("use", minutes(2), session_actor(session), PII, source_identity=carried)
    result = run([issue, use])["use"]
    assert (result.status, result.reason) == (status, reason)


def test_it_never_attributes_a_link_made_on_assumed_role_id_and_time_alone() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    session = Session(
        "Analyst", "alice", "ASIAINFER00000000001", "AROAINFER00000000001", minutes(0)
    )
    # The issuing call was recorded without its response credentials.
    issue = assume_role("assume", alice, session, credential_issued="")
    use = get_object("use", minutes(5), session_actor(session), PII)
    result = run([issue, use])["use"]
    assert result.status == "ambiguous"
    assert result.origin is None
    assert [c.name for c in result.candidates] == [f"arn:aws:iam::{ACCOUNT}:user/alice"]
    assert evidence(result) == [("assume-role", "inferred", "assume")]
    assert result.waiting_on == (session.key,)


def test_it_lists_every_candidate_when_several_calls_could_have_issued_a_session() -> None:
    session = Session(
        "Analyst", "shared-name", "ASIAINFER00000000001", "AROAINFER00000000001", minutes(0)
    )
    calls = [
        assume_role(
            "by-alice",
            iam_user_actor("alice", "AKIAALICE00000000001"),
            session,
            credential_issued="",
        ),
        assume_role(
            "by-bob",
            iam_user_actor("bob", "AKIABOB0000000000001"),
            session,
            credential_issued="",
            at=minutes(1),
        ),
    ]
    use = get_object("use", minutes(20), session_actor(session, attrs={"session_created": ""}), PII)
    result = run([*calls, use])["use"]
    assert result.status == "ambiguous"
    assert sorted(c.name.rsplit("/", 1)[1] for c in result.candidates) == ["alice", "bob"]
    assert evidence(result) == [("assume-role", "inferred", "")]


def test_it_ignores_a_same_named_session_that_handed_out_another_key() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    session = Session(
        "Analyst", "alice", "ASIAMINE000000000001", "AROAINFER00000000001", minutes(0)
    )
    other = assume_role("other", alice, session, credential_issued="ASIAOTHER00000000001")
    use = get_object("use", minutes(5), session_actor(session), PII)
    result = run([other, use])["use"]
    assert (result.status, result.reason) == ("unattributed", "missing_issuer")


def test_it_flags_an_issuing_call_that_does_not_fit_the_key_use() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    issued = Session("Analyst", "alice", "ASIACONF000000000001", "AROACONF000000000001", minutes(0))
    claimed = Session(
        "Analyst", "mallory", "ASIACONF000000000001", "AROACONF000000000001", minutes(0)
    )
    events = [
        assume_role("assume", alice, issued),
        get_object("use", minutes(3), session_actor(claimed), PII),
    ]
    result = run(events)["use"]
    assert (result.status, result.reason) == ("unattributed", "conflicting_evidence")
    assert "mallory" in result.explanation


def test_it_flags_a_session_created_long_before_its_issuing_call() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    session = Session(
        "Analyst", "alice", "ASIACONF000000000001", "AROACONF000000000001", minutes(0)
    )
    issue = assume_role("assume", alice, session, at=minutes(45))
    use = get_object("use", minutes(50), session_actor(session), PII)
    assert run([issue, use])["use"].reason == "conflicting_evidence"


def test_it_refuses_to_pick_between_two_calls_that_issued_one_key() -> None:
    session = Session(
        "Analyst", "alice", "ASIATWICE00000000001", "AROATWICE00000000001", minutes(0)
    )
    events = [
        assume_role("one", iam_user_actor("alice", "AKIAALICE00000000001"), session),
        assume_role("two", iam_user_actor("bob", "AKIABOB0000000000001"), session),
        get_object("use", minutes(2), session_actor(session), PII),
    ]
    result = run(events)["use"]
    assert (result.status, result.reason) == ("unattributed", "conflicting_evidence")


def test_it_treats_both_accounts_copies_of_a_cross_account_call_as_one() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    target = Session(
        "Auditor",
        "alice",
        "ASIAXACCT00000000001",
        "AROAXACCT00000000001",
        minutes(0),
        account=OTHER_ACCOUNT,
    )
    shared = "7e2e3b2a-4a0f-4f63-9bd5-0d3c7d4c1a11"
    caller_copy = assume_role("caller-copy", alice, target, attrs={"shared_event_id": shared})
    other_side = {
        "actor_principal": "AIDAALICEXXXXXXXXXXX",
        "actor_kind": "unknown",
        "actor_account": ACCOUNT,
        "attrs": {"identity_type": "AWSAccount", "principal_id": "AIDAALICEXXXXXXXXXXX"},
    }
    resource_copy = assume_role(
        "resource-copy",
        other_side,
        target,
        attrs={"shared_event_id": shared, "recipient_account_id": OTHER_ACCOUNT},
    )
    use = get_object("use", minutes(1), session_actor(target), PII)
    results = run([caller_copy, resource_copy, use])
    assert results["use"].status == "attributed"
    assert evidence(results["use"]) == [("assume-role", "exact", "caller-copy")]
    assert results["resource-copy"].status == "attributed"
    only_resource_side = run([resource_copy, use])
    assert only_resource_side["resource-copy"].reason == "missing_issuer"
    assert only_resource_side["use"].reason == "missing_issuer"
    assert only_resource_side["use"].waiting_on == (shared,)


def test_it_attributes_instance_profile_credentials_to_the_instance() -> None:
    instance = "i-0abcd1234ef567890"
    session = Session(
        "web-server", instance, "ASIAEC2000000000001", "AROAEC20000000000001", minutes(0)
    )
    ec2 = {
        "actor_principal": "ec2.amazonaws.com",
        "actor_kind": "service",
        "attrs": {"identity_type": "AWSService", "invoked_by": "ec2.amazonaws.com"},
    }
    issue = assume_role("deliver", ec2, session)
    use = get_object(
        "use", minutes(2), session_actor(session, attrs={"ec2_role_delivery": "2.0"}), PII
    )
    result = run([issue, use])["use"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"aws_workload:{session.arn}"}
    assert evidence(result) == [("instance-profile", "exact", "deliver")]
    alone = run([use])["use"]
    assert alone.status == "attributed"
    assert evidence(alone) == [("instance-profile", "asserted", "use")]
    guess = run([get_object("guess", minutes(2), session_actor(session), PII)])["guess"]
    assert guess.status == "ambiguous"


def test_eks_pod_identity_credentials_belong_to_the_pods_service_account() -> None:
    # The session name carries a fresh id per credential: the service account the session
    # tags name is the workload, one identity with its own Kubernetes audit events.
    account = "system:serviceaccount:shop:checkout"
    session = Session(
        "checkout-pod-role",
        "eks-prod-euw1-checkout-7-2b8e6c1a-5d4f-4e3a-9b2c-1a0f9e8d7c6b",
        "ASIAQPODIDENTITY0001",
        "AROAQPODIDENTITY0001",
        minutes(0),
    )
    eks = {
        "actor_principal": "pods.eks.amazonaws.com",
        "actor_kind": "service",
        "attrs": {"identity_type": "AWSService", "invoked_by": "pods.eks.amazonaws.com"},
    }
    issue = assume_role(
        "deliver",
        eks,
        session,
        attrs={"pod_service_account": account, "eks_cluster_name": "prod-euw1"},
    )
    result = run([issue, get_object("use", minutes(2), session_actor(session), PII)])["use"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"k8s_service_account:{account}"}
    assert evidence(result) == [("token-exchange", "exact", "deliver")]


def test_it_attributes_lambda_credentials_to_the_function_the_record_names() -> None:
    function = "arn:aws:lambda:eu-west-1:111122223333:function:export-customers"
    session = Session(
        "export-role",
        "export-customers",
        "ASIALAMBDA0000000001",
        "AROALAMBDA0000000001",
        minutes(0),
    )
    use = get_object(
        "use",
        minutes(1),
        session_actor(session, attrs={"in_scope_of_issued_to": function}),
        PII,
    )
    result = run([use])["use"]
    assert result.status == "attributed"
    assert aliases(result) == {f"aws_workload:{function}"}


def test_it_takes_identity_center_session_names_only_under_the_reserved_path() -> None:
    reserved = Session(
        "AWSReservedSSO_DataAnalyst_0123456789abcdef",
        "dana@example.com",
        "ASIASSO0000000000001",
        "AROASSO0000000000001",
        minutes(0),
        path="/aws-reserved/sso.amazonaws.com/eu-west-1/",
    )
    result = run([get_object("portal", minutes(3), session_actor(reserved), PII)])["portal"]
    assert result.status == "attributed"
    assert aliases(result) == {"email:dana@example.com"}
    assert evidence(result) == [("sso", "asserted", "portal")]
    lookalike = Session(
        reserved.role, reserved.name, reserved.key, reserved.role_id, reserved.created
    )
    fake = run([get_object("fake", minutes(3), session_actor(lookalike), PII)])["fake"]
    assert (fake.status, fake.reason) == ("unattributed", "missing_issuer")


def test_it_keeps_the_caller_as_origin_when_a_service_acts_for_it() -> None:
    events, _, admin = _alice_admin_chain()
    query = cloudtrail(
        "athena",
        minutes(8),
        "s3:GetObject",
        session_actor(admin, attrs={"invoked_by": "athena.amazonaws.com"}),
        category=DATA_ACCESS,
        resource=PII,
    )
    result = run([*events, query])["athena"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.name == "alice@example.com"
    assert evidence(result)[-1] == ("service", "asserted", "athena")
    assert result.hops[-1].principal == "athena.amazonaws.com"


def test_it_reports_anonymous_requests() -> None:
    anonymous = {
        "actor_principal": "anonymous",
        "actor_kind": "anonymous",
        "attrs": {"identity_type": "AWSAccount"},
    }
    result = run([get_object("anon", minutes(1), anonymous, PII)])["anon"]
    assert (result.status, result.reason) == ("unattributed", "anonymous")


def test_it_treats_a_failed_console_sign_in_as_proving_no_one() -> None:
    login = cloudtrail(
        "login",
        minutes(1),
        "signin:ConsoleLogin",
        iam_user_actor("alice", ""),
        category="authentication",
        outcome="failure",
    )
    result = run([login])["login"]
    assert (result.status, result.reason) == ("unattributed", "unknown_principal")


def test_it_follows_a_long_role_juggling_chain_without_exhausting_the_stack() -> None:
    alice = iam_user_actor("alice", "AKIAALICE00000000001")
    events = []
    previous = alice
    for n in range(1500):
        session = Session(
            "Juggle", f"s{n}", f"ASIAJUGGLE{n:010d}", f"AROAJUGGLE{n:010d}", minutes(n)
        )
        events.append(assume_role(f"hop{n}", previous, session))
        previous = session_actor(session)
    events.append(get_object("last", minutes(1500), previous, PII))
    result = run(events)["last"]
    assert result.status == "attributed"
    assert len(result.hops) == 1500


def test_it_breaks_a_credential_loop_the_same_way_from_every_entry() -> None:
    one = Session("A", "one", "ASIALOOP000000000001", "AROALOOP000000000001", minutes(0))
    two = Session("B", "two", "ASIALOOP000000000002", "AROALOOP000000000002", minutes(0))
    events = [assume_role("x", session_actor(two), one), assume_role("y", session_actor(one), two)]
    index = MemoryIndex(events)
    for first in (events, list(reversed(events))):
        results = {
            a.event_key: a
            for a in [attribute(e, index, Directory(), now=LATER, grace=GRACE) for e in first]
        }
        assert {r.reason for r in results.values()} == {"conflicting_evidence"}


def test_it_stops_waiting_once_the_grace_period_is_over() -> None:
    events, _, session = _missing_issuer_case()
    index = MemoryIndex(events)
    just_before = attribute(
        events[0], index, Directory(), now=minutes(10) + GRACE - timedelta(seconds=1), grace=GRACE
    )
    just_after = attribute(events[0], index, Directory(), now=minutes(10) + GRACE, grace=GRACE)
    assert (just_before.status, just_after.status) == ("pending", "unattributed")
    assert just_before.waiting_on == just_after.waiting_on == (session.key,)


def test_it_attributes_a_service_role_without_session_to_the_service() -> None:
    role = {
        "actor_principal": f"arn:aws:iam::{ACCOUNT}:role/datasync-transfer",
        "actor_kind": "role_session",
        "attrs": {
            "identity_type": "Role",
            "principal_id": "AROAQDATASYNCROLE001",
            "invoked_by": "datasync.amazonaws.com",
        },
    }
    result = run([get_object("sync", minutes(1), role, PII)])["sync"]
    assert result.status == "attributed"
    assert aliases(result) == {"aws_service:datasync.amazonaws.com"}
    assert evidence(result) == [("assume-role", "asserted", "sync")]


def test_it_does_not_take_an_assumed_root_session_for_the_root_user() -> None:
    member_root = {
        "actor_principal": f"arn:aws:iam::{OTHER_ACCOUNT}:root",
        "actor_kind": "root",
        "actor_account": OTHER_ACCOUNT,
        "credential_used": "ASIAROOT000000000001",
        "attrs": {"identity_type": "Root", "assumed_root": "true"},
    }
    result = run([cloudtrail("cleanup", minutes(1), "iam:DeleteLoginProfile", member_root)])
    assert result["cleanup"].reason == "missing_issuer"
    console = {**member_root, "attrs": {"identity_type": "Root"}}
    result = run([cloudtrail("console", minutes(1), "iam:ListUsers", console)])
    assert aliases(result["console"]) == {f"aws_root:arn:aws:iam::{OTHER_ACCOUNT}:root"}


def test_it_names_the_instance_as_candidate_when_an_ec2_delivery_is_only_inferred() -> None:
    instance = "i-0abcd1234ef567890"
    session = Session(
        "web-server", instance, "ASIAEC2000000000001", "AROAEC20000000000001", minutes(0)
    )
    ec2 = {
        "actor_principal": "ec2.amazonaws.com",
        "actor_kind": "service",
        "attrs": {"identity_type": "AWSService", "invoked_by": "ec2.amazonaws.com"},
    }
    issue = assume_role("deliver", ec2, session, credential_issued="")
    use = get_object("use", minutes(2), session_actor(session), PII)
    result = run([issue, use])["use"]
    assert result.status == "ambiguous"
    assert [str(a) for c in result.candidates for a in c.aliases] == [f"aws_workload:{session.arn}"]
    assert evidence(result) == [("instance-profile", "inferred", "deliver")]
