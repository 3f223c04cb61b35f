"""python manage.py ingest PATH [PATH ...] [--format F] [--source NAME]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.core.progress import TerminalProgress
from forensics.engine.parsers import UnknownFormat, get_parser
from forensics.ingest import services
from forensics.ingest.models import Source


class Command(BaseCommand):
    help = "Ingest log files (or every file in a directory) synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--format", default=Source.AUTO, help="force a format (default: auto)")
        parser.add_argument("--source", default="", help="source name (created if missing)")

    def handle(self, *args: Any, **opts: Any) -> None:
        fmt = opts["format"]
        if fmt != Source.AUTO:
            try:
                get_parser(fmt)
            except UnknownFormat as exc:
                raise CommandError(str(exc), returncode=2) from exc
        files: list[Path] = []
        for path in opts["paths"]:
            if path.is_dir():
                files.extend(
                    sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
                )
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or directory", returncode=2)
        failed = False
        by_source: dict[int, tuple[Source, list[Path]]] = {}
        for path in files:
            source = self._source(opts["source"], path, fmt)
            by_source.setdefault(source.pk, (source, []))[1].append(path)
        for source, paths in by_source.values():
            progress = TerminalProgress(self.stderr, label=source.name)
            results = services.ingest_paths(source, paths, requested_format=fmt, progress=progress)
            for path, batch in results:
                progress.close()
                if isinstance(batch, str):
                    self.stderr.write(f"{path}: {batch}")
                    failed = True
                elif batch.status != batch.DONE:
                    self.stderr.write(f"{path}: {batch.error}")
                    failed = True
                else:
                    self.stdout.write(f"{path}: {batch.summary}")
        if failed:
            sys.exit(2)

    def _source(self, name: str, path: Path, fmt: str) -> Source:
        if not name:
            name = "cli" if fmt == Source.AUTO else f"cli-{fmt}"
        source, _ = Source.objects.get_or_create(name=name, defaults={"kind": fmt})
        return source
