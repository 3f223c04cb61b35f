"""python manage.py verify_pack PACK [--trust FINGERPRINT ...] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.evidence import services
from forensics.evidence.verify import Unreadable, verify_pack


class Command(BaseCommand):
    help = (
        "Verify an evidence pack; trusts the keys that signed this dashboard's packs unless "
        "--trust names others. The same checks run offline with the verify.py each pack carries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pack")
        parser.add_argument("--trust", action="append", default=[], metavar="FINGERPRINT")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            report = verify_pack(opts["pack"], opts["trust"] or services.signing_keys() or None)
        except (Unreadable, OSError) as exc:
            raise CommandError(f"{opts['pack']}: {exc}", returncode=2) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write("\n".join(report.lines()))
        if not report.ok:
            raise CommandError("the pack failed verification", returncode=1)
