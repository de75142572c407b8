"""The production configuration, read from the environment and validated.

`read_production_config` never raises: it returns usable values plus the list
of every problem it found, so `manage.py check_config` can name all of them in
one message instead of stopping at the first traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import dj_database_url

from ops import env

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class ProductionConfig:
    secret_key: str = ""
    allowed_hosts: list[str] = field(default_factory=list)
    csrf_trusted_origins: list[str] = field(default_factory=list)
    database_url: str = ""
    ssl_redirect: bool = True
    hsts_seconds: int = 31_536_000
    behind_tls_proxy: bool = True
    log_level: str = "INFO"


def read_production_config(
    environ: Mapping[str, str] | None = None,
) -> tuple[ProductionConfig, list[str]]:
    """Read the production variables; return the config and every problem found."""
    source = os.environ if environ is None else environ
    problems: list[str] = []

    secret_key = env.get_str("DJANGO_SECRET_KEY", environ=source)
    if not secret_key:
        problems.append("DJANGO_SECRET_KEY is missing: set it to a random string of 50+ characters.")
    elif (
        len(secret_key) < MIN_SECRET_KEY_LENGTH
        or len(set(secret_key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or secret_key.startswith("django-insecure-")
    ):
        problems.append(
            "DJANGO_SECRET_KEY is too weak: use 50+ random characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )

    allowed_hosts = env.get_list("DJANGO_ALLOWED_HOSTS", environ=source)
    if not allowed_hosts:
        problems.append("DJANGO_ALLOWED_HOSTS is missing: a comma-separated list of host names.")

    csrf_trusted_origins = env.get_list("DJANGO_CSRF_TRUSTED_ORIGINS", environ=source)
    bad_origins = [o for o in csrf_trusted_origins if not o.startswith(("http://", "https://"))]
    if bad_origins:
        problems.append(f"DJANGO_CSRF_TRUSTED_ORIGINS entries need a scheme (https://...): {', '.join(bad_origins)}.")

    database_url = env.get_str("DATABASE_URL", environ=source)
    if not database_url:
        problems.append("DATABASE_URL is missing: e.g. postgres://user:password@host:5432/name.")
    else:
        try:
            dj_database_url.parse(database_url)
        except ValueError as error:
            problems.append(f"DATABASE_URL cannot be used ({error}).")

    redis_url = env.get_str("REDIS_URL", environ=source)
    if redis_url and not redis_url.startswith(REDIS_SCHEMES):
        problems.append(f"REDIS_URL must start with one of {', '.join(REDIS_SCHEMES)}.")

    def read_bool(name: str, default: bool) -> bool:
        try:
            return env.get_bool(name, default, environ=source)
        except env.EnvError as error:
            problems.append(f"{error}.")
            return default

    def read_int(name: str, default: int) -> int:
        try:
            return env.get_int(name, default, environ=source)
        except env.EnvError as error:
            problems.append(f"{error}.")
            return default

    ssl_redirect = read_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    behind_tls_proxy = read_bool("DJANGO_BEHIND_TLS_PROXY", True)
    hsts_seconds = read_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)
    log_level = env.get_str("DJANGO_LOG_LEVEL", "INFO", environ=source).upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        problems.append(f"DJANGO_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {log_level!r}.")
        log_level = "INFO"

    config = ProductionConfig(
        secret_key=secret_key,
        allowed_hosts=allowed_hosts,
        csrf_trusted_origins=csrf_trusted_origins,
        database_url=database_url,
        ssl_redirect=ssl_redirect,
        hsts_seconds=hsts_seconds,
        behind_tls_proxy=behind_tls_proxy,
        log_level=log_level,
    )
    return config, problems
