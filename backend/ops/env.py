"""Typed readers of environment variables, shared by every settings module.

Every variable read here is documented in `.env.example`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


def get_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    source = os.environ if environ is None else environ
    return source.get(name, default).strip()


def get_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    raw = get_str(name, "", environ).lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise EnvError(f"{name} must be one of {sorted(TRUE_WORDS | FALSE_WORDS - {''})}, got {raw!r}")


def get_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    raw = get_str(name, "", environ)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvError(f"{name} must be an integer, got {raw!r}") from None


def get_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    return [item.strip() for item in get_str(name, default, environ).split(",") if item.strip()]
