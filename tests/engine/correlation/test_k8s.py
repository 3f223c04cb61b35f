"""Kubernetes: impersonation, service accounts, anonymous requests and the EKS bridge."""

from __future__ import annotations

from typing import Any

from forensics.engine.model import CREDENTIAL_ISSUE, DATA_ACCESS
from tests.engine.correlation.builders import (
    Session,
    aliases,
    assume_role,
    evidence,
    iam_user_actor,
    minutes,
    normalized,
    run,
)

SECRET = "k8s://payments/secrets/card-vault"


def _audit(key: str, user: str, **attrs: Any) -> Any:
    kind = "service_account" if user.startswith("system:serviceaccount:") else "user"
    if user == "system:anonymous":
        kind = "anonymous"
    credential = attrs.pop("credential_used", "")
    return normalized(
        "k8s_audit",
        key,
        minutes(3),
        category=DATA_ACCESS,
        action="get secrets",
        actor_principal=user,
        actor_kind=kind,
        credential_used=credential,
        resource=SECRET,
        resource_type="secrets",
        attrs={"verb": "get", "audit_stage": "ResponseComplete", "response_code": "200", **attrs},
    )


def test_it_attributes_kubectl_impersonation_to_the_impersonator() -> None:
    event = _audit(
        "get", "jane@example.com", impersonated_user="system:serviceaccount:payments:deployer"
    )
    result = run([event])["get"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "human"
    assert aliases(result) == {"k8s_user:jane@example.com", "email:jane@example.com"}
    assert [h.principal for h in result.hops] == ["system:serviceaccount:payments:deployer"]
    assert evidence(result) == [("impersonation", "asserted", "get")]


def test_it_attributes_a_pod_service_account_to_the_workload_and_names_the_pod() -> None:
    account = "system:serviceaccount:payments:card-sync"
    event = _audit(
        "get",
        account,
        pod_name="card-sync-7d9f8b6c5-x2x7q",
        credential_used="JTI=4f2a0e7c-0c1e-4a55-9d63-2d6f0a1b9c01",
    )
    result = run([event])["get"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {f"k8s_service_account:{account}"}
    assert "card-sync-7d9f8b6c5-x2x7q" in result.explanation


def _minted(by: str, kind: str, account: str, jti: str) -> Any:
    return normalized(
        "k8s_audit",
        "mint",
        minutes(1),
        category=CREDENTIAL_ISSUE,
        action="create serviceaccounts/token",
        actor_principal=by,
        actor_kind=kind,
        credential_issued=jti,
        issued_principal=account,
        issue_method="token-exchange",
    )


def test_it_follows_a_service_account_token_a_person_requested() -> None:
    account = "system:serviceaccount:payments:card-sync"
    jti = "JTI=4f2a0e7c-0c1e-4a55-9d63-2d6f0a1b9c01"
    request = _minted("jane@example.com", "user", account, jti)
    result = run([request, _audit("get", account, credential_used=jti)])["get"]
    assert result.status == "attributed"
    assert aliases(result) == {"k8s_user:jane@example.com", "email:jane@example.com"}
    assert evidence(result) == [("token-exchange", "exact", "mint")]


def test_a_token_another_workload_minted_for_an_account_is_that_workloads_act() -> None:
    # A service account allowed to create tokens for another (a known escalation) acts as
    # that account with the token: the act is the minting account's.
    account = "system:serviceaccount:kube-system:replicaset-controller"
    minter = "system:serviceaccount:production:build-runner"
    jti = "JTI=3f0f2a8e-9b1c-4d2e-8f3a-5b6c7d8ebbbb"
    mint = _minted(minter, "service_account", account, jti)
    result = run([mint, _audit("get", account, credential_used=jti)])["get"]
    assert result.status == "attributed"
    assert aliases(result) == {f"k8s_service_account:{minter}"}
    assert [h.principal for h in result.hops] == [account]
    assert evidence(result) == [("token-exchange", "exact", "mint")]


def test_a_token_the_kubelet_or_the_account_itself_minted_is_the_accounts() -> None:
    account = "system:serviceaccount:payments:card-sync"
    jti = "JTI=4f2a0e7c-0c1e-4a55-9d63-2d6f0a1b9c01"
    for by, kind in (("system:node:ip-10-0-1-23", "service"), (account, "service_account")):
        result = run([_minted(by, kind, account, jti), _audit("get", account, credential_used=jti)])
        assert aliases(result["get"]) == {f"k8s_service_account:{account}"}
        assert result["get"].hops == ()


def test_an_eks_control_plane_component_is_a_workload_not_an_iam_chain() -> None:
    # eks:addon-manager acts under a role AWS runs for the cluster: no customer trail holds
    # its issuer, and it would wait for one forever.
    event = _eks_event(_eks_session(), eks_access_key_id="ASIAEKS0000000000001")
    event.event.actor_principal = "eks:addon-manager"
    event.event.actor_kind = "service"
    result = run([event])["get"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
    assert aliases(result) == {"k8s_user:eks:addon-manager"}


def test_a_tools_admin_certificate_names_no_one_person() -> None:
    # kubeadm writes kubernetes-admin's certificate to admin.conf, copied to whoever
    # administers the cluster; k3s and OpenShift call theirs system:admin.
    for user in ("kubernetes-admin", "minikube-user", "system:admin"):
        result = run([_audit("get", user)])["get"]
        assert (result.status, result.reason) == ("unattributed", "shared_account"), user
        assert result.origin is None
    acting_as = _audit("get", "kubernetes-admin", impersonated_user="agent-smith")
    assert run([acting_as])["get"].reason == "shared_account"
    # A person's own name is still that person.
    assert run([_audit("get", "jane@example.com")])["get"].status == "attributed"


def test_it_reports_anonymous_kubernetes_requests() -> None:
    result = run([_audit("get", "system:anonymous")])["get"]
    assert (result.status, result.reason) == ("unattributed", "anonymous")


def _eks_session() -> Session:
    return Session(
        "eks-admins", "alice", "ASIAEKS0000000000001", "AROAEKS0000000000001", minutes(0)
    )


def _eks_event(session: Session, **extra: Any) -> Any:
    attrs = {
        "eks_arn": session.arn,
        "eks_canonical_arn": session.role_arn,
        "eks_session_name": session.name,
        "eks_principal_id": session.principal_id,
        **extra,
    }
    return _audit("get", "kubernetes-admin", **attrs)


def test_it_bridges_an_eks_user_to_the_iam_key_exactly() -> None:
    session = _eks_session()
    issue = assume_role("assume", iam_user_actor("alice", "AKIAALICE00000000001"), session)
    event = _eks_event(session, eks_access_key_id=session.key)
    result = run([issue, event])["get"]
    assert result.status == "attributed"
    assert aliases(result) == {"aws_iam_user:arn:aws:iam::111122223333:user/alice"}
    assert evidence(result) == [
        ("assume-role", "exact", "assume"),
        ("token-exchange", "asserted", "get"),
    ]
    assert [h.principal for h in result.hops] == [session.arn, "kubernetes-admin"]


def test_it_waits_for_the_iam_key_behind_an_eks_user() -> None:
    session = _eks_session()
    result = run([_eks_event(session, eks_access_key_id=session.key)])["get"]
    assert (result.status, result.reason) == ("unattributed", "missing_issuer")
    assert result.waiting_on == (session.key,)


def test_it_only_infers_the_iam_session_behind_an_eks_user_without_a_key() -> None:
    session = _eks_session()
    issue = assume_role("assume", iam_user_actor("alice", "AKIAALICE00000000001"), session)
    result = run([issue, _eks_event(session)])["get"]
    assert result.status == "ambiguous"
    assert [h.evidence for h in result.hops] == ["inferred", "asserted"]


def test_a_managed_control_planes_own_account_is_a_workload() -> None:
    event = normalized(
        "k8s_audit",
        "update",
        minutes(1),
        category="other",
        action="update configmaps",
        actor_principal="aksService",
        actor_kind="service",
        resource="kube-system/configmaps/aks-config",
    )
    result = run([event])["update"]
    assert result.status == "attributed"
    assert result.origin is not None and result.origin.kind == "workload"
