"""Everyday activity around the story, generated one small unit at a time.

Each unit is one actor doing one thing (a few reads, a CI job, a sign-in) through the same
mechanisms as the story, issuing fresh credentials only when its old ones have run out. Nothing
is kept but the actors' live sessions, so the volume can grow without the memory growing.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime
from itertools import accumulate

from forensics.estate.cast import Cast
from forensics.estate.emission import Emission
from forensics.estate.ids import Ids, stream
from forensics.estate.org import Org

BACKGROUND = "background"


class Background:
    """Draws weighted units of activity; each call returns the records of one unit."""

    def __init__(self, org: Org, seed: int) -> None:
        self.cast = Cast(org, Ids(stream(seed, BACKGROUND)), BACKGROUND)
        self.rng = self.cast.ctx.ids.rng
        aws, cloud, idp, rng = self.cast.aws, self.cast.cloud, self.cast.idp, self.rng
        people = org.people
        saml = [p for p in people if p.aws == "saml"]
        idc = [p for p in people if p.aws == "idc"]
        keyed = [p for p in people if p.iam_user is not None]
        bot_users = [p for p in people if p.deploy_bot]
        chain = [p for p in people if p.gcp == "chain"]
        direct = [p for p in people if p.gcp == "direct"]
        eks = [p for p in people if p.k8s == "eks"]
        onprem = [p for p in people if p.k8s == "onprem"]
        azure = [p for p in people if p.hr_app or p.admin]
        hr = [p for p in people if p.hr_app]
        irsa = [pod for pod in org.pods if pod.irsa_role is not None]
        gcp_apps = [w for w in org.gcp_workloads if not w.shared_key]
        gcp_keys = [w for w in org.gcp_workloads if w.shared_key]

        units: list[tuple[float, Callable[[datetime], object]]] = [
            (24.0, lambda t: aws.saml_reads(rng.choice(saml), t)),
            (8.0, lambda t: aws.idc_reads(rng.choice(idc), t)),
            (3.0, lambda t: aws.ci_run(rng.choice(org.ci_jobs), t)),
            (6.0, lambda t: aws.irsa_reads(rng.choice(irsa), t)),
            (6.0, lambda t: aws.ec2_reads(rng.choice(org.instances), t)),
            (4.0, lambda t: aws.key_reads(rng.choice(keyed), t)),
            (1.5, lambda t: aws.contractor_work(t)),
            (2.0, lambda t: aws.deploy_bot(rng.choice(bot_users), t)),
            (0.5, lambda t: aws.legacy_sync(t)),
            (0.15, lambda t: aws.anonymous_read(t)),
            (5.0, lambda t: cloud.gcp_chain_reads(rng.choice(chain), t)),
            (3.0, lambda t: cloud.gcp_direct_reads(rng.choice(direct), t)),
            (3.0, lambda t: cloud.gcp_workload_reads(rng.choice(gcp_apps), t)),
            (1.5, lambda t: cloud.gcp_workload_reads(rng.choice(gcp_keys), t)),
            (8.0, lambda t: cloud.pod_secret_reads(rng.choice(org.pods), t)),
            (3.0, lambda t: cloud.eks_human(rng.choice(eks), t)),
            (2.0, lambda t: cloud.onprem_human(rng.choice(onprem), t)),
            (3.0, lambda t: idp.okta_app(rng.choice(people), t)),
            (0.3, lambda t: idp.okta_unknown_login(t)),
            (3.0, lambda t: idp.azure_user(rng.choice(azure), t)),
            (1.5, lambda t: idp.azure_app(rng.choice(org.entra_apps), t)),
            (1.5, lambda t: idp.azure_managed(rng.choice(org.managed_identities), t)),
            (5.0, lambda t: idp.hr_reads(rng.choice(hr), t)),
        ]
        self._cumulative = list(accumulate(w for w, _ in units))
        self._units = [fn for _, fn in units]

    def unit(self, t: datetime) -> list[Emission]:
        """The records of one unit of activity starting at ``t`` (none earlier than ``t``)."""
        pick = self.rng.random() * self._cumulative[-1]
        self._units[bisect.bisect_right(self._cumulative, pick)](t)
        return self.cast.ctx.take()
