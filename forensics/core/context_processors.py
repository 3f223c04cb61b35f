from __future__ import annotations

from django.http import HttpRequest

from forensics.core.roles import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    held = user_roles(request.user)
    return {
        "roles": held,
        "is_investigator": "investigator" in held,
        "is_auditor": "auditor" in held,
        "is_admin": "admin" in held,
    }
