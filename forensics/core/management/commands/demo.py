"""python manage.py demo [--events N] [--seed S]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from forensics.core import demo
from forensics.ingest.models import Event


class Command(BaseCommand):
    help = "Load the demo estate (generated logs, ingested and correlated) and demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=4000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--force", action="store_true", help="load even if events exist")

    def handle(self, *args: Any, **opts: Any) -> None:
        if Event.objects.exists() and not opts["force"]:
            demo.ensure_users()
            self.stdout.write("events already loaded; demo users ready (use --force to reload)")
            return
        demo.load(opts["events"], opts["seed"], self.stdout.write)
        self.stdout.write(f"demo loaded: {Event.objects.count()} events")
