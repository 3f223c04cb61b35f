"""python manage.py validate_trail PATH [PATH ...] [--store] [--no-unlisted]
[--public-keys FILE [--signatures FILE]]"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.engine import trail_digest as td
from forensics.engine.model import RecordError
from forensics.ingest import trail

# Shown one line each; valid files and intact links only when asked (-v 2).
_QUIET = {td.VALID, td.CHAIN_OK}


class Command(BaseCommand):
    help = (
        "Check CloudTrail log files against the trail's digest files (a copy of the bucket's "
        "CloudTrail/ and CloudTrail-Digest/ prefixes): modified, missing and unlisted log "
        "files, and breaks in the digest chain; with the trail's public keys, the digests' "
        "signatures too. Exits 0 when nothing failed, 1 when a file was modified or missing, "
        "the chain broken or a signature bad, 2 when a file could not be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="digest and log files or folders")
        parser.add_argument(
            "--store",
            action="store_true",
            help="check the log files as ingested (every batch of that file name) instead of "
            "log files on disk",
        )
        parser.add_argument(
            "--no-unlisted",
            action="store_true",
            help="do not report log files that no digest given lists",
        )
        parser.add_argument(
            "--public-keys",
            type=Path,
            help="the output of `aws cloudtrail list-public-keys` for the digests' period: "
            "check every digest's signature (each digest records its predecessor's)",
        )
        parser.add_argument(
            "--signatures",
            type=Path,
            help="digest signatures from S3 metadata, as a JSON object from each digest's key "
            "to its signature or its `aws s3api head-object` output (the newest digest's is "
            "recorded nowhere else)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        for path in opts["paths"]:
            if not path.exists():
                raise CommandError(f"{path}: no such file or directory", returncode=2)
        keys, given = self._signing(opts["public_keys"], opts["signatures"])
        scanned = trail.scan(opts["paths"])
        for path, reason in scanned.errors:
            self.stderr.write(f"{path}: {reason}")
        if not scanned.digests:
            raise CommandError("no CloudTrail digest file among the paths given", returncode=2)
        if opts["store"]:
            report = trail.check_store(scanned.digests)
        else:
            report = td.check(scanned.digests, scanned.logs, unlisted=not opts["no_unlisted"])
        if keys is not None:
            td.check_signatures(report, [d for d, _ in scanned.digests], keys, given)
        for finding in report.findings:
            if finding.status not in _QUIET or opts["verbosity"] >= 2:
                line = f"{finding.status}: {finding.name}: {finding.detail}"
                (self.stderr if finding.status in td.FAILURES else self.stdout).write(line)
        self.stdout.write(
            self._summary(report, len(scanned.digests), opts["store"], keys is not None)
        )
        if scanned.errors:
            raise CommandError(f"{len(scanned.errors)} file(s) could not be read", returncode=2)
        if report.failed:
            raise CommandError("integrity check failed", returncode=1)

    @staticmethod
    def _signing(
        keys_path: Path | None, signatures_path: Path | None
    ) -> tuple[td.PublicKeys | None, dict[str, str]]:
        try:
            with contextlib.ExitStack() as files:
                keys, signatures = (
                    files.enter_context(open(p, "rb")) if p is not None else None
                    for p in (keys_path, signatures_path)
                )
                return trail.read_signing(keys, signatures)
        except OSError as exc:
            raise CommandError(f"{exc.filename}: {exc.strerror}", returncode=2) from exc
        except RecordError as exc:
            raise CommandError(str(exc), returncode=2) from exc

    @staticmethod
    def _summary(report: td.Report, digests: int, store: bool, signed: bool) -> str:
        where = "as ingested" if store else "on disk"
        signatures = (
            f"digest signatures: {report.count(td.SIGNED)} verified, "
            f"{report.count(td.BAD_SIGNATURE)} bad, {report.count(td.UNSIGNED)} not known, "
            f"{report.count(td.NO_KEY)} without their key."
            if signed
            else "Digest signatures are not checked: give the trail's public keys "
            "(--public-keys) to check them."
        )
        return (
            f"{digests} digest file(s); log files {where}: {report.count(td.VALID)} valid, "
            f"{report.count(td.MODIFIED)} modified, {report.count(td.MISSING)} missing, "
            f"{report.count(td.UNLISTED)} unlisted, {report.count(td.UNCHECKED)} unchecked; "
            f"digest chain: {report.count(td.CHAIN_OK)} links intact, "
            f"{report.count(td.BROKEN)} broken, {report.count(td.CHAIN_START)} start(s); "
            + signatures
        )
