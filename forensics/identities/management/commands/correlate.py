"""python manage.py correlate [--all] [--share I/N]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.core.progress import TerminalProgress
from forensics.identities import services
from forensics.ingest.models import mark_correlated, uncorrelated_batch_ids


def share_arg(text: str) -> tuple[int, int]:
    """'I/N' with 0 <= I < N."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError as exc:
        raise CommandError(f"--share must look like 0/2, not {text!r}") from exc
    if not 0 <= i < n:
        raise CommandError(f"--share {text}: need 0 <= I < N")
    return i, n


class Command(BaseCommand):
    help = "Correlate events synchronously (default: those never correlated; --all: every event)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="re-correlate every event")
        parser.add_argument(
            "--share",
            help="I/N: only the I-th of N shares of the chains, so N processes (one per share, "
            "I from 0) correlate the store in parallel without waiting on each other",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        share = share_arg(opts["share"]) if opts["share"] else None
        progress = TerminalProgress(self.stderr, label="correlating")
        summary = services.correlate_all(
            only_uncorrelated=not opts["all"], progress=progress, share=share
        )
        progress.close()
        if share:
            # Each share correlated part of every batch: the batches all of whose events
            # now have a result are found, whichever share finished them.
            mark_correlated(uncorrelated_batch_ids())
        self.stdout.write(summary.line())
