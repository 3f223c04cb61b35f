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
        if opts["output"] == "-":
            self._write(self.stdout, rows, opts["format"])
            return
        with open(opts["output"], "w", newline="", encoding="utf-8") as out:
            self._write(out, rows, opts["format"])

    @staticmethod
    def _write(out: Any, rows: list[dict[str, str]], fmt: str) -> None:
        if fmt == "json":
            out.write(json.dumps(rows, indent=2))
            return
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
