"""python manage.py partitions [--detach YYYY-MM]"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from forensics.cases.models import CaseEvent
from forensics.ingest import partitions


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"--detach wants a month as YYYY-MM, not {value!r}") from exc


def _refuse_if_cases_hold(month: date) -> None:
    """Evidence in a case must stay readable: its events' month stays attached."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime.combine(partitions.next_month(month), datetime.min.time(), tzinfo=UTC)
    titles = sorted(
        CaseEvent.objects.filter(event__event_time__gte=start, event__event_time__lt=end)
        .values_list("case__title", flat=True)
        .distinct()
    )
    if titles:
        raise CommandError(
            f"cases hold events of {month:%Y-%m}, so it stays attached: {', '.join(titles)}"
        )


class Command(BaseCommand):
    help = "List the event table's monthly partitions (PostgreSQL), or detach one to archive it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--detach",
            metavar="YYYY-MM",
            help="detach this month's partition; its rows stay in a table of their own",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write(
                "Partitioning is a PostgreSQL feature: this database keeps events in one table."
            )
            return
        if not partitions.is_partitioned(connection):
            raise CommandError("the event table is not partitioned yet: run migrate")
        with connection.cursor() as cursor:
            if opts["detach"]:
                month = _month(opts["detach"])
                try:
                    with transaction.atomic():
                        _refuse_if_cases_hold(month)
                        archived = partitions.detach(cursor, month)
                except partitions.PartitionError as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write(
                    f"Detached {month:%Y-%m} as table {archived}: archive it "
                    f"(pg_dump -t {archived}) and drop it. Its records stay known as stored, "
                    "so a re-sent copy counts as a duplicate."
                )
                return
            rows = partitions.partition_list(cursor)
        width = max(len(name) for name, _, _ in rows)
        self.stdout.write(f"{'partition':<{width}}  {'rows (estimate)':>15}  bounds")
        for name, bounds, count in rows:
            self.stdout.write(f"{name:<{width}}  {count:>15,}  {bounds}")
