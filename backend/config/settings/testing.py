"""Tests: SQLite in memory unless DATABASE_URL is set, fast password hashing."""

from __future__ import annotations

from ops import env

from .base import *  # noqa: F403
from .base import ENVIRONMENT, database_from_env

SECRET_KEY = "testing-only-key-never-used-in-production-0123456789abcdef"  # noqa: S105  # nosec B105 -- a key for the test suite only
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DATABASES = {"default": database_from_env("sqlite://:memory:")}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

env.fail_on_problems(ENVIRONMENT, __name__)
