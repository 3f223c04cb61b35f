"""Score stored attributions against a generated estate's expected.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from forensics.identities.models import IdentityAlias
from forensics.ingest.models import STATUS_PENDING, Event

CHUNK = 2000


@dataclass
class Score:
    expected: int = 0  # lines in expected.jsonl
    missing: int = 0  # expected events not in the store
    attributable: int = 0  # expected attributed
    matched: int = 0  # attributed to the expected origin
    false_attributions: int = 0  # attributed, but to another origin or when none is right
    status_agreement: int = 0  # same status as expected (any status)
    disagreements: Counter[str] = field(default_factory=Counter)

    @property
    def match_rate(self) -> float:
        return self.matched / self.attributable if self.attributable else 1.0

    def line(self) -> str:
        return (
            f"attributable accesses matched {self.matched}/{self.attributable} "
            f"({self.match_rate:.2%}), false attributions {self.false_attributions}, "
            f"status agreement {self.status_agreement}/{self.expected - self.missing}, "
            f"missing {self.missing}"
        )


def score_estate(expected_file: Path) -> Score:
    """Compare every expected line with the stored event's attribution."""
    score = Score()
    with open(expected_file, encoding="utf-8") as fh:
        batch: list[dict] = []
        for line in fh:
            if line.strip():
                batch.append(json.loads(line))
            if len(batch) >= CHUNK:
                _score_chunk(batch, score)
                batch = []
        _score_chunk(batch, score)
    return score


def _score_chunk(lines: list[dict], score: Score) -> None:
    if not lines:
        return
    # By the producer's own id, not the store's key: that also says what the id is unique
    # within (a GCP entry's project and time).
    keys = {(e["source_kind"], e["source_event_id"]): e for e in lines}
    rows = {
        (kind, event_id): (status or STATUS_PENDING, origin_id)
        for kind, event_id, status, origin_id in Event.objects.filter(
            source_event_id__in=list({event_id for _, event_id in keys})
        ).values_list(
            "source_kind", "source_event_id", "attribution__status", "attribution__origin_id"
        )
        if (kind, event_id) in keys
    }
    origin_ids = {o for _, o in rows.values() if o is not None}
    aliases: dict[int, set[str]] = {}
    for ident, ns, value in IdentityAlias.objects.filter(identity_id__in=origin_ids).values_list(
        "identity_id", "namespace", "value"
    ):
        aliases.setdefault(ident, set()).add(f"{ns}:{value}")
    for key, exp in keys.items():
        score.expected += 1
        if key not in rows:
            score.missing += 1
            continue
        status, origin_id = rows[key]
        want = exp["status"]
        if status == want:
            score.status_agreement += 1
        else:
            score.disagreements[f"{exp.get('story', '?')}: expected {want}, got {status}"] += 1
        expected_alias = None
        if exp.get("origin"):
            a = exp["origin"]["alias"]
            expected_alias = f"{a['namespace']}:{a['value']}"
        right_origin = expected_alias is not None and expected_alias in aliases.get(
            origin_id, set()
        )
        if want == "attributed":
            score.attributable += 1
            if status == "attributed" and right_origin:
                score.matched += 1
        if status == "attributed" and not (want == "attributed" and right_origin):
            score.false_attributions += 1
