"""python manage.py import_identities FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.identities import directory, services


class Command(BaseCommand):
    help = (
        "Import identities and aliases "
        "(CSV or JSON: identity,kind,alias_namespace,alias_value,owner,shared)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--no-recorrelate", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        try:
            rows = directory.read_rows(path)
            created, added, touched = directory.import_rows(rows)
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc.strerror or exc}", returncode=2) from exc
        except (directory.DirectoryError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        self.stdout.write(
            f"{path}: {len(rows)} rows, identities created {created}, aliases added {added}"
        )
        if not opts["no_recorrelate"]:
            self.stdout.write(services.identities_changed(touched).line())
