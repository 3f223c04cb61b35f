"""python manage.py evidence_key"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from forensics.evidence import keys


class Command(BaseCommand):
    help = (
        "Print the evidence-signing key's fingerprint and public key (creating the key if it "
        "does not exist yet), for auditors to pin when they verify packs."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"key file     {keys.key_path()}")
        self.stdout.write(f"fingerprint  {keys.fingerprint()}")
        self.stdout.write(keys.public_key_pem().rstrip())
