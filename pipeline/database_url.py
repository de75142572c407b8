"""DATABASE_URL, checked once before the backend's tests start: a database that is not there is one
paragraph naming the variable (its password hidden) and the fix, not one connection error per test."""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from pipeline.errors import UserError

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "postgis": 5432, "pgsql": 5432, "mysql": 3306, "mariadb": 3306}
CONNECT_SECONDS = 3.0
FORM = "postgres://USER:PASSWORD@HOST:PORT/NAME (or sqlite:///PATH)"

Connect = Callable[[tuple[str, int], float], object]


def redacted(url: str) -> str:
    """The URL with its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) of a server database; None for SQLite or a Unix socket. A port that is not a number
    is one paragraph."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in DEFAULT_PORTS or not parts.hostname or unquote(parts.hostname).startswith("/"):
        return None
    try:
        port = parts.port
    except ValueError:
        raise UserError(
            f"DATABASE_URL={redacted(url)}: its port is not a number between 0 and 65535",
            f"write it as {FORM}",
        ) from None
    return parts.hostname, port or DEFAULT_PORTS[scheme]


def check_reachable(url: str, connect: Connect = socket.create_connection) -> None:
    """Nothing when the database's server accepts a connection (or it is SQLite); else one paragraph."""
    where = endpoint(url)
    if where is None:
        return
    host, port = where
    try:
        connection = connect((host, port), CONNECT_SECONDS)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UserError(
            f"DATABASE_URL={redacted(url)}: nothing answers at {host}:{port} ({reason}), so no test could reach "
            "the database",
            "start that database server (or correct DATABASE_URL), unset DATABASE_URL to test on SQLite, or run "
            "`nox -s tests_postgres`, which starts a throwaway PostgreSQL itself",
        ) from None
    close = getattr(connection, "close", None)
    if close is not None:
        close()
