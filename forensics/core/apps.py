from __future__ import annotations

import logging
import sys

from django.apps import AppConfig
from django.conf import settings

log = logging.getLogger("forensics")


class CoreConfig(AppConfig):
    name = "forensics.core"
    label = "core"

    def ready(self) -> None:
        from forensics.core import lookups  # noqa: F401  (registers field__any)

        serving = (
            any(arg in {"runserver", "run_dev"} for arg in sys.argv) or "gunicorn" in sys.argv[0]
        )
        if settings.CELERY_TASK_ALWAYS_EAGER and serving:
            log.warning(
                "REDIS_URL is not set: background tasks run in-process in the web server "
                "(embedded mode). Set REDIS_URL and start a worker for production."
            )
