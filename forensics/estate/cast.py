"""Every actor family over one shared context: the cast a story or the background plays."""

from __future__ import annotations

from forensics.estate.activity import Context
from forensics.estate.aws_actors import AwsActors
from forensics.estate.cloud_actors import CloudActors
from forensics.estate.idp_actors import IdpActors
from forensics.estate.ids import Ids
from forensics.estate.org import Org


class Cast:
    """AWS, cloud and identity-provider actors writing into one context."""

    def __init__(self, org: Org, ids: Ids, story: str) -> None:
        self.org = org
        self.ctx = Context(org, ids, story)
        self.aws = AwsActors(self.ctx)
        self.cloud = CloudActors(self.ctx, self.aws)
        self.idp = IdpActors(self.ctx)
