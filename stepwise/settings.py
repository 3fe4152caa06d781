"""Stepwise settings, read from the environment through typed helpers.

Nothing here needs editing to run: `make run` works with the defaults, and a
production deployment sets the variables named below.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp

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
DEV_SECRET_KEY = "stepwise-development-only-secret-key-change-me-0123456789"  # noqa: S105 (refused in production) # nosec B105
DEV_AUDIT_KEY = "stepwise-development-only-audit-hmac-key"

DEBUG = env_bool("STEPWISE_DEBUG", False)
SECRET_KEY = env_str("STEPWISE_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = [
    h for h in env_str("STEPWISE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("STEPWISE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# The key of the audit log's hash chain (HMAC-SHA256). Rotate only with a verified chain.
AUDIT_HMAC_KEY = env_str("STEPWISE_AUDIT_KEY", DEV_AUDIT_KEY)
# Fernet keys of the encrypted model fields, comma-separated: the first encrypts, all
# decrypt. Never stored in the database; docs/operations.md says how to rotate them.
# The development key (base64 of "stepwise-dev-only-field-key-0001") is refused by
# `check --deploy`.
DEV_FIELD_KEY = "c3RlcHdpc2UtZGV2LW9ubHktZmllbGQta2V5LTAwMDE="
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in env_str("STEPWISE_FIELD_KEYS", DEV_FIELD_KEY).split(",") if k.strip()
]
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",
    "csp",
    "stepwise.core",
    "stepwise.accounts",
    "stepwise.patients",
    "stepwise.care",
    "stepwise.instruments",
    "stepwise.withdrawal",
    "stepwise.intake",
    "stepwise.scheduling",
    "stepwise.notes",
    "stepwise.recovery",
    "stepwise.plans",
    "stepwise.aftercare",
    "stepwise.residences",
    "stepwise.privacy",
    "stepwise.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "stepwise.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "stepwise.core.middleware.RequestIdMiddleware",
    "stepwise.core.middleware.DisplayZoneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "stepwise.core.middleware.LoginRequiredMiddleware",
    "stepwise.accounts.middleware.MembershipMiddleware",
    "stepwise.accounts.middleware.SessionPolicyMiddleware",
    "stepwise.accounts.middleware.SecondFactorMiddleware",
    "stepwise.accounts.middleware.TemporaryPasswordMiddleware",
    "stepwise.core.middleware.RoutePermissionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stepwise.core.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "stepwise.privacy.context_processors.reviews_waiting",
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

# Argon2id for new and changed passwords; the others only read hashes made before it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Length over composition rules (NIST SP 800-63B); common and breached passwords are
# refused from the list Django ships.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout per account and address together: a guesser is stopped without letting
# anyone lock a colleague out from elsewhere. Unknown usernames count the same way,
# so the lockout says nothing about which accounts exist.
AXES_FAILURE_LIMIT = env_int("STEPWISE_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STEPWISE_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout do not push its end further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "stepwise.accounts.views.locked_out"
# The address the server saw; a client-sent X-Forwarded-For is not trusted.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# The audit log records every sign-in already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Staff must pass a second factor (TOTP) before anything else; the demo turns it off.
REQUIRE_MFA = env_bool("STEPWISE_REQUIRE_MFA", True)
OTP_TOTP_ISSUER = env_str("STEPWISE_OTP_ISSUER", "Stepwise")
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "care:census"
LOGOUT_REDIRECT_URL = "accounts:login"

# Enforced by accounts.middleware.SessionPolicyMiddleware from the session's own
# timestamps: idle sign-out, and a hard limit counted from the password sign-in.
IDLE_MINUTES = env_int("STEPWISE_IDLE_MINUTES", 15)
SESSION_HOURS = env_int("STEPWISE_SESSION_HOURS", 12)
# The idle warning shows this long before the idle sign-out.
IDLE_WARNING_SECONDS = env_int("STEPWISE_IDLE_WARNING_SECONDS", 120)
# A password entered this recently lets a sensitive action through without asking again.
REAUTH_MINUTES = env_int("STEPWISE_REAUTH_MINUTES", 5)
SESSION_COOKIE_AGE = SESSION_HOURS * 3600
# Shared clinic workstations: closing the browser ends the session.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("STEPWISE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Forms carry the CSRF token; no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Every script and style comes from Stepwise itself (no CDN, no inline code), the
# API docs page (django-ninja's bundled Swagger UI) included; script tags carry the
# request's nonce (core.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

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
# Keep the X-Request-ID a reverse proxy sets (only behind a proxy that overwrites it).
TRUST_REQUEST_ID = env_bool("STEPWISE_TRUST_REQUEST_ID", False)
# How long an emergency (break-glass) access to a chart lasts.
BREAK_GLASS_MINUTES = env_int("STEPWISE_BREAK_GLASS_MINUTES", 60)
