"""`manage.py bench` end to end on a tiny estate: every figure the issue names is measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from forensics.core.bench import KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_measures_every_figure(tmp_path):
    # The embedded default (SQLite in a scratch file), so the run stays short wherever the
    # suite runs; the PostgreSQL path shares all but the COPY baseline.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FORENSICS_VAR_DIR"] = str(tmp_path)
    out = tmp_path / "bench.json"
    arguments = ["--events", "1500", "--rss-mb", "2", "--samples", "3", "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    # SQLite has no COPY; a 2 MB file stands in for the 1 GB one.
    expected_null = {"copy_eps", "peak_rss_mb_1gb"}
    missing = [k for k in KEYS if k not in expected_null and not isinstance(result[k], int | float)]
    assert missing == [], missing
    assert result["peak_rss_mb_2mb"] > 0
    assert result["score"]["match_rate"] == 1.0 and result["score"]["false_attributions"] == 0
    assert "evidence pack 10k events (s)" in proc.stdout


def test_parallel_workers_that_fail_are_reported_whether_before_or_after_the_start(
    tmp_path, monkeypatch
):
    import pytest

    from forensics.core import bench

    monkeypatch.setenv("FORENSICS_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)  # a scratch SQLite file, as above
    monkeypatch.delenv("REDIS_URL", raising=False)
    # Refused by its options: it never says it is ready.
    with pytest.raises(RuntimeError, match="failed to start"):
        bench.run_workers([["--no-such-option"]], "ingest")
    # Ready, then its share cannot be read.
    with pytest.raises(RuntimeError, match="worker failed"):
        bench.run_workers([["--ingest-share", str(tmp_path / "missing.txt")]], "ingest")


def test_a_parallel_worker_does_no_work_without_the_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FORENSICS_VAR_DIR"] = str(tmp_path)
    share = tmp_path / "share.txt"
    share.write_text("")
    proc = subprocess.run(
        [sys.executable, "manage.py", "bench", "--ingest-share", str(share)],
        cwd=ROOT,
        env=env,
        input="",  # stdin ends without the word
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert proc.stdout == "ready\n"
    assert "did not give the start" in proc.stderr
