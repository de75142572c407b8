"""The settings the compose files read, from the facts: what `invoke check-container --mode stack` and
`invoke dev-stack` pass to compose, and compose/.env, which `nox -s lock` writes and `nox -s workflows`
(drift) compares. No Docker here: drift reads these facts without importing the engine's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline.facts import Facts

COMPOSE_FILE = Path("compose/ci.yaml")
DEV_COMPOSE_FILE = Path("compose/dev.yaml")
# Compose reads `.env` from the folder of the first file it is given, so plain
# `docker compose -f compose/dev.yaml up` finds the settings module there (the
# images it builds from the Dockerfile's stages, which name the versions).
# Written by `nox -s lock` (write_compose_env), compared by `nox -s workflows` (drift).
COMPOSE_ENV_FILE = Path("compose/.env")
COMPOSE_ENV_HEADER = """\
# Written from pyproject.toml's [tool.pipeline] table by `nox -s lock`: change the
# table, then run it (`nox -s workflows` fails while this file differs from it).
# Compose reads it for `docker compose -f compose/dev.yaml ...` (your shell's
# variables win); `invoke dev-stack` passes the same value itself.
"""


def compose_env_values(facts: Facts) -> dict[str, str]:
    """What compose/dev.yaml reads besides the Dockerfile: the development settings module."""
    return {"DJANGO_SETTINGS_MODULE": facts.settings.development}


def compose_env_text(facts: Facts) -> str:
    """compose/.env as `nox -s lock` writes it."""
    return COMPOSE_ENV_HEADER + "".join(f"{key}={value}\n" for key, value in compose_env_values(facts).items())


def write_compose_env(facts: Facts) -> bool:
    """Write compose/.env from the facts; True when it changed."""
    path = facts.root / COMPOSE_ENV_FILE
    text = compose_env_text(facts)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def compose_environment(facts: Facts, image: str, secret_key: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """What compose/*.yaml read: the single-source facts, the image, a throw-away key."""
    return {
        "POSTGRES_IMAGE": facts.services.postgres,
        "REDIS_IMAGE": facts.services.redis,
        "DJANGO_SETTINGS_MODULE": facts.settings.production,
        "BACKEND_IMAGE": image,
        "DJANGO_SECRET_KEY": secret_key,
        **overrides,
    }
