"""Settings shared by every environment. Values come from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_stubs_ext
from ops import env

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Every variable of every settings module is read through this reader; what cannot be used is in
# ENVIRONMENT.problems (see ops.env): development and testing refuse it, production's check_config lists it.
ENVIRONMENT = env.Reader()

SECRET_KEY = ENVIRONMENT.text("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS: list[str] = ENVIRONMENT.listing("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS: list[str] = ENVIRONMENT.listing("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ops",
    "access",
    "catalog",
]

MIDDLEWARE = [
    "ops.middleware.LivenessMiddleware",
    "ops.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# The largest request body the API reads (ops.middleware.ApiErrorsMiddleware answers 413 above it).
API_MAX_BODY_BYTES = ENVIRONMENT.integer("API_MAX_BODY_BYTES", 65_536, minimum=1_024, maximum=10_485_760)
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env(default_url: str) -> dict[str, Any]:
    """DATABASES['default'] from DATABASE_URL (or the given default)."""
    return ENVIRONMENT.database("DATABASE_URL", default_url, ENVIRONMENT.integer("DATABASE_CONN_MAX_AGE", 60))


def cache_from_env() -> dict[str, Any]:
    """CACHES['default']: Redis when REDIS_URL is set, else this process's memory."""
    redis_url = ENVIRONMENT.cache("REDIS_URL")
    if redis_url:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


DATABASES = {"default": database_from_env(f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
CACHES = {"default": cache_from_env()}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Compiled front-end assets (Tailwind CSS): `nox -s assets` or the image's assets stage.
ASSETS_DIR = Path(ENVIRONMENT.text("DJANGO_ASSETS_DIR") or BASE_DIR.parent / "frontend" / "dist")
STATICFILES_DIRS = [ASSETS_DIR] if ASSETS_DIR.is_dir() else []
STATIC_ROOT = Path(ENVIRONMENT.text("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The readiness probe reports each dependency by this name.
READINESS_CHECKS = ("database", "cache")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": ENVIRONMENT.choice("DJANGO_LOG_LEVEL", "INFO", env.LOG_LEVELS)},
}
