"""`manage.py generate_estate`: the estate on disk, and a refusal to write into a used folder."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forensics.estate.generator import DIRECTORY_FILE, EXPECTED_FILE, log_files


def test_it_writes_logs_directory_and_expectations(tmp_path):
    out = StringIO()
    call_command("generate_estate", "--out", str(tmp_path / "e"), "--events", "600", stdout=out)
    files = log_files(tmp_path / "e")
    assert any(p.name.endswith(".json.gz") for p in files)
    assert (tmp_path / "e" / DIRECTORY_FILE).read_text().startswith("identity,kind,")
    lines = (tmp_path / "e" / EXPECTED_FILE).read_text().splitlines()
    assert {json.loads(line)["status"] for line in lines} >= {"attributed", "unattributed"}
    summary = out.getvalue().splitlines()
    assert f"in {len(files)} log files" in summary[0]
    attributed = sum(json.loads(line)["status"] == "attributed" for line in lines)
    assert summary[1].startswith(f"expected: attributed {attributed},")


def test_it_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(CommandError) as info:
        call_command("generate_estate", "--out", str(tmp_path), stdout=StringIO())
    assert info.value.returncode == 2
