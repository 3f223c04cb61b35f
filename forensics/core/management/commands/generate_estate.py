"""python manage.py generate_estate --out DIR [--events N] [--seed S]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.core.progress import TerminalProgress
from forensics.estate.generator import generate, log_files


class Command(BaseCommand):
    help = (
        "Write a synthetic organisation's logs in the producers' real formats, with its "
        "directory.csv and the expected attribution of every access (expected.jsonl)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="a new or empty folder")
        parser.add_argument("--events", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **opts: Any) -> None:
        progress = TerminalProgress(self.stderr, label="generating")
        try:
            summary = generate(
                opts["out"], events=opts["events"], seed=opts["seed"], progress=progress
            )
        except FileExistsError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        finally:
            progress.close()
        by_source = ", ".join(f"{k} {v}" for k, v in sorted(summary.events_by_source.items()))
        self.stdout.write(
            f"{summary.out_dir}: {summary.events} events in {len(log_files(summary.out_dir))} "
            "log files "
            f"({summary.late_files} delivered late): {by_source}"
        )
        self.stdout.write(
            f"expected: attributed {summary.expected_attributed}, "
            f"ambiguous {summary.expected_ambiguous}, unattributed {summary.expected_unattributed}"
        )
