"""The production configuration, read from the environment and validated.

`read_production_config` never raises: it returns usable values plus the list
of every problem it found, so `manage.py check_config` can name all of them in
one message instead of stopping at the first traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ops import env, serving

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5
SECRET_KEY_FORM = (
    f'{MIN_SECRET_KEY_LENGTH}+ random characters (python -c "import secrets; print(secrets.token_urlsafe(50))")'
)


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
    """Read the production variables; return the config and every problem found (one line each: the
    variable, what it holds with secrets hidden, the form it needs)."""
    reader = env.Reader(environ)
    secret_key = reader.required("DJANGO_SECRET_KEY", SECRET_KEY_FORM)
    if secret_key and (
        len(secret_key) < MIN_SECRET_KEY_LENGTH
        or len(set(secret_key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or secret_key.startswith("django-insecure-")
    ):
        reader.complain("DJANGO_SECRET_KEY", SECRET_KEY_FORM, why="too weak", secret=True)
    allowed_hosts = reader.listing("DJANGO_ALLOWED_HOSTS")
    if not allowed_hosts:
        reader.complain("DJANGO_ALLOWED_HOSTS", "a comma-separated list of host names, such as api.example.com")
    csrf_trusted_origins = reader.listing("DJANGO_CSRF_TRUSTED_ORIGINS")
    if any(not origin.startswith(("http://", "https://")) for origin in csrf_trusted_origins):
        reader.complain(
            "DJANGO_CSRF_TRUSTED_ORIGINS", "origins with their scheme, such as https://api.example.com", why="no scheme"
        )
    database_url = reader.required("DATABASE_URL", env.DATABASE_FORM)
    if database_url:
        before = len(reader.problems)
        reader.database("DATABASE_URL", "sqlite://:memory:", conn_max_age=0)
        if len(reader.problems) > before:
            database_url = ""
    reader.cache("REDIS_URL")
    serving.read(reader)  # gunicorn's settings: listed here with the rest, read again by gunicorn.conf.py
    config = ProductionConfig(
        secret_key=secret_key,
        allowed_hosts=allowed_hosts,
        csrf_trusted_origins=csrf_trusted_origins,
        database_url=database_url,
        ssl_redirect=reader.boolean("DJANGO_SECURE_SSL_REDIRECT", True),
        hsts_seconds=reader.integer("DJANGO_SECURE_HSTS_SECONDS", 31_536_000),
        behind_tls_proxy=reader.boolean("DJANGO_BEHIND_TLS_PROXY", True),
        log_level=reader.choice("DJANGO_LOG_LEVEL", "INFO", env.LOG_LEVELS),
    )
    return config, [str(problem) for problem in reader.problems]
