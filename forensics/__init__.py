"""forensics: who really touched this personal data, with the evidence for every hop."""

from forensics.celery import app as celery_app

__all__ = ["celery_app"]
