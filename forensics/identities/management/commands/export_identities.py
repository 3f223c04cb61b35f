"""python manage.py export_identities [--format csv|json] [--output FILE]"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from forensics.identities.directory import FIELDS, export_rows


class Command(BaseCommand):
    help = "Export the identity directory, one row per alias, in the import format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", default="-")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows = list(export_rows())
        out = self.stdout if opts["output"] == "-" else open(opts["output"], "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            if opts["format"] == "json":
                out.write(json.dumps(rows, indent=2))
            else:
                writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        finally:
            if out is not self.stdout:
                out.close()
