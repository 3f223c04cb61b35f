"""python manage.py trace EVENT [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.identities.trace import find_event, trace_json


class Command(BaseCommand):
    help = "Show who really did an event: the chain from its origin, with evidence per hop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event", help="our event id or the producer's event id")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        event = find_event(opts["event"])
        if event is None:
            raise CommandError(f"no event '{opts['event']}'", returncode=2)
        data = trace_json(event)
        if opts["json"]:
            self.stdout.write(json.dumps(data, sort_keys=False))
            return
        w = self.stdout.write
        w(f"event   {data['event']}  {event.action} at {event.event_time:%Y-%m-%d %H:%M:%S}Z")
        w(f"actor   {event.actor_principal or '-'}")
        w(f"status  {data['status']}" + (f" ({data['reason']})" if data["reason"] else ""))
        origin = data["origin"]
        if origin:
            w(f"origin  {origin['name']} [{origin['kind']}] " + ", ".join(origin["aliases"]))
        else:
            w("origin  none")
        for n, hop in enumerate(data["hops"], 1):
            cred = f" with {hop['credential']}" if hop["credential"] else ""
            via = f" (event {hop['via_event']})" if hop["via_event"] else ""
            w(f"  {n}. {hop['method']:<16} → {hop['principal']}{cred}  [{hop['evidence']}]{via}")
        if event.explanation:
            w(f"why     {event.explanation}")
