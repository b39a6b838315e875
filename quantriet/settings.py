"""One settings module, configured by the environment.

Environment variables (all optional for a local run):
  DATABASE_URL        default: sqlite:///<project>/var/quantriet.sqlite3
  SECRET_KEY          required when DEBUG is off
  DEBUG               "1" for development (default "1" unless QUANTRIET_ENV=production)
  ALLOWED_HOSTS       comma-separated host names
  QUANTRIET_DATA_DIR  where the SQLite file and uploads live (default <project>/var)
  EMAIL_BACKEND       dotted path of the mail backend (default: print to the console,
                      or SMTP when EMAIL_HOST is set)
  EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
  EMAIL_USE_SSL, EMAIL_TIMEOUT   the SMTP server of the notifications
  DEFAULT_FROM_EMAIL  sender of the notifications
  SITE_URL            the address of the site, for links in e-mails
  NOTIFY_RATE         e-mails per second per sender (0: no limit)
  NOTIFY_BATCH_SIZE   e-mails claimed and sent over one SMTP connection
  NOTIFY_DAILY_HOUR   from which hour notify-run sends the daily notices (default 7)
  NOTIFY_BOUNCE_ADDRESS  envelope sender of the e-mails, where delivery reports (bounces)
                      go; read them with notify-bounces (default: DEFAULT_FROM_EMAIL)
  QUANTRIET_FAST_PATHS  "0" turns off the one-statement check-in and submission (needed
                      behind a connection pooler in transaction mode)
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = Path(os.environ.get("QUANTRIET_DATA_DIR", PROJECT_DIR / "var"))

PRODUCTION = os.environ.get("QUANTRIET_ENV", "") == "production"
DEBUG = os.environ.get("DEBUG", "0" if PRODUCTION else "1") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when QUANTRIET_ENV=production")
    SECRET_KEY = "dev-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "quantriet.core",
    "quantriet.org",
    "quantriet.imports",
    "quantriet.campaigns",
    "quantriet.conference",
    "quantriet.reports",
    "quantriet.similarity",
    "quantriet.progress",
    "quantriet.plans",
    "quantriet.notifications",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "quantriet.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["quantriet.core.templatetags.vn"],
        },
    },
]

WSGI_APPLICATION = "quantriet.wsgi.application"
ASGI_APPLICATION = "quantriet.asgi.application"

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'quantriet.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Pages run short queries on big tables; PostgreSQL's JIT compilation (on by default
    # for queries it estimates as costly) added 40-50 ms to such a query and saved nothing.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# The one-statement check-in and submission (quantriet/core/fastpath.py) prepare their
# statements on each connection: turn them off behind a pooler in transaction mode.
QUANTRIET_FAST_PATHS = os.environ.get("QUANTRIET_FAST_PATHS", "1") != "0"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the task worker share the file: WAL, a busy timeout and
    # IMMEDIATE transactions keep writers from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work goes through the database queue; run `quantriet db_worker`.
# TASKS_BACKEND=immediate runs tasks inside the request (tests, tiny deployments).
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("TASKS_BACKEND") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# Largest roster file accepted for import (bytes).
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(150 * 1024 * 1024)))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["quantriet.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = not PRODUCTION

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
X_FRAME_OPTIONS = "DENY"

MAILERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        )
    }
}
if os.environ.get("EMAIL_HOST"):
    MAILERS["default"] = {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": os.environ["EMAIL_HOST"],
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": os.environ.get("EMAIL_USE_TLS", "0") == "1",
            "use_ssl": os.environ.get("EMAIL_USE_SSL", "0") == "1",
            "timeout": int(os.environ.get("EMAIL_TIMEOUT", "30")),
        },
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Quán Triệt <no-reply@localhost>")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Notifications: e-mails claimed per batch (one SMTP connection), the largest rate per
# sender task (e-mails per second, 0: no limit), how long a claimed batch stays reserved
# for its sender, and how long one sender task runs before it queues a fresh one.
NOTIFY_BATCH_SIZE = int(os.environ.get("NOTIFY_BATCH_SIZE", "100"))
NOTIFY_RATE = float(os.environ.get("NOTIFY_RATE", "0"))
NOTIFY_LEASE_SECONDS = int(os.environ.get("NOTIFY_LEASE_SECONDS", "600"))
NOTIFY_TASK_SECONDS = int(os.environ.get("NOTIFY_TASK_SECONDS", "60"))
# From which hour (local time) notify-run sends the daily notices (deadline, digests).
NOTIFY_DAILY_HOUR = int(os.environ.get("NOTIFY_DAILY_HOUR", "7"))
NOTIFY_BOUNCE_ADDRESS = os.environ.get("NOTIFY_BOUNCE_ADDRESS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Page size of lists in the UI.
PAGE_SIZE = 50
