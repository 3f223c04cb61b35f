"""Identity-provider and SaaS records: Okta System Log, Entra sign-ins, Azure Activity, OCSF.

An Entra sign-in's uniqueTokenIdentifier reappears as the "uti" claim of every Azure Activity
record made with that token; an OCSF API Activity names the session its Authentication event
opened.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forensics.estate.emission import epoch_ms, millis_z, seconds_z, ticks_z
from forensics.estate.ids import Ids
from forensics.estate.org import Org, Person

_OFFICE_GEO: dict[str, Any] = {
    "city": "Boston",
    "state": "Massachusetts",
    "country": "United States",
    "postalCode": "02110",
    "geolocation": {"lat": 42.3584, "lon": -71.0598},
}
_EU_GEO: dict[str, Any] = {
    "city": "Dublin",
    "state": "Leinster",
    "country": "Ireland",
    "postalCode": "D02",
    "geolocation": {"lat": 53.3498, "lon": -6.2603},
}
ARM_RESOURCE_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"  # Windows Azure Service Management API
AZURE_PORTAL_APP = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
AZURE_CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
HR_APP_HOST = "peoplecloud.example.org"


def _browser(ua: str) -> tuple[str, str]:
    os_name = "Mac OS X" if "Mac" in ua else "Windows 10" if "Windows" in ua else "Linux"
    browser = "FIREFOX" if "Firefox" in ua else "EDGE" if "Edg/" in ua else "CHROME"
    if "Safari" in ua and "Chrome" not in ua:
        browser = "SAFARI"
    return os_name, browser


class _OrgRecords:
    """A record builder that draws ids from ``ids`` and names from ``org``."""

    def __init__(self, ids: Ids, org: Org) -> None:
        self.ids = ids
        self.org = org


class Okta(_OrgRecords):
    """Okta System Log LogEvents."""

    def event(
        self,
        *,
        t: datetime,
        person: Person | None,
        event_type: str,
        display: str,
        ip: str,
        ua: str,
        session_id: str | None,
        transaction: str,
        legacy: str | None,
        uri: str,
        targets: list[dict[str, Any]] | None = None,
        outcome: str = "SUCCESS",
        reason: str | None = None,
        typed_login: str = "",
    ) -> dict[str, Any]:
        if person is not None:
            actor = {
                "id": person.okta_id,
                "type": "User",
                "alternateId": person.email,
                "displayName": person.name,
                "detailEntry": None,
            }
        else:
            # Okta names an unknown login attempt by what was typed.
            actor = {
                "id": "unknown",
                "type": "User",
                "alternateId": typed_login,
                "displayName": "unknown",
                "detailEntry": None,
            }
        geo = _EU_GEO if person is not None and person.eu else _OFFICE_GEO
        os_name, browser = _browser(ua)
        return {
            "actor": actor,
            "client": {
                "userAgent": {"rawUserAgent": ua, "os": os_name, "browser": browser},
                "zone": "null",
                "device": "Computer",
                "id": None,
                "ipAddress": ip,
                "geographicalContext": geo,
            },
            "device": None,
            "authenticationContext": {
                "authenticationProvider": None,
                "credentialProvider": None,
                "credentialType": None,
                "issuer": None,
                "interface": None,
                "authenticationStep": 0,
                "externalSessionId": session_id,
            },
            "displayMessage": display,
            "eventType": event_type,
            "outcome": {"result": outcome, "reason": reason},
            "published": millis_z(t),
            "securityContext": {
                "asNumber": None,
                "asOrg": None,
                "isp": None,
                "domain": None,
                "isProxy": None,
            },
            "severity": "INFO" if outcome == "SUCCESS" else "WARN",
            "debugContext": {
                "debugData": {
                    "requestId": self.ids.alnum(24),
                    "requestUri": uri,
                    "url": uri + "?",
                    "dtHash": self.ids.hex(64),
                }
            },
            "legacyEventType": legacy,
            "transaction": {"type": "WEB", "id": transaction, "detail": {}},
            "uuid": self.ids.uuid(),
            "version": "0",
            "request": {
                "ipChain": [
                    {
                        "ip": ip,
                        "geographicalContext": geo,
                        "version": "V6" if ":" in ip else "V4",
                        "source": None,
                    }
                ]
            },
            "target": targets or [],
        }

    def app_targets(self, person: Person, app: str) -> list[dict[str, Any]]:
        return [
            {
                "id": self.org.okta_apps[app],
                "type": "AppInstance",
                "alternateId": app,
                "displayName": app,
                "detailEntry": {"signOnModeType": "SAML_2_0"},
            },
            {
                "id": self.ids.okta_id("0ua"),
                "type": "AppUser",
                "alternateId": person.email,
                "displayName": person.name,
                "detailEntry": None,
            },
        ]


class Entra(_OrgRecords):
    """Microsoft Graph signIn resources and Azure Activity Log events."""

    def signin(
        self,
        *,
        t: datetime,
        kind: str,
        uti: str,
        correlation: str,
        app_id: str,
        app_name: str,
        ip: str,
        person: Person | None = None,
        ua: str = "",
        sp_id: str = "",
        sp_name: str = "",
        managed: bool = False,
    ) -> dict[str, Any]:
        """kind: interactiveUser | nonInteractiveUser | servicePrincipal | managedIdentity."""
        user = person is not None and kind in ("interactiveUser", "nonInteractiveUser")
        os_name, browser = _browser(ua) if ua else ("", "")
        credential_type = "none" if user else "managedIdentity" if managed else "clientSecret"
        return {
            "id": self.ids.uuid(),
            "createdDateTime": seconds_z(t),
            "userDisplayName": person.name if user and person else None,
            "userPrincipalName": person.email if user and person else None,
            "userId": person.entra_oid if user and person else "",
            "appId": app_id,
            "appDisplayName": app_name,
            "ipAddress": ip,
            "ipAddressFromResourceProvider": None,
            "clientAppUsed": "Browser"
            if kind == "interactiveUser"
            else "Mobile Apps and Desktop clients"
            if user
            else "",
            "userAgent": ua,
            "correlationId": correlation,
            "conditionalAccessStatus": "success" if user else "notApplied",
            "originalRequestId": self.ids.uuid(),
            "isInteractive": kind == "interactiveUser",
            "tokenIssuerName": "",
            "tokenIssuerType": "AzureAD",
            "clientCredentialType": credential_type,
            "processingTimeInMilliseconds": self.ids.rng.randrange(40, 400),
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes_v2": [],
            "resourceDisplayName": "Windows Azure Service Management API",
            "resourceId": ARM_RESOURCE_ID,
            "resourceTenantId": self.org.entra_tenant,
            "homeTenantId": self.org.entra_tenant,
            "homeTenantName": "",
            "authenticationRequirement": "multiFactorAuthentication"
            if kind == "interactiveUser"
            else "singleFactorAuthentication",
            "signInIdentifier": person.email if user and person else "",
            "signInIdentifierType": None,
            "servicePrincipalName": None if user else sp_name,
            "signInEventTypes": [kind],
            "servicePrincipalId": "" if user else sp_id,
            "federatedCredentialId": "",
            "userType": "member",
            "flaggedForReview": False,
            "isTenantRestricted": False,
            "autonomousSystemNumber": 64500 if ip else 0,
            "crossTenantAccessType": "none",
            "uniqueTokenIdentifier": uti,
            "incomingTokenType": "primaryRefreshToken" if kind == "nonInteractiveUser" else "none",
            "authenticationProtocol": "none",
            "managedIdentityType": "systemAssigned" if managed else "none",
            "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": None},
            "deviceDetail": {
                "deviceId": "",
                "displayName": "",
                "operatingSystem": os_name,
                "browser": browser,
                "isCompliant": False,
                "isManaged": False,
                "trustType": "",
            },
            "location": {
                "city": "Boston" if ip else "",
                "state": "Massachusetts" if ip else "",
                "countryOrRegion": "US" if ip else "",
                "geoCoordinates": {"altitude": None, "latitude": 42.3584, "longitude": -71.0598}
                if ip
                else None,
            },
            "appliedConditionalAccessPolicies": [],
            "authenticationProcessingDetails": [],
            "networkLocationDetails": [],
            "authenticationDetails": [],
            "sessionLifetimePolicies": [],
        }

    def claims(
        self,
        *,
        issued: datetime,
        uti: str,
        app_id: str,
        oid: str,
        ip: str,
        person: Person | None = None,
        mi_resource: str = "",
    ) -> dict[str, Any]:
        tenant = self.org.entra_tenant
        iat = int(issued.timestamp())
        claims: dict[str, Any] = {
            "aud": "https://management.core.windows.net/",
            "iss": f"https://sts.windows.net/{tenant}/",
            # The Activity Log keeps token times as text.
            "iat": str(iat),
            "nbf": str(iat),
            "exp": str(iat + 4140),
            "aio": self.ids.alnum(40),
            "appid": app_id,
        }
        if person is not None:
            first, last = person.name.split(" ", 1)
            claims.update(
                {
                    "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
                    "appidacr": "0",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": last,
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": first,
                    "ipaddr": ip,
                    "name": person.name,
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                    "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
                    "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": person.email,
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": person.email,
                }
            )
        else:
            claims.update(
                {
                    "appidacr": "2" if mi_resource else "1",
                    "http://schemas.microsoft.com/identity/claims/identityprovider": f"https://sts.windows.net/{tenant}/",
                    "idtyp": "app",
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": oid,
                    "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
                }
            )
            if mi_resource:
                claims["xms_mirid"] = mi_resource
        claims["uti"] = uti
        claims["ver"] = "1.0"
        return claims

    def activity(
        self,
        *,
        t: datetime,
        caller: str,
        claims: dict[str, Any],
        correlation: str,
        resource_id: str,
        operation: str,
        localized: str,
        ip: str,
    ) -> dict[str, Any]:
        """An Azure Activity Log event as the Activity Logs REST API returns it."""
        event_id = self.ids.uuid()
        parts = resource_id.split("/")
        group, provider, rtype = parts[4], parts[6], parts[7]
        ticks = int(t.timestamp() * 10_000_000) + 621_355_968_000_000_000
        return {
            "authorization": {"action": operation, "scope": resource_id},
            "caller": caller,
            "channels": "Operation",
            "claims": claims,
            "correlationId": correlation,
            "description": "",
            "eventDataId": event_id,
            "eventName": {"value": "EndRequest", "localizedValue": "End request"},
            "category": {"value": "Administrative", "localizedValue": "Administrative"},
            "eventTimestamp": ticks_z(t),
            "id": f"{resource_id}/events/{event_id}/ticks/{ticks}",
            "level": "Informational",
            "operationId": self.ids.uuid(),
            "operationName": {"value": operation, "localizedValue": localized},
            "resourceGroupName": group,
            "resourceProviderName": {"value": provider, "localizedValue": provider},
            "resourceType": {
                "value": f"{provider}/{rtype}",
                "localizedValue": f"{provider}/{rtype}",
            },
            "resourceId": resource_id,
            "status": {"value": "Succeeded", "localizedValue": "Succeeded"},
            "subStatus": {"value": "OK", "localizedValue": "OK (HTTP Status Code: 200)"},
            "submissionTimestamp": ticks_z(t + timedelta(seconds=self.ids.rng.randrange(8, 90))),
            "subscriptionId": self.org.azure_subscription,
            "tenantId": self.org.entra_tenant,
            "properties": {
                "statusCode": "OK",
                "serviceRequestId": None,
                "eventCategory": "Administrative",
                "entity": resource_id,
                "message": operation,
                "hierarchy": f"{self.org.entra_tenant}/{self.org.azure_subscription}",
            },
            "relatedEvents": [],
            "httpRequest": {
                "clientRequestId": self.ids.uuid(),
                "clientIpAddress": ip,
                "method": "POST",
            },
        }


class Ocsf(_OrgRecords):
    """OCSF events from the PeopleCloud HR application."""

    def _base(
        self, t: datetime, class_uid: int, class_name: str, activity: int, name: str
    ) -> dict[str, Any]:
        category = class_uid // 1000
        return {
            "activity_id": activity,
            "activity_name": name,
            "category_uid": category,
            "category_name": "Identity & Access Management"
            if category == 3
            else "Application Activity",
            "class_uid": class_uid,
            "class_name": class_name,
            "type_uid": class_uid * 100 + activity,
            "type_name": f"{class_name}: {name}",
            "severity_id": 1,
            "severity": "Informational",
            "status_id": 1,
            "status": "Success",
            "time": epoch_ms(t),
            "metadata": {
                "version": "1.3.0",
                "uid": self.ids.uuid(),
                "product": {
                    "name": "PeopleCloud HR",
                    "vendor_name": "Example HR Systems",
                    "version": "2026.10.1",
                    "uid": self.org.hr_app_uid,
                },
                "log_name": "audit",
                "original_time": seconds_z(t),
            },
        }

    def user(self, person: Person, employee: int) -> dict[str, Any]:
        # The HR system keys people by numeric employee id; it writes the number as is.
        return {
            "uid": employee,
            "name": person.email,
            "email_addr": person.email,
            "full_name": person.name,
            "type_id": 1,
            "type": "User",
        }

    def session(self, uid: str, created: datetime) -> dict[str, Any]:
        return {
            "uid": uid,
            "issuer": self.org.okta_saml_issuer,
            "created_time": epoch_ms(created),
            "is_remote": True,
        }

    def logon(
        self, *, t: datetime, user: dict[str, Any], session: dict[str, Any], ip: str
    ) -> dict[str, Any]:
        ev = self._base(t, 3002, "Authentication", 1, "Logon")
        ev.update(
            {
                "auth_protocol_id": 5,
                "auth_protocol": "SAML",
                "is_mfa": True,
                "is_remote": True,
                "user": user,
                "session": session,
                "actor": {
                    "user": user,
                    "session": session,
                    "idp": {"name": "Okta", "uid": self.org.okta_apps["PeopleCloud HR"]},
                },
                "src_endpoint": {"ip": ip},
                "dst_endpoint": {"hostname": HR_APP_HOST},
                "service": {"name": "PeopleCloud HR"},
            }
        )
        return ev

    def authorize(
        self,
        *,
        t: datetime,
        user: dict[str, Any],
        session: dict[str, Any],
        ip: str,
        groups: list[str],
    ) -> dict[str, Any]:
        ev = self._base(t, 3003, "Authorize Session", 2, "Assign Groups")
        ev.update(
            {
                "user": user,
                "session": session,
                "groups": [{"name": g} for g in groups],
                "actor": {"user": user, "session": session},
                "src_endpoint": {"ip": ip},
            }
        )
        return ev

    def api_read(
        self,
        *,
        t: datetime,
        user: dict[str, Any],
        session: dict[str, Any],
        ip: str,
        ua: str,
        employee: int,
        what: str,
    ) -> dict[str, Any]:
        ev = self._base(t, 6003, "API Activity", 2, "Read")
        path = f"/api/v2/employees/{employee}/{what}"
        ev.update(
            {
                "actor": {"user": user, "session": session, "app_name": "PeopleCloud HR web"},
                "api": {
                    "operation": f"GET {path}",
                    "service": {"name": "PeopleCloud HR"},
                    "request": {"uid": self.ids.uuid()},
                    "response": {"code": 200},
                },
                "http_request": {
                    "http_method": "GET",
                    "url": {"hostname": HR_APP_HOST, "path": path, "scheme": "https"},
                    "user_agent": ua,
                },
                "resources": [
                    {
                        "uid": f"employee/{employee}/{what}",
                        "type": "employee_record",
                        "name": f"employees/{employee}/{what}",
                        "data": {"classification": "personal"},
                    }
                ],
                "src_endpoint": {"ip": ip},
                "dst_endpoint": {"hostname": HR_APP_HOST},
            }
        )
        return ev
