"""python manage.py bench [--events N] [--db URL] [--json PATH]"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.core import bench

BENCH_DB = "forensics_bench"


class Command(BaseCommand):
    help = "Benchmark ingest, correlation and pages on a generated estate in a scratch database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--db",
            default=os.environ.get("DATABASE_URL", ""),
            help="PostgreSQL server URL (a scratch database is made on it); "
            "default: DATABASE_URL, else a temporary SQLite file",
        )
        parser.add_argument("--json", type=Path, help="also write the figures as one JSON object")
        parser.add_argument(
            "--rss-mb",
            type=int,
            default=1024,
            help="size of the big-file ingest whose peak RSS is measured (0: skip)",
        )
        parser.add_argument("--samples", type=int, default=40, help="requests per page timing")
        parser.add_argument(
            "--engine-only",
            action="store_true",
            help="only the correlation engine, in memory, on a synthetic estate of --events",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="also ingest and correlate with 2..N worker processes (default 2; 1: only one)",
        )
        parser.add_argument("--child", action="store_true", help=ensure_hidden())
        parser.add_argument("--ingest-share", type=Path, help=ensure_hidden())
        parser.add_argument("--correlate-share", help=ensure_hidden())

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["engine_only"]:
            from forensics.engine.correlation.bench import bench_correlation

            eps = bench_correlation(opts["events"], seed=opts["seed"])
            self.stdout.write(
                f"correlation engine (in memory, no database): {opts['events']} events, "
                f"{eps:,.0f} events/s"
            )
            return
        if opts["ingest_share"] or opts["correlate_share"]:
            bench.wait_for_start()
        if opts["ingest_share"]:
            self.stdout.write(str(bench.ingest_share(opts["ingest_share"])))
            return
        if opts["correlate_share"]:
            self.stdout.write(str(bench.correlate_share(opts["correlate_share"])))
            return
        if opts["child"]:
            result = bench.run(
                opts["events"],
                opts["seed"],
                opts["rss_mb"],
                opts["samples"],
                lambda m: self.stderr.write(f"  {m}"),
                max_workers=opts["workers"],
            )
            opts["json"].write_text(json.dumps(result))
            return
        with tempfile.TemporaryDirectory(prefix="forensics-bench-") as tmp:
            env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
            env.update({"FORENSICS_VAR_DIR": tmp, "CORRELATE_AFTER_INGEST": "false"})
            env["DATABASE_URL"] = self._scratch_database(opts["db"]) if opts["db"] else ""
            if not env["DATABASE_URL"]:
                del env["DATABASE_URL"]
            out = Path(tmp) / "result.json"
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
            child = subprocess.run(
                [
                    *manage,
                    "bench",
                    "--child",
                    "--events",
                    str(opts["events"]),
                    "--seed",
                    str(opts["seed"]),
                    "--rss-mb",
                    str(opts["rss_mb"]),
                    "--samples",
                    str(opts["samples"]),
                    "--workers",
                    str(opts["workers"]),
                    "--json",
                    str(out),
                ],
                env=env,
                check=False,
            )
            if child.returncode != 0:
                raise CommandError("the benchmark failed (see above)")
            result = json.loads(out.read_text())
        for line in bench.table(result):
            self.stdout.write(line)
        if opts["json"]:
            opts["json"].write_text(json.dumps(result, indent=2))
            self.stdout.write(f"figures written to {opts['json']}")

    def _scratch_database(self, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme not in {"postgres", "postgresql"}:
            raise CommandError("--db must be a postgres:// URL")
        import psycopg

        admin = urlunparse(parsed._replace(path="/" + (parsed.path.lstrip("/") or "postgres")))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        return urlunparse(parsed._replace(path="/" + BENCH_DB))


def ensure_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
