"""What every actor shares: the record builders, the emitting functions and the origins.

Actors write through a ``Context``; it turns each record into an ``Emission`` that names the
destination file family and the attribution the record should get.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forensics.estate.cloudtrail import CloudTrail
from forensics.estate.emission import (
    HUMAN,
    WORKLOAD,
    Emission,
    Origin,
    Verdict,
    attributed,
)
from forensics.estate.gcp import GcpAudit
from forensics.estate.idp import Entra, Ocsf, Okta
from forensics.estate.ids import Ids
from forensics.estate.k8s import K8sAudit
from forensics.estate.org import Org, Person

OKTA_SESSION_HOURS = 8
# Event type, display message and legacy event type of each Okta step a person goes through.
_OKTA_LOGIN = ("user.session.start", "User login to Okta", "core.user_auth.login_success")
_OKTA_MFA = (
    "user.authentication.auth_via_mfa",
    "Authentication of user via MFA",
    "core.user.factor.attempt_success",
)
_OKTA_SSO = ("user.authentication.sso", "User single sign on to app", "app.auth.sso")


def email_origin(p: Person) -> Origin:
    return Origin(HUMAN, "email", p.email.lower())


def person_verdict(p: Person) -> Verdict:
    return attributed(email_origin(p))


def workload(namespace: str, value: str) -> Verdict:
    return attributed(Origin(WORKLOAD, namespace, value))


def human(namespace: str, value: str) -> Verdict:
    return attributed(Origin(HUMAN, namespace, value))


class Context:
    """Builders, id factory and the output buffer of one actor family."""

    def __init__(self, org: Org, ids: Ids, story: str) -> None:
        self.org = org
        self.ids = ids
        self.story = story
        self.ct = CloudTrail(ids)
        self.gcp = GcpAudit(ids)
        self.k8s = K8sAudit(ids)
        self.okta = Okta(ids, org)
        self.entra = Entra(ids, org)
        self.ocsf = Ocsf(ids, org)
        self.out: list[Emission] = []
        self._okta_sessions: dict[str, tuple[str, datetime]] = {}

    # --- time --------------------------------------------------------------------------

    def later(self, t: datetime, lo: int = 1, hi: int = 4) -> datetime:
        """A whole number of seconds later, keeping sub-second jitter for finer producers."""
        return t + timedelta(seconds=self.ids.rng.randint(lo, hi))

    def jitter(self, t: datetime) -> datetime:
        return t.replace(microsecond=self.ids.rng.randrange(1_000_000))

    # --- emitting ----------------------------------------------------------------------

    def take(self) -> list[Emission]:
        out, self.out = self.out, []
        return out

    def _emit(
        self,
        t: datetime,
        sink: tuple[str, ...],
        record: dict[str, Any],
        kind: str,
        event_id: str,
        verdict: Verdict | None,
    ) -> None:
        self.out.append(Emission(t, sink, record, kind, event_id, verdict, self.story))

    def cloudtrail(self, record: dict[str, Any], verdict: Verdict) -> None:
        t = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        sink = ("cloudtrail", record["recipientAccountId"], record["awsRegion"])
        self._emit(t, sink, record, "cloudtrail", record["eventID"], verdict)

    def cloudtrail_all(self, records: list[dict[str, Any]], verdict: Verdict) -> None:
        for record in records:
            self.cloudtrail(record, verdict)

    def gcp_entry(self, t: datetime, record: dict[str, Any], verdict: Verdict) -> None:
        project = record["logName"].split("/")[1]
        log = record["logName"].rsplit("%2F", 1)[1]
        self._emit(t, ("gcp", project, log), record, "gcp_audit", record["insertId"], verdict)

    def k8s_events(
        self, t: datetime, cluster: str, events: list[dict[str, Any]], verdict: Verdict
    ) -> None:
        # Every stage is written; only the last one carries the expectation for the auditID.
        for n, ev in enumerate(events):
            last = n == len(events) - 1
            self._emit(
                t, ("k8s", cluster), ev, "k8s_audit", ev["auditID"], verdict if last else None
            )

    def okta_event(self, t: datetime, record: dict[str, Any], verdict: Verdict) -> None:
        self._emit(t, ("okta",), record, "okta", record["uuid"], verdict)

    def entra_signin(self, t: datetime, record: dict[str, Any], verdict: Verdict) -> None:
        self._emit(t, ("entra",), record, "entra", record["id"], verdict)

    def azure_activity(self, t: datetime, record: dict[str, Any], verdict: Verdict) -> None:
        self._emit(t, ("azure",), record, "azure_activity", record["eventDataId"], verdict)

    def ocsf_event(self, t: datetime, record: dict[str, Any], verdict: Verdict) -> None:
        self._emit(t, ("ocsf",), record, "ocsf", record["metadata"]["uid"], verdict)

    # --- Okta sign-in, shared by every flow that starts at the IdP ----------------------

    def okta_sso(self, p: Person, app: str, t: datetime) -> tuple[str, datetime]:
        """Sign ``p`` in to Okta if needed, then SSO into ``app``; the Okta session and time."""
        session_id, t = self.okta_signin(p, t)
        t = self.jitter(self.later(t, 1, 3))
        slug = app.lower().replace(" ", "_")
        self._okta_person_event(
            t,
            p,
            session_id,
            self.ids.okta_transaction(),
            _OKTA_SSO,
            f"/app/{slug}/{self.org.okta_apps[app]}/sso/saml",
            self.okta.app_targets(p, app),
        )
        return session_id, t

    def okta_signin(self, p: Person, t: datetime) -> tuple[str, datetime]:
        known = self._okta_sessions.get(p.key)
        if known and known[1] <= t < known[1] + timedelta(hours=OKTA_SESSION_HOURS):
            return known[0], t
        session_id = self.ids.okta_session()
        transaction = self.ids.okta_transaction()
        t = self.jitter(t)
        self._okta_person_event(t, p, session_id, transaction, _OKTA_LOGIN, "/idp/idx/identify")
        t = self.jitter(self.later(t, 4, 15))
        self._okta_person_event(
            t, p, session_id, transaction, _OKTA_MFA, "/idp/idx/challenge/answer"
        )
        self._okta_sessions[p.key] = (session_id, t)
        return session_id, t

    def _okta_person_event(
        self,
        t: datetime,
        p: Person,
        session_id: str,
        transaction: str,
        kind: tuple[str, str, str],
        uri: str,
        targets: list[dict[str, Any]] | None = None,
    ) -> None:
        """Emit a successful Okta event of ``p`` from their usual address and browser."""
        event_type, display, legacy = kind
        record = self.okta.event(
            t=t,
            person=p,
            event_type=event_type,
            display=display,
            ip=p.ip,
            ua=p.user_agent,
            session_id=session_id,
            transaction=transaction,
            legacy=legacy,
            uri=uri,
            targets=targets,
        )
        self.okta_event(t, record, person_verdict(p))
