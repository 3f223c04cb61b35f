"""How each kind of AWS principal gets credentials and uses them.

Each actor keeps its live sessions and only issues new credentials when the old ones are about
to expire, the way SDKs and the console do; every use signs with the key its issuing call
returned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forensics.estate.activity import Context, human, person_verdict, workload
from forensics.estate.cloudtrail import (
    ANONYMOUS_IDENTITY,
    ATTACKER_UA,
    BOTO_UA,
    CLI_UA,
    CONSOLE_UA,
    GHA_UA,
    S3_CONSOLE_UA,
    RoleSession,
    iam_user_identity,
    role_session_identity,
)
from forensics.estate.emission import Verdict, unattributed
from forensics.estate.org import (
    ACCOUNT_DATA,
    ACCOUNT_IDENTITY,
    ACCOUNT_WORKLOADS,
    ANONYMOUS_IP,
    ATTACKER_IP,
    EKS_ISSUER,
    GITHUB_ISSUER,
    HOME_REGION,
    LATE_REGION,
    CiJob,
    IamUser,
    Instance,
    Person,
    Pod,
)

# What each data role (or permission set) is for: the S3 buckets and DynamoDB tables it reads.
ROLE_STORES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PayrollAnalyst": (("hr-payroll",), ()),
    "CustomerDataReader": (("customer-pii", "customer-pii-eu"), ("customer-profiles",)),
    "ClinicalDataReader": (("patient-records",), ("patient-index",)),
    "DataScientist": (("customer-pii", "patient-records"), ("customer-profiles",)),
    "ReadOnlyAccess": ((), ()),
    "OpsDataAccess": (("hr-payroll",), ()),
}
IDC_SDK_UA = (
    "aws-sdk-java/2.46.14 md/io#sync md/http#Apache md/internal ua/2.1 api/STS#2.46.x "
    "os/Linux#5.10.225-213.878.amzn2.x86_64 lang/java#17.0.12 m/E,N"
)


class AwsActors:
    """Credential state and behaviour of every AWS-side actor."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.org = ctx.org
        self.sessions: dict[tuple[str, str], RoleSession] = {}
        self.portal_tokens: dict[tuple[str, str], str] = {}

    # --- shared steps ------------------------------------------------------------------

    def _live(self, key: tuple[str, str], t: datetime) -> RoleSession | None:
        s = self.sessions.get(key)
        return s if s is not None and s.usable(t) else None

    def _reads(
        self,
        t: datetime,
        identity: dict[str, Any],
        role_name: str,
        ip: str,
        ua: str,
        verdict: Verdict,
        count: int,
        only: str = "",
    ) -> datetime:
        """``count`` reads of what the role is for (or of bucket ``only``); the last one's time."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        buckets, tables = ((only,), ()) if only else ROLE_STORES[role_name]
        for _ in range(count):
            t = ctx.later(t, 1, 20)
            pick = rng.random()
            if buckets and (pick < 0.75 or not tables):
                bucket = self.org.buckets[rng.choice(buckets)]
                if rng.random() < 0.15:
                    rec = ctx.ct.s3_list(
                        t=t,
                        identity=identity,
                        bucket=bucket,
                        prefix=bucket.keys[0].split("/")[0] + "/",
                        ip=ip,
                        ua=ua,
                    )
                else:
                    rec = ctx.ct.s3_object(
                        t=t,
                        identity=identity,
                        bucket=bucket,
                        key=rng.choice(bucket.keys),
                        ip=ip,
                        ua=ua,
                        size=rng.randrange(2_000, 9_000_000),
                    )
            elif tables:
                table = self.org.tables[rng.choice(tables)]
                rec = ctx.ct.dynamodb_get_item(t=t, identity=identity, table=table, ip=ip, ua=ua)
            else:
                rec = ctx.ct.describe_instances(
                    t=t,
                    identity=identity,
                    region=HOME_REGION,
                    ip=ip,
                    ua=ua,
                    account=identity["accountId"],
                )
            ctx.cloudtrail(rec, verdict)
        return t

    # --- Okta SAML people --------------------------------------------------------------

    def landing(self, p: Person, t: datetime) -> tuple[RoleSession, datetime]:
        """The OktaLanding session of a person, signing in through Okta when needed."""
        live = self._live((p.key, "OktaLanding"), t)
        if live is not None:
            return live, t
        ctx = self.ctx
        _, t = ctx.okta_sso(p, "AWS Account Federation", t)
        t = ctx.later(t, 1, 3)
        session = ctx.ct.new_session(
            self.org.role("OktaLanding"),
            p.email,
            t,
            3600,
            source_identity=p.email if p.source_identity else "",
        )
        rec = ctx.ct.assume_role_with_saml(
            t=t,
            session=session,
            provider_arn=self.org.saml_provider_arn,
            issuer=self.org.okta_saml_issuer,
            subject=p.email,
            ip=p.ip,
            ua=p.user_agent,
        )
        ctx.cloudtrail(rec, person_verdict(p))
        self.sessions[(p.key, "OktaLanding")] = session
        return session, t

    def hop(self, p: Person, role_name: str, t: datetime) -> tuple[RoleSession, datetime]:
        """A role session reached from the landing role (a cross-account AssumeRole)."""
        live = self._live((p.key, role_name), t)
        if live is not None:
            return live, t
        landing, t = self.landing(p, t)
        ctx = self.ctx
        t = ctx.later(t, 2, 8)
        session = ctx.ct.new_session(
            self.org.role(role_name), p.email, t, 3600, source_identity=landing.source_identity
        )
        records = ctx.ct.assume_role(
            t=t,
            caller=role_session_identity(landing),
            session=session,
            ip=p.ip,
            ua=CLI_UA,
            # People in the EU office use their regional STS endpoint, whose trail arrives late.
            sts_region=LATE_REGION if p.eu else "global",
        )
        ctx.cloudtrail_all(records, person_verdict(p))
        self.sessions[(p.key, role_name)] = session
        return session, t

    def saml_reads(self, p: Person, t: datetime, count: int = 0, only: str = "") -> datetime:
        session, t = self.hop(p, p.data_role, t)
        count = count or self.ctx.ids.rng.randint(1, 3)
        ua = self.ctx.ids.rng.choice((CLI_UA, S3_CONSOLE_UA, CLI_UA))
        identity = role_session_identity(session)
        return self._reads(t, identity, p.data_role, p.ip, ua, person_verdict(p), count, only)

    # --- IAM Identity Center -------------------------------------------------------------

    def idc_session(self, p: Person, t: datetime) -> tuple[RoleSession, datetime]:
        live = self._live((p.key, p.data_role), t)
        if live is not None:
            return live, t
        ctx, org = self.ctx, self.org
        verdict = human("idc_user", p.idc_user_id)
        t = ctx.later(t, 0, 2)
        role = org.role(p.data_role)
        rec = ctx.ct.get_role_credentials(
            t=t,
            account=ACCOUNT_IDENTITY,
            user_id=p.idc_user_id,
            store_arn=org.idc_store_arn,
            credential_id=self._idc_credential(p, t),
            role_name=role.name.split("_")[1],
            target_account=role.account,
            ip=p.ip,
            ua=CLI_UA,
        )
        ctx.cloudtrail(rec, verdict)
        t = ctx.later(t, 0, 1)
        session = ctx.ct.new_session(role, p.email, t, 3600)
        saml = ctx.ct.assume_role_with_saml(
            t=t,
            session=session,
            provider_arn=f"arn:aws:iam::{role.account}:saml-provider/{org.idc_saml_provider}",
            issuer=org.idc_portal_issuer,
            subject=p.email,
            ip="AWS Internal",
            ua=IDC_SDK_UA,
            sts_region=HOME_REGION,
        )
        ctx.cloudtrail(saml, verdict)
        self.sessions[(p.key, p.data_role)] = session
        return session, t

    def _idc_credential(self, p: Person, t: datetime) -> str:
        # One portal token per person and day: the bearer token behind GetRoleCredentials.
        key = (p.key, t.date().isoformat())
        if key not in self.portal_tokens:
            self.portal_tokens[key] = "AAAAAG" + self.ctx.ids.alnum(80)
        return self.portal_tokens[key]

    def idc_reads(self, p: Person, t: datetime, count: int = 0) -> datetime:
        session, t = self.idc_session(p, t)
        count = count or self.ctx.ids.rng.randint(1, 3)
        verdict = human("idc_user", p.idc_user_id)
        return self._reads(
            t, role_session_identity(session), p.data_role, p.ip, CLI_UA, verdict, count
        )

    # --- workloads -----------------------------------------------------------------------

    def ci_run(self, job: CiJob, t: datetime) -> datetime:
        """One GitHub Actions job: fresh web-identity credentials, a secret, then its work."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        verdict = workload("web_identity", job.alias)
        ip = f"192.0.2.{rng.randrange(64, 100)}"
        session = ctx.ct.new_session(
            job.role, "GitHubActions", t, 3600, web_provider=job.provider_arn
        )
        ctx.cloudtrail(
            ctx.ct.assume_role_with_web_identity(
                t=t,
                session=session,
                provider_arn=job.provider_arn,
                issuer=GITHUB_ISSUER,
                audience="sts.amazonaws.com",
                subject=job.subject,
                ip=ip,
                ua=GHA_UA,
            ),
            verdict,
        )
        identity = role_session_identity(session)
        t = ctx.later(t, 1, 3)
        ctx.cloudtrail(
            ctx.ct.get_caller_identity(t=t, identity=identity, ip=ip, ua=GHA_UA), verdict
        )
        t = ctx.later(t, 5, 40)
        ctx.cloudtrail(
            ctx.ct.get_secret_value(
                t=t, identity=identity, secret_arn=job.secret, ip=ip, ua=BOTO_UA
            ),
            verdict,
        )
        for name in job.buckets:
            bucket = self.org.buckets[name]
            for key in rng.sample(bucket.keys, k=min(2, len(bucket.keys))):
                t = ctx.later(t, 2, 30)
                op = "PutObject" if not bucket.personal else "GetObject"
                rec = ctx.ct.s3_object(
                    t=t,
                    identity=identity,
                    bucket=bucket,
                    key=key,
                    ip=ip,
                    ua=BOTO_UA,
                    op=op,
                    size=rng.randrange(10_000, 50_000_000),
                )
                ctx.cloudtrail(rec, verdict)
        return t

    def irsa_reads(self, pod: Pod, t: datetime, count: int = 0) -> datetime:
        """An EKS pod reading S3 through IAM Roles for Service Accounts."""
        assert pod.irsa_role is not None
        ctx, rng = self.ctx, self.ctx.ids.rng
        verdict = workload("k8s_service_account", pod.username)
        session = self._live((pod.name, "irsa"), t)
        if session is None:
            provider = f"arn:aws:iam::{pod.irsa_role.account}:oidc-provider/{EKS_ISSUER}"
            name = f"botocore-session-{int(t.timestamp())}"
            session = ctx.ct.new_session(pod.irsa_role, name, t, 3600, web_provider=provider)
            rec = ctx.ct.assume_role_with_web_identity(
                t=t,
                session=session,
                provider_arn=provider,
                issuer=EKS_ISSUER,
                audience="sts.amazonaws.com",
                subject=pod.username,
                ip="198.51.100.210",
                ua=BOTO_UA,
            )
            ctx.cloudtrail(rec, verdict)
            self.sessions[(pod.name, "irsa")] = session
        count = count or rng.randint(1, 3)
        return self._object_reads(
            t, session, pod.buckets, "198.51.100.210", verdict, count, gap=10, largest=400_000
        )

    def ec2_reads(self, inst: Instance, t: datetime, count: int = 0) -> datetime:
        """A batch instance reading with its instance-profile credentials."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        verdict = workload("aws_workload", inst.arn)
        session = self._live((inst.name, "profile"), t)
        if session is None:
            session = ctx.ct.new_session(
                inst.role, inst.instance_id, t, 6 * 3600, ec2=True, issued_to=inst.arn
            )
            # The AssumeRole call itself is made by the EC2 service (the instance never calls
            # STS); the instance is the origin of what its delivered key is then used for.
            ctx.cloudtrail(
                ctx.ct.assume_role_by_service(t=t, service="ec2.amazonaws.com", session=session),
                workload("aws_service", "ec2.amazonaws.com"),
            )
            self.sessions[(inst.name, "profile")] = session
        count = count or rng.randint(1, 4)
        return self._object_reads(
            t, session, inst.buckets, inst.ip, verdict, count, gap=15, largest=4_000_000
        )

    def _object_reads(
        self,
        t: datetime,
        session: RoleSession,
        buckets: tuple[str, ...],
        ip: str,
        verdict: Verdict,
        count: int,
        *,
        gap: int,
        largest: int,
    ) -> datetime:
        """A workload's ``count`` SDK object reads from its buckets; the last one's time."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        identity = role_session_identity(session)
        for _ in range(count):
            t = ctx.later(t, 1, gap)
            bucket = self.org.buckets[rng.choice(buckets)]
            rec = ctx.ct.s3_object(
                t=t,
                identity=identity,
                bucket=bucket,
                key=rng.choice(bucket.keys),
                ip=ip,
                ua=BOTO_UA,
                size=rng.randrange(1000, largest),
            )
            ctx.cloudtrail(rec, verdict)
        return t

    # --- long-lived keys -----------------------------------------------------------------

    def key_reads(self, p: Person, t: datetime, count: int = 0) -> datetime:
        """A person using their own IAM user access key."""
        assert p.iam_user is not None
        verdict = human("aws_iam_user", p.iam_user.arn)
        role = "PayrollAnalyst" if p.data_role == "PayrollAnalyst" else "CustomerDataReader"
        count = count or self.ctx.ids.rng.randint(1, 3)
        return self._reads(t, iam_user_identity(p.iam_user), role, p.ip, CLI_UA, verdict, count)

    def contractor_work(self, t: datetime) -> datetime:
        """The contractor's usual day: his key, the VendorSupport role, build artifacts."""
        p = self.org.contractor
        assert p.iam_user is not None
        ctx, rng = self.ctx, self.ctx.ids.rng
        verdict = human("aws_iam_user", p.iam_user.arn)
        session = self._live((p.key, "VendorSupport"), t)
        if session is None:
            session = ctx.ct.new_session(self.org.role("VendorSupport"), "rsilva", t, 3600)
            records = ctx.ct.assume_role(
                t=t, caller=iam_user_identity(p.iam_user), session=session, ip=p.ip, ua=CLI_UA
            )
            ctx.cloudtrail_all(records, verdict)
            self.sessions[(p.key, "VendorSupport")] = session
        identity = role_session_identity(session)
        t = ctx.later(t, 2, 20)
        ctx.cloudtrail(
            ctx.ct.describe_instances(
                t=t,
                identity=identity,
                region=HOME_REGION,
                ip=p.ip,
                ua=CLI_UA,
                account=ACCOUNT_WORKLOADS,
            ),
            verdict,
        )
        bucket = self.org.buckets["build-artifacts-example"]
        t = ctx.later(t, 2, 20)
        rec = ctx.ct.s3_object(
            t=t,
            identity=identity,
            bucket=bucket,
            key=rng.choice(bucket.keys),
            ip=p.ip,
            ua=CLI_UA,
            size=48_213_004,
        )
        ctx.cloudtrail(rec, verdict)
        return t

    def leaked_key_chain(self, t: datetime) -> datetime:
        """The incident: the contractor's key from an unknown address, two hops, payroll reads."""
        p = self.org.contractor
        assert p.iam_user is not None
        ctx = self.ctx
        verdict = human("aws_iam_user", p.iam_user.arn)
        caller = iam_user_identity(p.iam_user)
        ctx.cloudtrail(
            ctx.ct.get_caller_identity(t=t, identity=caller, ip=ATTACKER_IP, ua=ATTACKER_UA),
            verdict,
        )
        t = ctx.later(t, 20, 50)
        first = ctx.ct.new_session(self.org.role("VendorSupport"), "support-check", t, 3600)
        ctx.cloudtrail_all(
            ctx.ct.assume_role(t=t, caller=caller, session=first, ip=ATTACKER_IP, ua=ATTACKER_UA),
            verdict,
        )
        t = ctx.later(t, 30, 90)
        ctx.cloudtrail(
            ctx.ct.describe_instances(
                t=t,
                identity=role_session_identity(first),
                region=HOME_REGION,
                ip=ATTACKER_IP,
                ua=ATTACKER_UA,
                account=ACCOUNT_WORKLOADS,
            ),
            verdict,
        )
        t = ctx.later(t, 40, 120)
        second = ctx.ct.new_session(self.org.role("OpsDataAccess"), "ops", t, 3600)
        ctx.cloudtrail_all(
            ctx.ct.assume_role(
                t=t,
                caller=role_session_identity(first),
                session=second,
                ip=ATTACKER_IP,
                ua=ATTACKER_UA,
            ),
            verdict,
        )
        identity = role_session_identity(second)
        bucket = self.org.buckets["hr-payroll"]
        t = ctx.later(t, 10, 30)
        ctx.cloudtrail(
            ctx.ct.s3_list(
                t=t, identity=identity, bucket=bucket, prefix="", ip=ATTACKER_IP, ua=ATTACKER_UA
            ),
            verdict,
        )
        for key in bucket.keys:
            t = ctx.later(t, 2, 9)
            rec = ctx.ct.s3_object(
                t=t,
                identity=identity,
                bucket=bucket,
                key=key,
                ip=ATTACKER_IP,
                ua=ATTACKER_UA,
                size=self.ctx.ids.rng.randrange(40_000, 90_000_000),
            )
            ctx.cloudtrail(rec, verdict)
        return t

    def deploy_bot(self, p: Person, t: datetime) -> datetime:
        """Someone using the shared deploy-bot key; the log cannot say who."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        bot = self.org.deploy_bot
        # The chain does reach an identity, but the directory marks it shared: no one person.
        verdict = unattributed("shared_account")
        identity = iam_user_identity(bot)
        artifacts = self.org.buckets["build-artifacts-example"]
        rec = ctx.ct.s3_object(
            t=t,
            identity=identity,
            bucket=artifacts,
            key=rng.choice(artifacts.keys),
            ip=p.ip,
            ua=CLI_UA,
            op="PutObject",
            size=48_213_004,
        )
        ctx.cloudtrail(rec, verdict)
        if rng.random() < 0.5:
            t = ctx.later(t, 3, 30)
            pii = self.org.buckets["customer-pii"]
            rec = ctx.ct.s3_object(
                t=t,
                identity=identity,
                bucket=pii,
                key=pii.keys[0],
                ip=p.ip,
                ua=CLI_UA,
                size=rng.randrange(1_000_000, 9_000_000),
            )
            ctx.cloudtrail(rec, verdict)
        return t

    def legacy_sync(self, t: datetime) -> datetime:
        """A forgotten IAM user nobody has claimed, signing with its own long-lived key.

        An IAM user is an origin in its own right, so the access is attributed to it even though
        the directory does not list it; the engine proposes unknown IAM users as humans.
        """
        ctx, rng = self.ctx, self.ctx.ids.rng
        user: IamUser = self.org.legacy_sync
        bucket = self.org.buckets["customer-pii"]
        rec = ctx.ct.s3_object(
            t=t,
            identity=iam_user_identity(user),
            bucket=bucket,
            key=rng.choice(bucket.keys),
            ip="192.0.2.99",
            ua="Boto3/1.9.253 Python/2.7.18 Linux/4.14.186-146.268.amzn2.x86_64 Botocore/1.12.253",
            size=rng.randrange(1000, 200_000),
        )
        ctx.cloudtrail(rec, human("aws_iam_user", user.arn))
        return t

    def anonymous_read(self, t: datetime) -> datetime:
        """A public-read object fetched without any credentials."""
        ctx = self.ctx
        bucket = self.org.buckets["customer-pii-share"]
        rec = ctx.ct.s3_object(
            t=t,
            identity=dict(ANONYMOUS_IDENTITY),
            bucket=bucket,
            key=bucket.keys[0],
            ip=ANONYMOUS_IP,
            ua="curl/8.5.0",
            size=31_457_280,
        )
        ctx.cloudtrail(rec, unattributed("anonymous"))
        return t

    def orphan_session_reads(self, t: datetime) -> datetime:
        """A role session issued through sts.ap-southeast-2, a Region no trail covers."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        session = ctx.ct.new_session(
            self.org.role("PartnerIntegration"),
            f"botocore-session-{int(t.timestamp()) - 1200}",
            t - timedelta(minutes=20),
            3600,
        )
        identity = role_session_identity(session)
        bucket = self.org.buckets["customer-pii"]
        for key in bucket.keys[:3]:
            t = ctx.later(t, 2, 12)
            rec = ctx.ct.s3_object(
                t=t,
                identity=identity,
                bucket=bucket,
                key=key,
                ip="198.51.100.240",
                ua=BOTO_UA,
                size=rng.randrange(1000, 900_000),
            )
            ctx.cloudtrail(rec, unattributed("missing_issuer"))
        return t

    def console_failure(self, t: datetime) -> datetime:
        rec = self.ctx.ct.console_login_failure(
            t=t, account=ACCOUNT_DATA, ip="198.51.100.77", ua=CONSOLE_UA
        )
        self.ctx.cloudtrail(rec, unattributed("unknown_principal"))
        return t

    # --- EKS access through IAM ----------------------------------------------------------

    def eks_session(self, p: Person, t: datetime) -> tuple[RoleSession, datetime]:
        return self.hop(p, "EKSClusterAdmin" if p.admin else "EKSClusterViewer", t)
