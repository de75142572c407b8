"""Every setting read from the environment, read here: typed, and with every problem collected.

A settings module reads through one `Reader`; a value that cannot be used becomes a `Problem` (the
variable, what it holds with secrets and passwords hidden, the form it needs) and the reader goes on
with a safe default, so `manage.py check_config` and the image's entrypoint can list every problem at
once instead of stopping at the first traceback. The development and testing settings refuse to start
with any (`fail_on_problems`); production leaves them to `check_config`, which the entrypoint runs
before serving. Every variable read here is documented in `.env.example`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
BOOLEAN_FORM = "one of " + ", ".join(sorted(TRUE_WORDS | FALSE_WORDS - {""}))
DATABASE_FORM = "a database URL such as postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:///PATH"
CACHE_SCHEMES = ("redis://", "rediss://", "unix://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LONGEST_SHOWN = 80


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


def hide_password(url: str) -> str:
    """A URL with its password replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
        parts = None
    if parts is None or password is None:
        head, at, tail = url.rpartition("@")
        if not at or "://" not in head:
            return url
        scheme, _, credentials = head.partition("://")
        user = credentials.partition(":")[0]
        return f"{scheme}://{user}:***@{tail}"
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}").geturl()


@dataclass(frozen=True)
class Problem:
    """One variable that cannot be used: what it holds (shown safely) and the form it needs."""

    variable: str
    needs: str
    holds: str | None = None  # None: missing
    why: str = ""

    def __str__(self) -> str:
        if self.holds is None:
            return f"{self.variable} is missing: set it to {self.needs}."
        why = f" ({self.why})" if self.why else ""
        return f"{self.variable}={self.holds} cannot be used{why}: it needs {self.needs}."


@dataclass
class Reader:
    """Typed reads of one environment; `problems` holds every value that could not be used."""

    environ: Mapping[str, str] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def source(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def raw(self, name: str) -> str:
        return self.source.get(name, "").strip()

    def shown(self, name: str, *, secret: bool = False) -> str:
        """What a variable holds, as a problem may show it: a secret never, a URL without its password."""
        value = self.raw(name)
        if secret:
            return f"<a secret of {len(value)} characters, not shown>"
        value = hide_password(value)
        return repr(value if len(value) <= LONGEST_SHOWN else value[:LONGEST_SHOWN] + "...")

    def complain(self, name: str, needs: str, *, why: str = "", secret: bool = False) -> None:
        holds = self.shown(name, secret=secret) if self.raw(name) else None
        problem = Problem(name, needs, holds, why)
        if problem not in self.problems:  # a variable read twice (base, then testing) is one problem
            self.problems.append(problem)

    def text(self, name: str, default: str = "") -> str:
        return self.raw(name) or default

    def required(self, name: str, needs: str, default: str = "") -> str:
        """A value that must be set (a missing one is a problem)."""
        value = self.raw(name)
        if not value:
            self.complain(name, needs)
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name).lower()
        if not value:
            return default
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        self.complain(name, BOOLEAN_FORM)
        return default

    def integer(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.raw(name)
        if not value:
            return default
        top = "" if maximum is None else f" and at most {maximum}"
        needs = f"a whole number of at least {minimum}{top}"
        try:
            number = int(value)
        except ValueError:
            self.complain(name, needs)
            return default
        if number < minimum or (maximum is not None and number > maximum):
            self.complain(name, needs)
            return default
        return number

    def listing(self, name: str, default: str = "") -> list[str]:
        """A comma-separated list; blanks are dropped."""
        return [item.strip() for item in (self.raw(name) or default).split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: Iterable[str]) -> str:
        allowed = list(choices)
        value = self.raw(name).upper() or default
        if value not in allowed:
            self.complain(name, "one of " + ", ".join(allowed))
            return default
        return value

    def database(self, name: str, default_url: str, conn_max_age: int) -> dict[str, Any]:
        """DATABASES['default'] from the URL in `name` (or `default_url`); a URL dj-database-url cannot read
        (an unknown scheme, a port that is not a number) is a problem, and the default is used meanwhile."""
        url = self.raw(name) or default_url
        try:
            return dict(dj_database_url.parse(url, conn_max_age=conn_max_age))
        except ValueError as error:  # ParseError and UnknownSchemeError are ValueErrors
            why = "unknown scheme" if isinstance(error, dj_database_url.UnknownSchemeError) else "unreadable"
            self.complain(name, DATABASE_FORM, why=why)
            return dict(dj_database_url.parse(default_url, conn_max_age=conn_max_age))

    def cache(self, name: str) -> str:
        """A Redis URL, or '' (unset: the process's own memory)."""
        url = self.raw(name)
        if url and not url.startswith(CACHE_SCHEMES):
            self.complain(name, "a Redis URL starting with " + ", ".join(CACHE_SCHEMES))
            return ""
        if url:
            try:
                urlsplit(url).port  # noqa: B018 -- reading it checks it
            except ValueError:
                self.complain(name, "a Redis URL such as redis://HOST:6379/0", why="its port is not a number")
                return ""
        return url


def fail_on_problems(reader: Reader, settings: str) -> None:
    """Development and testing start only with a usable environment: one message listing every problem."""
    if reader.problems:
        listed = "\n".join(f"  - {problem}" for problem in reader.problems)
        raise ImproperlyConfigured(
            f"{settings}: {len(reader.problems)} environment variable(s) cannot be used; fix or unset them "
            f"(see .env.example):\n{listed}"
        )


# The single readers of one variable, for code outside a settings module.


def get_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    return Reader(environ).text(name, default)


def get_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    reader = Reader(environ)
    value = reader.boolean(name, default)
    if reader.problems:
        raise EnvError(str(reader.problems[0]))
    return value


def get_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    reader = Reader(environ)
    value = reader.integer(name, default)
    if reader.problems:
        raise EnvError(str(reader.problems[0]))
    return value


def get_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    return Reader(environ).listing(name, default)
