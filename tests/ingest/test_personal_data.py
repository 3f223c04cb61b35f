"""Personal-data rules: a glob that starts with "*" is matched at the start, not searched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from forensics.ingest.models import PersonalDataRule
from forensics.ingest.personal_data import Matcher, compile_rule, finder, load_matcher

# Few characters, so that the texts often hold what the globs look for.
ALPHABET = "ab/:*?.x-"
TEXT = st.text(alphabet="ab/:.x-\n", max_size=24)


def glob(pattern: str) -> PersonalDataRule:
    return PersonalDataRule(name="g", pattern_type=PersonalDataRule.GLOB, pattern=pattern)


@given(st.text(alphabet=ALPHABET, max_size=8).map(lambda p: "*" + p), TEXT)
def test_a_glob_that_starts_with_a_star_matches_where_a_search_would(pattern, text):
    rule = glob(pattern)
    assert bool(finder(rule)(text)) == bool(compile_rule(rule).search(text))


@given(st.text(alphabet=ALPHABET, max_size=8).filter(lambda p: not p.startswith("*")), TEXT)
def test_any_other_rule_is_searched_as_before(pattern, text):
    rule = glob(pattern)
    assert bool(finder(rule)(text)) == bool(compile_rule(rule).search(text))


def test_a_glob_rule_for_one_kind_flags_only_that_kind():
    rule = glob("*:table/customer-profiles*")
    rule.source_kind = "cloudtrail"
    matcher = load_matcher([rule])
    resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/customer-profiles-v2"
    assert matcher("cloudtrail", resource)
    assert not matcher("gcp_audit", resource)
    assert not matcher("cloudtrail", "arn:aws:dynamodb:eu-west-1:111122223333:table/orders")


def test_answers_kept_for_repeated_resources_stay_right_and_bounded(monkeypatch):
    monkeypatch.setattr(Matcher, "MEMO_SIZE", 8)
    rule = glob("*:table/customer-profiles*")
    rule.source_kind = "cloudtrail"
    matcher = load_matcher([rule])
    flagged = "arn:aws:dynamodb:eu-west-1:111122223333:table/customer-profiles"
    for n in range(50):
        other = f"arn:aws:dynamodb:eu-west-1:111122223333:table/orders-{n}"
        assert matcher("cloudtrail", flagged)
        assert not matcher("gcp_audit", flagged)  # the same resource, from another kind
        assert not matcher("cloudtrail", other)
        assert len(matcher._memo) <= 8
