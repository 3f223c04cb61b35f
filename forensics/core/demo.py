"""The demo: a generated estate ingested, correlated and ready to investigate."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db.models import Count

from forensics.identities import directory, services
from forensics.ingest import services as ingest
from forensics.ingest.models import STATUS_PENDING, Event, IngestBatch, PersonalDataRule, Source

Say = Callable[[str], None]

DEMO_RULES = [
    ("HR payroll", "", PersonalDataRule.REGEX, r"^(s3|gs)://hr-payroll(-snapshots)?/"),
    ("Customer PII", "", PersonalDataRule.REGEX, r"^(s3|gs)://customer-pii[a-z-]*/"),
    ("Customer profiles table", "cloudtrail", PersonalDataRule.GLOB, "*:table/customer-profiles*"),
    ("Patient records", "", PersonalDataRule.CONTAINS, "patient-records"),
    ("Patient index table", "cloudtrail", PersonalDataRule.GLOB, "*:table/patient-index*"),
    ("Kubernetes secrets", "k8s_audit", PersonalDataRule.GLOB, "k8s://*/secrets/*"),
    ("HR employee records", "ocsf", PersonalDataRule.GLOB, "employee/*"),
]
DEMO_USERS = [
    ("demo", ("investigator", "auditor", "admin")),
    ("investigator", ("investigator",)),
    ("auditor", ("auditor",)),
    ("admin", ("admin",)),
]


@dataclass(frozen=True)
class Login:
    username: str
    password: str


def credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-login"


def ensure_users() -> Login:
    """Demo users, one per role plus 'demo' with all three; passwords made per checkout."""
    path = credentials_file()
    if path.exists():
        password = path.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        path.write_text(password)
        path.chmod(0o600)
    for username, roles in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
    return Login("demo", password)


def ensure_rules() -> None:
    for name, kind, ptype, pattern in DEMO_RULES:
        PersonalDataRule.objects.get_or_create(
            name=name, defaults={"source_kind": kind, "pattern_type": ptype, "pattern": pattern}
        )


def load(events: int, seed: int, say: Say) -> Login:
    """Generate an estate under var/demo, ingest it (late logs last) and correlate."""
    from forensics.estate.generator import DIRECTORY_FILE, EXPECTED_FILE, generate, log_files

    login = ensure_users()
    ensure_rules()
    out = Path(settings.VAR_DIR) / "demo" / f"estate-{seed}-{events}"
    if not (out / EXPECTED_FILE).exists():
        say(f"generating a demo estate of about {events} events in {out}")
        generate(out, events=events, seed=seed)
    # The admin's directory first, so correlation meets the known identities straight away.
    directory.import_rows(directory.read_rows(out / DIRECTORY_FILE))
    sources: dict[str, Source] = {}
    for path in log_files(out):
        name = f"demo-{path.relative_to(out).parts[0]}"
        if name not in sources:
            sources[name], _ = Source.objects.get_or_create(name=name)
        batch = ingest.ingest_path(sources[name], path)
        if batch.status != IngestBatch.DONE:
            say(f"{path.name}: {batch.error}")
    # Batches were correlated as they arrived; this catches any event left uncorrelated.
    services.correlate_all(only_uncorrelated=True)
    counts = dict(Event.objects.values_list("attribution__status").annotate(n=Count("id")))
    say(
        ", ".join(
            f"{status or STATUS_PENDING} {n}" for status, n in sorted(counts.items(), key=str)
        )
    )
    incident_case(User.objects.get(username=login.username), say)
    return login


INCIDENT_TITLE = "Payroll read with the contractor's leaked key"


def incident_case(user: User, say: Say) -> None:
    """The story's incident as a case, with a signed evidence pack of it: every event from
    the unfamiliar address. Made once; a later demo run leaves it as it is."""
    from forensics.cases.models import Case, CaseEvent, CaseIdentity, CaseNote
    from forensics.estate.org import ATTACKER_IP
    from forensics.evidence import services as evidence
    from forensics.evidence.models import EvidencePack

    rows = list(
        Event.objects.filter(source_address=ATTACKER_IP).values_list("pk", "attribution__origin_id")
    )
    events = [pk for pk, _ in rows]
    if not events or Case.objects.filter(title=INCIDENT_TITLE).exists():
        return
    case = Case.objects.create(
        title=INCIDENT_TITLE,
        description=(
            f"A long-lived access key used from {ATTACKER_IP}, an address it never came from, "
            "hopped through two roles and read s3://hr-payroll."
        ),
        created_by=user,
    )
    CaseEvent.objects.bulk_create(CaseEvent(case=case, event_id=pk, added_by=user) for pk in events)
    CaseIdentity.objects.bulk_create(
        CaseIdentity(case=case, identity_id=origin, added_by=user)
        for origin in sorted({o for _, o in rows if o is not None})
    )
    CaseNote.objects.create(
        case=case,
        author=user,
        text="Every event from the address, with the chain each one was traced through.",
    )
    pack = evidence.request_pack(user, EvidencePack.CASE, {"case": case.pk}, queue=False)
    evidence.claim(pack.pk)
    pack = evidence.build(pack.pk)
    say(f"case {case.pk} '{case.title}': {len(events)} events, evidence pack {pack.status}")
