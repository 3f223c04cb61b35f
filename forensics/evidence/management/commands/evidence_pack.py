"""python manage.py evidence_pack --user NAME (--case N | --event ID | --identity N | --query QS)
[--out FILE]"""

from __future__ import annotations

import shutil
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from forensics.cases.services import visible_cases
from forensics.core.roles import AUDITOR, INVESTIGATOR, has_role
from forensics.evidence import services
from forensics.evidence.models import EvidencePack
from forensics.identities.trace import find_event


class Command(BaseCommand):
    help = "Build a signed evidence pack now (without the exports queue) and print its hashes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="who asks for the pack (is recorded)")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--case", type=int, help="a case id")
        scope.add_argument("--event", help="trace of one event: our id or the producer's id")
        scope.add_argument("--identity", type=int, help="an identity's timeline")
        scope.add_argument("--query", help="explorer filters as a query string, e.g. 'pd=true'")
        parser.add_argument(
            "--filters", default="", help="with --identity: filters of the timeline"
        )
        parser.add_argument("--out", help="also copy the pack here")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None or not has_role(user, INVESTIGATOR, AUDITOR):
            raise CommandError(f"no investigator or auditor named {opts['user']!r}", returncode=2)
        kind, scope = self._scope(user, opts)
        try:
            pack = services.request_pack(user, kind, scope, queue=False)
        except services.ScopeError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        services.claim(pack.pk)
        pack = services.build(pack.pk)
        if pack.status != EvidencePack.READY:
            raise CommandError(f"pack {pack.pk} failed: {pack.error}", returncode=1)
        path = services.pack_path(pack)
        if opts["out"]:
            shutil.copyfile(path, opts["out"])
            path = opts["out"]
        self.stdout.write(f"pack {pack.pk} ({pack.pack_id}): {pack.events} events")
        self.stdout.write(f"file   {path}")
        self.stdout.write(f"bytes  {pack.size}")
        self.stdout.write(f"sha256 {pack.sha256}")
        self.stdout.write(f"signer {pack.key_fingerprint}")

    def _scope(self, user: Any, opts: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if opts["case"] is not None:
            if not visible_cases(user).filter(pk=opts["case"]).exists():
                raise CommandError(f"no case {opts['case']} that {user} may read", returncode=2)
            return EvidencePack.CASE, {"case": opts["case"]}
        if opts["event"] is not None:
            event = find_event(opts["event"])
            if event is None:
                raise CommandError(f"no event {opts['event']!r}", returncode=2)
            return EvidencePack.TRACE, {"event": event.pk}
        if opts["identity"] is not None:
            filters = services.filters_from(QueryDict(opts["filters"]))
            return EvidencePack.TIMELINE, {"identity": opts["identity"], "filters": filters}
        return EvidencePack.QUERY, {"filters": services.filters_from(QueryDict(opts["query"]))}
