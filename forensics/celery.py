"""The Celery app; reads CELERY_* settings. Tasks are thin wrappers around services."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forensics.settings")

app = Celery("forensics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
