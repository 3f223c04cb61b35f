from __future__ import annotations

import ast
import gzip
import hashlib
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

import forensics.estate
from forensics.estate import Summary, generate
from forensics.estate.roster import build_org
from forensics.estate.story import build_story
from tests.estate.files import event_ids, expected, log_files


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_it_writes_byte_identical_estates_for_the_same_seed(tmp_path: Path) -> None:
    generate(tmp_path / "a", events=1500, seed=11)
    generate(tmp_path / "b", events=1500, seed=11)
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(first) > 50
    assert first == second


def test_it_writes_a_different_estate_for_another_seed(tmp_path: Path) -> None:
    generate(tmp_path / "a", events=1500, seed=11)
    generate(tmp_path / "b", events=1500, seed=12)
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert first["directory.csv"] != second["directory.csv"]
    shared = set(first) & set(second)
    assert sum(first[k] == second[k] for k in shared) == 0


def test_it_respects_the_requested_event_count(tmp_path: Path) -> None:
    summary = generate(tmp_path / "out", events=3000, seed=5)
    written = sum(1 for _ in event_ids(tmp_path / "out"))
    assert written == summary.events == sum(summary.events_by_source.values())
    assert 3000 <= summary.events <= 3000 * 1.01


def test_it_never_writes_less_than_the_whole_story(tmp_path: Path) -> None:
    story = build_story(build_org(5), 5)
    summary = generate(tmp_path / "out", events=10, seed=5)
    assert summary.events == len(story) > 100


def test_it_reports_what_it_wrote(estate: tuple[Path, Summary]) -> None:
    root, summary = estate
    files = [p for p in root.rglob("*") if p.is_file()]
    assert summary.files == len(files)
    assert (
        summary.late_files == len([p for p in files if p.relative_to(root).parts[0] == "late"]) > 0
    )
    assert set(summary.events_by_source) == {
        "cloudtrail",
        "gcp_audit",
        "k8s_audit",
        "okta",
        "entra",
        "azure_activity",
        "ocsf",
    }
    statuses = Counter(e["status"] for e in expected(root))
    assert statuses == Counter(
        {
            "attributed": summary.expected_attributed,
            "ambiguous": summary.expected_ambiguous,
            "unattributed": summary.expected_unattributed,
        }
    )
    assert summary.expected_attributed > summary.expected_unattributed > 0


def test_it_refuses_to_write_into_a_directory_that_holds_files(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(target, events=100)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_it_streams_with_bounded_memory(tmp_path: Path) -> None:
    root = tmp_path / "big"
    seen_on_disk: list[int] = []

    def progress(done: int, total: int, message: str) -> None:
        if 0 < done < total:
            seen_on_disk.append(len([p for p in root.rglob("*.json.gz")]))

    tracemalloc.start()
    try:
        summary = generate(root, events=30_000, seed=9, progress=progress)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Files appear while the run goes on, not in one go at the end.
    assert len(seen_on_disk) >= 4
    assert 0 < seen_on_disk[0] < seen_on_disk[-1] < summary.files
    text_bytes = 0
    for path in log_files(root):
        data = path.read_bytes()
        text_bytes += len(gzip.decompress(data)) if path.suffix == ".gz" else len(data)
    assert text_bytes > 30 * 2**20
    # The whole estate is far larger than anything held at once.
    assert peak < 16 * 2**20 < text_bytes / 2


def test_the_estate_package_imports_neither_django_nor_celery() -> None:
    package = Path(forensics.estate.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"django", "celery"}, f"{path.name} imports {name}"
