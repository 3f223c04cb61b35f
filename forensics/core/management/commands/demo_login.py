"""Print the demo login (created by `manage.py demo`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from forensics.core import demo


class Command(BaseCommand):
    help = "Print the demo user's login."

    def handle(self, *args: Any, **opts: Any) -> None:
        login = demo.ensure_users()
        self.stdout.write(f"user '{login.username}', password '{login.password}'")
