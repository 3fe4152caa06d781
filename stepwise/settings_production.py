"""Production settings: `DJANGO_SETTINGS_MODULE=stepwise.settings_production`.

The defaults of stepwise.settings with HTTPS-only cookies, HSTS, an HTTPS redirect,
MFA required, and no development keys: Stepwise refuses to start unless every
secret below is given, as NAME or as NAME_FILE (a path to a file holding it).
docs/operations.md lists the variables.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from stepwise.settings import *  # noqa: F403
from stepwise.settings import DEV_AUDIT_KEY, DEV_SECRET_KEY, env_bool, env_int, env_str

REQUIRED = (
    "STEPWISE_SECRET_KEY",
    "STEPWISE_AUDIT_KEY",
    "STEPWISE_FIELD_KEYS",
    "STEPWISE_ALLOWED_HOSTS",
)


def _required(name: str) -> str:
    value = env_str(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is required in production: set it, or {name}_FILE to a file holding it."
        )
    return value


_given = {name: _required(name) for name in REQUIRED}
if _given["STEPWISE_SECRET_KEY"] == DEV_SECRET_KEY:
    raise ImproperlyConfigured("STEPWISE_SECRET_KEY is the development key.")
if _given["STEPWISE_AUDIT_KEY"] == DEV_AUDIT_KEY:
    raise ImproperlyConfigured("STEPWISE_AUDIT_KEY is the development key.")

DEBUG = False
WHITENOISE_AUTOREFRESH = False
SECRET_KEY = _given["STEPWISE_SECRET_KEY"]
AUDIT_HMAC_KEY = _given["STEPWISE_AUDIT_KEY"]
# STEPWISE_FIELD_KEYS is parsed by stepwise.settings; here it only has to be given.
ALLOWED_HOSTS = [h.strip() for h in _given["STEPWISE_ALLOWED_HOSTS"].split(",") if h.strip()]

REQUIRE_MFA = True

# HTTPS only. Behind a proxy that terminates TLS, name the header it sets
# (STEPWISE_PROXY_SSL_HEADER=X-Forwarded-Proto) so Django knows the request was
# secure, and make sure the proxy overwrites that header from clients.
SECURE_SSL_REDIRECT = env_bool("STEPWISE_SSL_REDIRECT", True)
_proxy_header = env_str("STEPWISE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_header.upper().replace("-", "_").removeprefix("HTTP_"),
        "https",
    )
SECURE_HSTS_SECONDS = env_int("STEPWISE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
