"""python manage.py correlate [--all]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from forensics.core.progress import TerminalProgress
from forensics.identities import services


class Command(BaseCommand):
    help = "Correlate events synchronously (default: those never correlated; --all: every event)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="re-correlate every event")

    def handle(self, *args: Any, **opts: Any) -> None:
        progress = TerminalProgress(self.stderr, label="correlating")
        summary = services.correlate_all(only_uncorrelated=not opts["all"], progress=progress)
        progress.close()
        self.stdout.write(summary.line())
