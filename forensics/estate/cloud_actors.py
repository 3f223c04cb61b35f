"""Google Cloud and Kubernetes actors: impersonation chains, keys, pods and cluster users."""

from __future__ import annotations

from datetime import datetime, timedelta

from forensics.estate.activity import Context, human, person_verdict, workload
from forensics.estate.aws_actors import AwsActors
from forensics.estate.emission import unattributed
from forensics.estate.k8s import (
    CLIENT_GO_UA,
    KUBECTL_UA,
    eks_user,
    oidc_user,
    pod_user,
    secret_reader_reason,
)
from forensics.estate.org import EKS_CLUSTER, ONPREM_CLUSTER, GcpWorkload, Person, Pod

TOKEN_LIFETIME = timedelta(hours=1)


class CloudActors:
    """GCP principals and Kubernetes users, with the short-lived tokens they hold."""

    def __init__(self, ctx: Context, aws: AwsActors) -> None:
        self.ctx = ctx
        self.org = ctx.org
        self.aws = aws
        self.gcp_tokens: dict[tuple[str, str], datetime] = {}
        self.pod_tokens: dict[str, tuple[str, datetime]] = {}

    # --- Google Cloud ------------------------------------------------------------------

    def _impersonate(
        self, caller: str, target: str, delegation: list[str], p: Person, t: datetime
    ) -> datetime:
        """Mint a token for ``target`` unless ``caller`` still holds one."""
        issued = self.gcp_tokens.get((caller, target))
        if issued is not None and issued <= t < issued + TOKEN_LIFETIME - timedelta(minutes=2):
            return t
        ctx = self.ctx
        t = ctx.jitter(ctx.later(t, 1, 3))
        rec = ctx.gcp.generate_access_token(
            t=t,
            target=self.org.gcp_accounts[target],
            principal=caller,
            caller_ip=p.ip,
            ua=ctx.gcp.gcloud_ua(),
            delegation=delegation,
        )
        ctx.gcp_entry(t, rec, person_verdict(p))
        self.gcp_tokens[(caller, target)] = t
        return t

    def gcp_grant(self, admin: Person, member: Person, t: datetime) -> datetime:
        """An admin granting a person the right to impersonate the ETL runner."""
        ctx = self.ctx
        t = ctx.jitter(t)
        rec = ctx.gcp.grant_token_creator(
            t=t,
            target=self.org.gcp_accounts["etl-runner"],
            admin=admin.email,
            member=member.email,
            caller_ip=admin.ip,
        )
        ctx.gcp_entry(t, rec, person_verdict(admin))
        return t

    def gcp_chain_reads(self, p: Person, t: datetime, count: int = 0) -> datetime:
        """user -> etl-runner -> pii-reader, then reads that name the whole delegation chain."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        runner = self.org.gcp_accounts["etl-runner"].email
        reader = self.org.gcp_accounts["pii-reader"].email
        t = self._impersonate(p.email, "etl-runner", [], p, t)
        t = self._impersonate(runner, "pii-reader", [p.email], p, t)
        for _ in range(count or rng.randint(1, 3)):
            t = ctx.jitter(ctx.later(t, 1, 12))
            bucket = self.org.gcs_buckets[
                rng.choice(("customer-pii-eu-exports", "patient-records-archive"))
            ]
            rec = ctx.gcp.storage_get(
                t=t,
                bucket=bucket,
                obj=rng.choice(bucket.objects),
                principal=reader,
                caller_ip=p.ip,
                ua=ctx.gcp.gcloud_ua(),
                delegation=[p.email, runner],
            )
            ctx.gcp_entry(t, rec, person_verdict(p))
        return t

    def gcp_direct_reads(self, p: Person, t: datetime, count: int = 0) -> datetime:
        ctx, rng = self.ctx, self.ctx.ids.rng
        for n in range(count or rng.randint(1, 3)):
            t = ctx.jitter(ctx.later(t, 0 if n == 0 else 1, 10))
            bucket = self.org.gcs_buckets[
                rng.choice(("customer-pii-eu-exports", "hr-payroll-snapshots"))
            ]
            method = "storage.objects.list" if rng.random() < 0.2 else "storage.objects.get"
            rec = ctx.gcp.storage_get(
                t=t,
                bucket=bucket,
                obj=rng.choice(bucket.objects),
                principal=p.email,
                caller_ip=p.ip,
                ua=ctx.gcp.gcloud_ua(),
                method=method,
            )
            ctx.gcp_entry(t, rec, person_verdict(p))
        return t

    def gcp_workload_reads(self, w: GcpWorkload, t: datetime, count: int = 0) -> datetime:
        """A service account acting as itself: a workload, or a shared downloaded key."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        if w.shared_key:
            verdict = unattributed("long_lived_shared_key")
            key_name = ctx.gcp.key_name(w.sa)
            # The key file lives on several laptops: the address changes with whoever holds it.
            ip = rng.choice((w.ip, "198.51.100.31", "198.51.100.43", "2001:db8:a1::5"))
        else:
            verdict = workload("gcp_service_account", w.sa.email)
            key_name = ""
            ip = w.ip
        for n in range(count or rng.randint(1, 3)):
            t = ctx.jitter(ctx.later(t, 0 if n == 0 else 1, 10))
            bucket = self.org.gcs_buckets[rng.choice(w.buckets)]
            rec = ctx.gcp.storage_get(
                t=t,
                bucket=bucket,
                obj=rng.choice(bucket.objects),
                principal=w.sa.email,
                caller_ip=ip,
                ua=w.user_agent,
                key_name=key_name,
            )
            ctx.gcp_entry(t, rec, verdict)
        return t

    # --- Kubernetes --------------------------------------------------------------------

    def _jti(self, pod: Pod, t: datetime) -> str:
        # Projected service-account tokens are rotated by the kubelet about every hour.
        known = self.pod_tokens.get(pod.name)
        if known is None or t >= known[1] + TOKEN_LIFETIME:
            known = (self.ctx.ids.uuid(), t)
            self.pod_tokens[pod.name] = known
        return known[0]

    def pod_secret_reads(self, pod: Pod, t: datetime, count: int = 0) -> datetime:
        ctx, rng = self.ctx, self.ctx.ids.rng
        verdict = workload("k8s_service_account", pod.username)
        ua = CLIENT_GO_UA.format(app=pod.service_account)
        for n in range(count or rng.randint(1, 2)):
            t = ctx.jitter(ctx.later(t, 0 if n == 0 else 1, 30))
            stages = (
                ("RequestReceived", "ResponseComplete")
                if rng.random() < 0.25
                else ("ResponseComplete",)
            )
            events = ctx.k8s.request(
                t=t,
                user=pod_user(pod, self._jti(pod, t)),
                verb="get",
                resource="secrets",
                namespace=pod.namespace,
                name=rng.choice(pod.secrets),
                source_ip=pod.ip,
                ua=ua,
                reason=secret_reader_reason(pod),
                stages=stages,
            )
            ctx.k8s_events(t, pod.cluster, events, verdict)
        return t

    def eks_human(self, p: Person, t: datetime, impersonate: Pod | None = None) -> datetime:
        """A person on the EKS cluster through an IAM role session (optionally impersonating)."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        session, t = self.aws.eks_session(p, t)
        t = ctx.jitter(ctx.later(t, 2, 20))
        group = "eks-admins" if p.admin else "eks-viewers"
        if impersonate is not None:
            events = ctx.k8s.request(
                t=t,
                user=eks_user(session, group),
                impersonated={
                    "username": impersonate.username,
                    "groups": [
                        "system:serviceaccounts",
                        f"system:serviceaccounts:{impersonate.namespace}",
                        "system:authenticated",
                    ],
                },
                verb="get",
                resource="secrets",
                namespace=impersonate.namespace,
                name=impersonate.secrets[0],
                source_ip=p.ip,
                ua=KUBECTL_UA,
                reason=secret_reader_reason(impersonate),
                stages=("RequestReceived", "ResponseComplete"),
            )
        else:
            pod = next(x for x in self.org.pods if x.cluster == EKS_CLUSTER and x.irsa_role is None)
            resource, name = ("secrets", rng.choice(pod.secrets)) if p.admin else ("pods", "")
            events = ctx.k8s.request(
                t=t,
                user=eks_user(session, group),
                verb="get" if name else "list",
                resource=resource,
                namespace=pod.namespace,
                name=name,
                source_ip=p.ip,
                ua=KUBECTL_UA,
                reason=f'RBAC: allowed by ClusterRoleBinding "{group}" of ClusterRole '
                f'"{"cluster-admin" if p.admin else "view"}" to Group "{group}"',
            )
        ctx.k8s_events(t, EKS_CLUSTER, events, person_verdict(p))
        return t

    def onprem_human(self, p: Person, t: datetime) -> datetime:
        ctx, rng = self.ctx, self.ctx.ids.rng
        pod = rng.choice([x for x in self.org.pods if x.cluster == ONPREM_CLUSTER])
        t = ctx.jitter(t)
        events = ctx.k8s.request(
            t=t,
            user=oidc_user(
                p.k8s_username, ["oidc:platform-admins" if p.admin else "oidc:developers"]
            ),
            verb="get",
            resource="secrets",
            namespace=pod.namespace,
            name=rng.choice(pod.secrets),
            source_ip=p.ip,
            ua=KUBECTL_UA,
            reason='RBAC: allowed by ClusterRoleBinding "platform-admins" of ClusterRole '
            '"cluster-admin" to Group "oidc:platform-admins"',
        )
        ctx.k8s_events(t, ONPREM_CLUSTER, events, human("k8s_user", p.k8s_username))
        return t
