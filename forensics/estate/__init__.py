"""The demo estate: a deterministic synthetic organisation and its logs in real formats.

``generate`` writes CloudTrail, Google Cloud, Kubernetes, Okta, Entra, Azure Activity and OCSF
logs as their producers deliver them, the admin's identity directory, and the attribution the
correlation engine should reach for every generated access. Plain Python: no Django, no Celery.
"""

from forensics.estate.generator import Summary, generate

__all__ = ["Summary", "generate"]
