"""Stepwise settings, read from the environment through typed helpers.

Nothing here needs editing to run: `make run` works with the defaults, and a
production deployment sets the variables named below.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("STEPWISE_VAR_DIR", PROJECT_DIR / "var"))


def env_str(name: str, default: str) -> str:
    """A string setting; `NAME_FILE` pointing to a file wins over `NAME` (for secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# Development defaults are only for `make run`; a system check refuses them in production.
DEV_SECRET_KEY = "stepwise-development-only-secret-key-change-me-0123456789"  # noqa: S105
DEV_AUDIT_KEY = "stepwise-development-only-audit-hmac-key"

DEBUG = env_bool("STEPWISE_DEBUG", False)
SECRET_KEY = env_str("STEPWISE_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = [
    h for h in env_str("STEPWISE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("STEPWISE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# The key of the audit log's hash chain (HMAC-SHA256). Rotate only with a verified chain.
AUDIT_HMAC_KEY = env_str("STEPWISE_AUDIT_KEY", DEV_AUDIT_KEY)
# Audit rows are spread over this many independent hash chains, so concurrent
# requests lock one chain head each instead of serializing on a single one.
AUDIT_CHAIN_COUNT = env_int("STEPWISE_AUDIT_CHAINS", 8)
# Only the benchmark turns this off, to measure what auditing costs.
AUDIT_ENABLED = env_bool("STEPWISE_AUDIT_ENABLED", True)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "stepwise.core",
    "stepwise.accounts",
    "stepwise.patients",
    "stepwise.care",
    "stepwise.privacy",
    "stepwise.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "stepwise.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "stepwise.core.middleware.LoginRequiredMiddleware",
    "stepwise.accounts.middleware.MembershipMiddleware",
    "stepwise.core.middleware.RoutePermissionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stepwise.core.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "stepwise.urls"
WSGI_APPLICATION = "stepwise.wsgi.application"

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
                "stepwise.accounts.context_processors.membership",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'stepwise.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside a writer; FULL syncs every commit to disk.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
        # Take the write lock at BEGIN so two writers never deadlock on upgrade.
        "transaction_mode": "IMMEDIATE",
    }
    # A file (not memory) so the browser tests' live server shares it; one per
    # test run, so two runs on one machine never write to the same file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "care:census"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_AGE = env_int("STEPWISE_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("STEPWISE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The app serves its own assets (no CDN); finders avoid a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("STEPWISE_LOG_LEVEL", "WARNING")},
}

PATIENTS_PER_PAGE = 25
API_TOKEN_DEFAULT_DAYS = env_int("STEPWISE_API_TOKEN_DAYS", 90)
# How long an emergency (break-glass) access to a chart lasts.
BREAK_GLASS_MINUTES = env_int("STEPWISE_BREAK_GLASS_MINUTES", 60)
