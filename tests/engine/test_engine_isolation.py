"""The engine is plain Python: no module under forensics/engine may import Django or Celery."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "forensics" / "engine"
FORBIDDEN = ("django", "celery")


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_modules_import_neither_django_nor_celery():
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 5
    offenders = {
        str(p.relative_to(ENGINE)): sorted(imported_roots(p) & set(FORBIDDEN)) for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_check_would_catch_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from django.db import models\nimport celery.app\n")
    assert imported_roots(bad) >= {"django", "celery"}
