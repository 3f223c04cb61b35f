"""Okta, Microsoft Entra / Azure and HR-application actors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from forensics.estate.activity import Context, person_verdict, workload
from forensics.estate.emission import Verdict, unattributed
from forensics.estate.idp import AZURE_CLI_APP, AZURE_PORTAL_APP
from forensics.estate.org import EntraApp, ManagedIdentity, Person

ENTRA_TOKEN_LIFETIME = timedelta(minutes=70)
HR_SESSION_LIFETIME = timedelta(hours=8)
AZURE_CLI_UA = "python/3.11.9 (Linux-6.5.0-1025-azure-x86_64-with-glibc2.35) AZURECLI/2.64.0"
AZURE_OPERATIONS = (
    ("Microsoft.Storage/storageAccounts/listKeys/action", "List Storage Account Keys"),
    ("Microsoft.Storage/storageAccounts/listAccountSas/action", "List Account SAS"),
)
HR_RECORDS = ("compensation", "bank-details", "home-address", "performance-review")


@dataclass(frozen=True, slots=True)
class EntraToken:
    """An access token as the sign-in log and the Activity Log both see it."""

    uti: str  # uniqueTokenIdentifier / "uti" claim
    correlation: str
    issued: datetime
    app_id: str  # the client the token was issued to
    interactive_at: datetime  # the user's last interactive sign-in


class IdpActors:
    """Token and session state of identity-provider and SaaS actors."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.org = ctx.org
        self.entra_tokens: dict[str, EntraToken] = {}
        self.hr_sessions: dict[str, tuple[dict[str, Any], datetime]] = {}

    # --- Okta ----------------------------------------------------------------------------

    def okta_app(self, p: Person, t: datetime) -> datetime:
        app = self.ctx.ids.rng.choice(("Slack", "Google Workspace"))
        _, t = self.ctx.okta_sso(p, app, t)
        return t

    def okta_unknown_login(self, t: datetime) -> datetime:
        ctx = self.ctx
        t = ctx.jitter(t)
        typed = ctx.ids.rng.choice(("admin@example.com", "j.smith@example.com", "test"))
        rec = ctx.okta.event(
            t=t,
            person=None,
            typed_login=typed,
            event_type="user.session.start",
            display="User login to Okta",
            ip="198.51.100.66",
            ua="python-requests/2.32.3",
            session_id=None,
            transaction=ctx.ids.okta_transaction(),
            legacy="core.user_auth.login_failed",
            uri="/api/v1/authn",
            outcome="FAILURE",
            reason="VERIFICATION_ERROR",
        )
        ctx.okta_event(t, rec, unattributed("unknown_principal"))
        return t

    # --- Entra and Azure -----------------------------------------------------------------

    def _token(
        self,
        who: str,
        t: datetime,
        verdict: Verdict,
        signin: dict[str, Any],
    ) -> EntraToken:
        """The live token of ``who``; a new sign-in (built from ``signin``) when it expired."""
        known = self.entra_tokens.get(who)
        if known is not None and known.issued <= t < known.issued + ENTRA_TOKEN_LIFETIME:
            return known
        ctx = self.ctx
        t = ctx.jitter(t)
        uti, correlation = ctx.ids.token_id(), ctx.ids.uuid()
        person = signin.get("person")
        kind = signin["kind"]
        interactive_at = t
        if person is not None:
            # Within a working day the user's refresh token gets new access tokens silently.
            if known is not None and t < known.interactive_at + timedelta(hours=8):
                kind, interactive_at = "nonInteractiveUser", known.interactive_at
                signin = {
                    **signin,
                    "app_id": AZURE_CLI_APP,
                    "app_name": "Microsoft Azure CLI",
                    "ua": AZURE_CLI_UA,
                }
            else:
                kind = "interactiveUser"
        rec = ctx.entra.signin(
            t=t,
            kind=kind,
            uti=uti,
            correlation=correlation,
            app_id=signin["app_id"],
            app_name=signin["app_name"],
            ip=signin["ip"],
            person=person,
            ua=signin.get("ua", ""),
            sp_id=signin.get("sp_id", ""),
            sp_name=signin.get("sp_name", ""),
            managed=kind == "managedIdentity",
        )
        ctx.entra_signin(t, rec, verdict)
        token = EntraToken(uti, correlation, t, signin["app_id"], interactive_at)
        self.entra_tokens[who] = token
        return token

    def _activities(
        self,
        t: datetime,
        count: int,
        caller: str,
        claims: dict[str, Any],
        correlation: str,
        ip: str,
        verdict: Verdict,
        resources: tuple[str, ...] = (),
    ) -> datetime:
        ctx, rng = self.ctx, self.ctx.ids.rng
        pool = [r for r in self.org.azure_resources if not resources or r.name in resources]
        for _ in range(count or rng.randint(1, 2)):
            t = ctx.jitter(ctx.later(t, 2, 40))
            op, label = rng.choice(AZURE_OPERATIONS)
            rec = ctx.entra.activity(
                t=t,
                caller=caller,
                claims=claims,
                correlation=correlation,
                resource_id=self.org.azure_id(rng.choice(pool)),
                operation=op,
                localized=label,
                ip=ip,
            )
            ctx.azure_activity(t, rec, verdict)
        return t

    def azure_user(self, p: Person, t: datetime, count: int = 0) -> datetime:
        verdict = person_verdict(p)
        token = self._token(
            p.key,
            t,
            verdict,
            {
                "kind": "interactiveUser",
                "person": p,
                "app_id": AZURE_PORTAL_APP,
                "app_name": "Azure Portal",
                "ip": p.ip,
                "ua": p.user_agent,
            },
        )
        claims = self.ctx.entra.claims(
            issued=token.issued,
            uti=token.uti,
            app_id=token.app_id,
            oid=p.entra_oid,
            ip=p.ip,
            person=p,
        )
        start = max(t, token.issued)
        return self._activities(start, count, p.email, claims, token.correlation, p.ip, verdict)

    def azure_app(self, app: EntraApp, t: datetime, count: int = 0) -> datetime:
        verdict = workload("entra_app", app.app_id)
        token = self._token(
            app.name,
            t,
            verdict,
            {
                "kind": "servicePrincipal",
                "app_id": app.app_id,
                "app_name": app.name,
                "ip": app.ip,
                "sp_id": app.sp_id,
                "sp_name": app.name,
            },
        )
        claims = self.ctx.entra.claims(
            issued=token.issued, uti=token.uti, app_id=app.app_id, oid=app.sp_id, ip=app.ip
        )
        return self._activities(
            max(t, token.issued),
            count,
            app.sp_id,
            claims,
            token.correlation,
            app.ip,
            verdict,
            ("hrpayrollexports",),
        )

    def azure_managed(self, mi: ManagedIdentity, t: datetime, count: int = 0) -> datetime:
        verdict = workload("azure_managed_identity", mi.sp_id)
        # Managed-identity sign-ins come from inside Azure and carry no client address.
        token = self._token(
            mi.name,
            t,
            verdict,
            {
                "kind": "managedIdentity",
                "app_id": mi.client_id,
                "app_name": mi.name,
                "ip": "",
                "sp_id": mi.sp_id,
                "sp_name": mi.name,
            },
        )
        vm = (
            f"/subscriptions/{self.org.azure_subscription}/resourcegroups/{mi.resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{mi.name}"
        )
        claims = self.ctx.entra.claims(
            issued=token.issued,
            uti=token.uti,
            app_id=mi.client_id,
            oid=mi.sp_id,
            ip="",
            mi_resource=vm,
        )
        return self._activities(
            max(t, token.issued),
            count,
            mi.sp_id,
            claims,
            token.correlation,
            "192.0.2.180",
            verdict,
            ("patientrecordsprod",),
        )

    # --- PeopleCloud HR (OCSF) -----------------------------------------------------------

    def employee_id(self, p: Person) -> int:
        return self.org.employee_ids[[x.key for x in self.org.people].index(p.key)]

    def hr_session(self, p: Person, t: datetime) -> tuple[dict[str, Any], datetime]:
        known = self.hr_sessions.get(p.key)
        if known is not None and known[1] <= t < known[1] + HR_SESSION_LIFETIME:
            return known[0], t
        ctx = self.ctx
        _, t = ctx.okta_sso(p, "PeopleCloud HR", t)
        t = ctx.jitter(ctx.later(t, 1, 3))
        session = ctx.ocsf.session(ctx.ids.uuid(), t)
        user = ctx.ocsf.user(p, self.employee_id(p))
        ctx.ocsf_event(
            t, ctx.ocsf.logon(t=t, user=user, session=session, ip=p.ip), person_verdict(p)
        )
        t = ctx.jitter(ctx.later(t, 1, 2))
        groups = ["hr-business-partners", "payroll-viewers"]
        ctx.ocsf_event(
            t,
            ctx.ocsf.authorize(t=t, user=user, session=session, ip=p.ip, groups=groups),
            person_verdict(p),
        )
        self.hr_sessions[p.key] = (session, t)
        return session, t

    def hr_reads(self, p: Person, t: datetime, count: int = 0) -> datetime:
        ctx, rng = self.ctx, self.ctx.ids.rng
        session, t = self.hr_session(p, t)
        user = ctx.ocsf.user(p, self.employee_id(p))
        for _ in range(count or rng.randint(1, 3)):
            t = ctx.jitter(ctx.later(t, 2, 45))
            rec = ctx.ocsf.api_read(
                t=t,
                user=user,
                session=session,
                ip=p.ip,
                ua=p.user_agent,
                employee=rng.choice(self.org.employee_ids),
                what=rng.choice(HR_RECORDS),
            )
            ctx.ocsf_event(t, rec, person_verdict(p))
        return t

    def hr_conflict(self, named: Person, holder: Person, t: datetime) -> datetime:
        """A read whose user field names one person while its session belongs to another."""
        ctx, rng = self.ctx, self.ctx.ids.rng
        session, t = self.hr_session(holder, t)
        t = ctx.jitter(ctx.later(t, 5, 30))
        rec = ctx.ocsf.api_read(
            t=t,
            user=ctx.ocsf.user(named, self.employee_id(named)),
            session=session,
            ip=holder.ip,
            ua=holder.user_agent,
            employee=rng.choice(self.org.employee_ids),
            what="bank-details",
        )
        # Two pieces of evidence the log itself carries name two people: that is a contradiction,
        # not a choice between candidates (ambiguous is kept for chains with an inferred hop).
        ctx.ocsf_event(t, rec, unattributed("conflicting_evidence"))
        return t
