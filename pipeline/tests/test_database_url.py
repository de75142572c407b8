"""DATABASE_URL checked before the tests: its password hidden, its server asked once."""

from __future__ import annotations

import socket

import pytest

from pipeline import database_url
from pipeline.errors import UserError


def test_the_password_is_hidden_and_the_rest_kept() -> None:
    url = "postgres://app:s3cr%40t@db.example:6543/backend?sslmode=require"
    assert database_url.redacted(url) == "postgres://app:***@db.example:6543/backend?sslmode=require"
    assert database_url.redacted("sqlite:///tmp/x.sqlite3") == "sqlite:///tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:6543/n", ("db", 6543)),
        ("postgresql://u@db/n", ("db", 5432)),
        ("postgis://db/n", ("db", 5432)),
        ("mysql://u:p@127.0.0.1/n", ("127.0.0.1", 3306)),
        ("sqlite:///tmp/db.sqlite3", None),
        ("sqlite://:memory:", None),
        ("postgres://%2Fvar%2Frun%2Fpostgresql/n", None),
        ("", None),
    ],
)
def test_the_server_a_url_names(url: str, expected: tuple[str, int] | None) -> None:
    assert database_url.endpoint(url) == expected


def test_a_port_that_is_not_a_number_is_one_paragraph_without_the_password() -> None:
    with pytest.raises(UserError) as raised:
        database_url.endpoint("postgres://app:hunter2@db:five/n")
    assert "its port is not a number" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_closed_port_is_named_with_the_fix() -> None:
    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        with pytest.raises(UserError) as raised:
            database_url.check_reachable(f"postgres://app:hunter2@127.0.0.1:{port}/backend")
    message = str(raised.value)
    assert f"DATABASE_URL=postgres://app:***@127.0.0.1:{port}/backend: nothing answers at 127.0.0.1:{port}" in message
    assert "unset DATABASE_URL to test on SQLite" in message
    assert "hunter2" not in message


def test_a_listening_server_and_sqlite_pass() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        database_url.check_reachable(f"postgres://u@127.0.0.1:{server.getsockname()[1]}/n")
    database_url.check_reachable("sqlite:///nowhere/db.sqlite3")
