"""The scenarios a newcomer finds in the estate, at fixed times on its first day.

The incident: at 14:21 UTC the contractor's long-lived key is used from 203.0.113.77, an
address it has never come from; it hops VendorSupport -> OpsDataAccess and lists and reads
every object in s3://hr-payroll. Around it, one scenario per attribution path the correlation
engine must walk, and one per way attribution must stop short.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from forensics.estate.cast import Cast
from forensics.estate.emission import Emission
from forensics.estate.ids import Ids, stream
from forensics.estate.org import START, Org

Scene = Callable[[Cast, datetime], object]


def _scenes(org: Org) -> list[tuple[int, str, Scene]]:
    """(minutes after START, scenario name, what happens)."""
    p = org.person
    pods = {pod.name: pod for pod in org.pods}
    legacy = next(w for w in org.gcp_workloads if w.shared_key)
    exporter_job = next(j for j in org.ci_jobs if j.repo == "customer-export")
    return [
        (3, "saml-role-chain", lambda c, t: c.aws.saml_reads(p("alice"), t, count=3)),
        (20, "identity-center-session", lambda c, t: c.aws.idc_reads(p("fatima"), t, count=3)),
        # Bruno's role hop goes through sts.eu-west-1, whose trail is delivered late; his reads
        # land in us-east-1 and wait for it.
        (
            40,
            "late-region-delivery",
            lambda c, t: c.aws.saml_reads(p("bruno"), t, count=3, only="customer-pii"),
        ),
        (65, "ci-web-identity", lambda c, t: c.aws.ci_run(exporter_job, t)),
        (90, "eks-irsa", lambda c, t: c.aws.irsa_reads(pods["recommender-api"], t, count=3)),
        (
            95,
            "k8s-pod-secrets",
            lambda c, t: c.cloud.pod_secret_reads(pods["payments-api"], t, count=2),
        ),
        (120, "ec2-instance-profile", lambda c, t: c.aws.ec2_reads(org.instances[0], t, count=3)),
        (141, "gcp-impersonation-chain", lambda c, t: c.cloud.gcp_grant(p("alice"), p("noah"), t)),
        (
            150,
            "gcp-impersonation-chain",
            lambda c, t: c.cloud.gcp_chain_reads(p("noah"), t, count=3),
        ),
        (180, "gcp-long-lived-key", lambda c, t: c.cloud.gcp_workload_reads(legacy, t, count=3)),
        (210, "shared-deploy-bot", lambda c, t: c.aws.deploy_bot(p("bruno"), t)),
        (217, "shared-deploy-bot", lambda c, t: c.aws.deploy_bot(p("dmitri"), t)),
        (225, "shared-deploy-bot", lambda c, t: c.aws.deploy_bot(p("jonas"), t)),
        (
            240,
            "k8s-impersonation",
            lambda c, t: c.cloud.eks_human(p("jonas"), t, impersonate=pods["payments-api"]),
        ),
        (270, "entra-azure", lambda c, t: c.idp.azure_user(p("olivia"), t, count=2)),
        (275, "entra-azure", lambda c, t: c.idp.azure_app(org.entra_apps[0], t, count=1)),
        (
            280,
            "entra-azure",
            lambda c, t: c.idp.azure_managed(org.managed_identities[0], t, count=1),
        ),
        (300, "hr-app-session", lambda c, t: c.idp.hr_reads(p("sofia"), t, count=2)),
        (320, "hr-app-session-conflict", lambda c, t: c.idp.hr_conflict(p("sofia"), p("pedro"), t)),
        (381, "leaked-contractor-key", lambda c, t: c.aws.leaked_key_chain(t)),
        (420, "missing-issuer", lambda c, t: c.aws.orphan_session_reads(t)),
        (450, "anonymous-read", lambda c, t: c.aws.anonymous_read(t)),
        (452, "anonymous-read", lambda c, t: c.aws.anonymous_read(t)),
        (480, "unclaimed-iam-user", lambda c, t: c.aws.legacy_sync(t)),
        (485, "unknown-principal", lambda c, t: c.aws.console_failure(t)),
        (490, "unknown-principal", lambda c, t: c.idp.okta_unknown_login(t)),
        (510, "personal-access-key", lambda c, t: c.aws.key_reads(p("kavya"), t, count=2)),
        (540, "onprem-k8s-user", lambda c, t: c.cloud.onprem_human(p("hiro"), t)),
    ]


def build_story(org: Org, seed: int) -> list[Emission]:
    """Every record of every scenario, in time order (a few hundred, independent of size)."""
    cast = Cast(org, Ids(stream(seed, "story")), "")
    out: list[Emission] = []
    for minutes, name, scene in _scenes(org):
        cast.ctx.story = name
        scene(cast, START + timedelta(minutes=minutes, seconds=cast.ctx.ids.rng.randrange(60)))
        out.extend(cast.ctx.take())
    out.sort(key=lambda em: em.time)
    return out
