"""Production: everything from the environment, hardened, no dev-only imports.

An incomplete environment still imports (so `manage.py check_config` can name
every problem at once); the entrypoint runs that check before serving.
"""

from __future__ import annotations

from ops.production_config import read_production_config

from .base import *  # noqa: F403
from .base import LOGGING

PRODUCTION, PRODUCTION_PROBLEMS = read_production_config()

DEBUG = False
SECRET_KEY = PRODUCTION.secret_key
ALLOWED_HOSTS = PRODUCTION.allowed_hosts
CSRF_TRUSTED_ORIGINS = PRODUCTION.csrf_trusted_origins
if PRODUCTION.database_url and not any("DATABASE_URL" in problem for problem in PRODUCTION_PROBLEMS):
    import dj_database_url

    DATABASES = {"default": dict(dj_database_url.parse(PRODUCTION.database_url, conn_max_age=60))}
else:
    DATABASES = {}
# CACHES: base's, from REDIS_URL (which check_config validates).

SECURE_SSL_REDIRECT = PRODUCTION.ssl_redirect
# Probes come over plain HTTP from inside the container or the orchestrator.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if PRODUCTION.behind_tls_proxy:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = PRODUCTION.hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Base's logging, at the validated level (an unknown DJANGO_LOG_LEVEL is reported by check_config, not fatal here).
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": PRODUCTION.log_level}}
