"""A GCP entry's insertId is unique within its project and timestamp only, and is keyed so."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps

from forensics.ingest.models import Event, EventKey
from tests.conftest import SAMPLES
from tests.ingest.helpers import counts, jsonl_file

pytestmark = pytest.mark.django_db
SINK = SAMPLES / "gcp_audit" / "cloudaudit_sink.jsonl"
rekey = importlib.import_module("forensics.ingest.migrations.0011_gcp_scoped_keys")


def _entry() -> dict:
    return json.loads(SINK.read_text().splitlines()[0])


def _in_project(entry: dict, project: str) -> dict:
    other = json.loads(json.dumps(entry))
    other["logName"] = other["logName"].replace("projects/example-ops/", f"projects/{project}/")
    other["resource"]["labels"]["project_id"] = project
    return other


def test_entries_of_two_projects_sharing_an_insert_id_are_both_kept(source, ingest_files, tmp_path):
    entry = _entry()
    path = jsonl_file(tmp_path, "two.jsonl", entry, _in_project(entry, "example-data"))
    [batch] = ingest_files(source, path)
    assert counts(batch) == (2, 2, 0, 0)
    assert set(Event.objects.values_list("source_event_id", flat=True)) == {entry["insertId"]}
    [again] = ingest_files(source, path)
    assert counts(again) == (2, 0, 2, 0)


def test_one_project_keeps_one_entry_per_insert_id_and_timestamp(source, ingest_files, tmp_path):
    entry = _entry()
    later = json.loads(json.dumps(entry))
    later["timestamp"] = "2024-03-12T10:00:00.000001Z"
    [batch] = ingest_files(source, jsonl_file(tmp_path, "one.jsonl", entry, entry, later))
    assert counts(batch) == (3, 2, 1, 0)


def test_upgrading_a_store_rekeys_its_gcp_events_so_a_re_ingest_finds_them(source, ingest_files):
    [first] = ingest_files(source, SINK)
    assert first.stored > 1
    scoped = set(Event.objects.values_list("dedupe_key", flat=True))
    assert all("@" in key for key in scoped if key.startswith("gcp_audit:"))
    # The store as the previous release left it: keys of the insertId alone.
    rekey.backward(apps, None)
    plain = set(Event.objects.values_list("dedupe_key", flat=True))
    assert plain != scoped and set(EventKey.objects.values_list("dedupe_key", flat=True)) == plain
    rekey.forward(apps, None)
    assert set(Event.objects.values_list("dedupe_key", flat=True)) == scoped
    assert set(EventKey.objects.values_list("dedupe_key", flat=True)) == scoped
    [again] = ingest_files(source, SINK)
    assert (again.stored, again.duplicates) == (0, first.stored)
