"""Personal-data rules turned into one matcher, and re-flagging of stored events."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from django.db import transaction

from forensics.ingest.models import Event, PersonalDataRule

Progress = Callable[[int, int, str], None]


# Where a rule's expression is tried on a resource.
Finder = Callable[[str], "re.Match[str] | None"]


@dataclass(frozen=True)
class Matcher:
    """Matches (source kind, resource) against the enabled rules."""

    by_kind: dict[str, list[Finder]]
    any_kind: list[Finder]
    # Logs name the same tables, buckets and endpoints over and over: answers are kept for
    # up to MEMO_SIZE (kind, resource) pairs, then forgotten all at once.
    _memo: dict[tuple[str, str], bool] = field(default_factory=dict, compare=False, repr=False)

    MEMO_SIZE: ClassVar[int] = 1 << 16

    def __call__(self, source_kind: str, resource: str) -> bool:
        if not resource:
            return False
        key = (source_kind, resource)
        found = self._memo.get(key)
        if found is None:
            found = any(find(resource) for find in self.any_kind) or any(
                find(resource) for find in self.by_kind.get(source_kind, ())
            )
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = found
        return found

    @property
    def empty(self) -> bool:
        return not self.any_kind and not self.by_kind


def compile_rule(rule: PersonalDataRule) -> re.Pattern[str]:
    """The regular expression for one rule; glob and contains are anchored accordingly."""
    if rule.pattern_type == PersonalDataRule.REGEX:
        return re.compile(rule.pattern)
    if rule.pattern_type == PersonalDataRule.CONTAINS:
        return re.compile(re.escape(rule.pattern), re.IGNORECASE)
    return re.compile(fnmatch.translate(rule.pattern))


def finder(rule: PersonalDataRule) -> Finder:
    """How a rule's expression is tried: searched anywhere in the resource, except a glob
    that starts with "*", which is matched at the start only. Such a glob matches at some
    position exactly when it matches at the first (its "*" takes any prefix), but searching
    tries every position, each scanning to the end: on a resource of a hundred characters
    that costs twenty times the match."""
    pattern = compile_rule(rule)
    if rule.pattern_type == PersonalDataRule.GLOB and rule.pattern.startswith("*"):
        return pattern.match
    return pattern.search


def load_matcher(rules: Iterable[PersonalDataRule] | None = None) -> Matcher:
    rules = PersonalDataRule.objects.filter(enabled=True) if rules is None else rules
    by_kind: dict[str, list[Finder]] = {}
    any_kind: list[Finder] = []
    for rule in rules:
        find = finder(rule)
        if rule.source_kind:
            by_kind.setdefault(rule.source_kind, []).append(find)
        else:
            any_kind.append(find)
    return Matcher(by_kind, any_kind)


def reflag_events(chunk: int = 5000, progress: Progress | None = None) -> int:
    """Recompute the personal-data flag of every stored event; returns how many changed."""
    matcher = load_matcher()
    total = Event.objects.count()
    changed = 0
    done = 0
    last_id = 0
    while True:
        rows = list(
            Event.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "source_kind", "resource", "personal_data")[:chunk]
        )
        if not rows:
            break
        last_id = rows[-1][0]
        flip_on = [pk for pk, kind, res, flag in rows if not flag and matcher(kind, res)]
        flip_off = [pk for pk, kind, res, flag in rows if flag and not matcher(kind, res)]
        with transaction.atomic():
            if flip_on:
                Event.objects.filter(pk__in=flip_on).update(personal_data=True)
            if flip_off:
                Event.objects.filter(pk__in=flip_off).update(personal_data=False)
        changed += len(flip_on) + len(flip_off)
        done += len(rows)
        if progress:
            progress(done, total, "re-flagging personal data")
    return changed
