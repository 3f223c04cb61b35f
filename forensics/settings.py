"""Settings for forensics. Everything that differs between machines comes from the environment.

Embedded default: SQLite (WAL) under ``var/`` and tasks run in-process, so a checkout just runs.
Production: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (Celery broker).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if not value else int(value)


def database_from_url(url: str) -> dict[str, object]:
    """A Django DATABASES entry from postgres://user:pass@host:port/name or sqlite:///path."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
        }
    if parsed.scheme == "sqlite":
        return sqlite_database(
            Path(unquote(parsed.path)) if parsed.path else VAR_DIR / "db.sqlite3"
        )
    raise ValueError(f"DATABASE_URL: unsupported scheme '{parsed.scheme}'")


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # WAL lets the web server read while a worker writes; IMMEDIATE avoids the
            # deadlock-prone read-then-upgrade of deferred transactions.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=30000;"
            ),
        },
    }


VAR_DIR = Path(os.environ.get("FORENSICS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
RAW_STORE_DIR = Path(os.environ.get("RAW_STORE_DIR", VAR_DIR / "raw"))
# Built evidence packs, and the Ed25519 key that signs them (created on first use when the
# file does not exist; provision the same file on every exports worker in production).
EVIDENCE_DIR = Path(os.environ.get("EVIDENCE_DIR", VAR_DIR / "evidence"))
EVIDENCE_SIGNING_KEY = Path(
    os.environ.get("EVIDENCE_SIGNING_KEY", VAR_DIR / "keys" / "evidence-signing-key.pem")
)
# A pack larger than this is refused with a message saying to narrow the scope.
EVIDENCE_MAX_EVENTS = int(os.environ.get("EVIDENCE_MAX_EVENTS", "200000"))
# The largest pack the verify page accepts as an upload.
EVIDENCE_MAX_UPLOAD_MB = int(os.environ.get("EVIDENCE_MAX_UPLOAD_MB", "512"))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # No secret in the repository: a per-checkout key is made once and kept under var/.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "template_partials",
    "forensics.core",
    "forensics.ingest",
    "forensics.identities",
    "forensics.audit",
    "forensics.investigate",
    "forensics.cases",
    "forensics.evidence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "forensics.urls"
WSGI_APPLICATION = "forensics.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forensics.core.context_processors.roles",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else sqlite_database(VAR_DIR / "db.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# Security headers. TLS termination is the deployment's business; these turn on with it.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
# How many reverse proxies in front of the web server append to X-Forwarded-For; the access
# log records the client address the outermost of them saw. 0: use REMOTE_ADDR.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)

# Ingest.
INGEST_MAX_BYTES = envint("INGEST_MAX_BYTES", 1 << 30)  # one upload / API body
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 << 20
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 << 20
INGEST_BATCH_ROWS = envint("INGEST_BATCH_ROWS", 5000)  # rows stored per transaction
# Many small files ingested together share their writes, in groups of at most this many
# files or bytes (a group's batches show as running until the group is done).
INGEST_GROUP_FILES = envint("INGEST_GROUP_FILES", 200)
INGEST_GROUP_BYTES = envint("INGEST_GROUP_BYTES", 32 << 20)
INGEST_STALE_MINUTES = envint("INGEST_STALE_MINUTES", 10)  # a queued batch older is re-sent
# Correlation: how long an event may wait for its credential's issuer before it is
# reported unattributed (missing_issuer). It flips back when the issuer arrives.
CORRELATION_GRACE_MINUTES = envint("CORRELATION_GRACE_MINUTES", 60)
CORRELATION_LOCK_BUCKETS = envint("CORRELATION_LOCK_BUCKETS", 256)  # per lock kind
# A finished batch enqueues correlation of its events; the benchmark turns this off to
# measure ingest alone.
CORRELATE_AFTER_INGEST = envbool("CORRELATE_AFTER_INGEST", True)
# The home page's counts read every event: they are kept this long (or 20 times what the
# count took, if longer) and then counted again in the background.
OVERVIEW_MAX_AGE_SECONDS = envint("OVERVIEW_MAX_AGE_SECONDS", 60)

# Celery. Without REDIS_URL the same task code runs in-process (eager), said once at start.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_TASK_ROUTES = {
    "forensics.ingest.tasks.*": {"queue": "ingest"},
    "forensics.identities.tasks.*": {"queue": "correlate"},
    "forensics.evidence.tasks.*": {"queue": "exports"},
    "forensics.core.tasks.*": {"queue": "exports"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-batches": {
        "task": "forensics.ingest.tasks.sweep_batches",
        "schedule": 60.0,
    },
    "sweep-stale-packs": {
        "task": "forensics.evidence.tasks.sweep_packs",
        "schedule": 120.0,
    },
    "expire-pending": {
        "task": "forensics.identities.tasks.expire_pending",
        "schedule": 300.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # In embedded mode every task runs inline; its per-task lines would drown the CLI.
        "celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"},
    },
}

TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")
