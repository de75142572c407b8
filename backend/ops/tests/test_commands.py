from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ops.management.commands.wait_for_db import backoff_delays

BACKEND_DIR = Path(__file__).resolve().parents[2]
PRODUCTION_VARIABLES = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
COMPLETE = {
    "DJANGO_SECRET_KEY": "s3cret-" + "abcdefghij" * 6,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://app:pw@db:5432/app",
}


def clear_production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DJANGO_", "DATABASE_", "REDIS_")) and name != "DJANGO_SETTINGS_MODULE":
            monkeypatch.delenv(name)


def test_check_config_names_every_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_production_env(monkeypatch)
    with pytest.raises(CommandError) as raised:
        call_command("check_config")
    message = str(raised.value)
    assert "3 problem(s)" in message
    for name in PRODUCTION_VARIABLES:
        assert f"{name} is missing: set it to" in message


def test_check_config_passes_on_a_complete_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_production_env(monkeypatch)
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    out = StringIO()
    call_command("check_config", stdout=out)
    assert "complete" in out.getvalue()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "DJANGO_SECRET_KEY",
            "short",
            r"DJANGO_SECRET_KEY=<a secret of 5 characters, not shown> cannot be used \(too weak\)",
        ),
        ("DJANGO_SECRET_KEY", "django-insecure-" + "x1y2z3" * 10, r"DJANGO_SECRET_KEY=<a secret .* \(too weak\)"),
        (
            "DATABASE_URL",
            "nosuchdb://host/name",
            r"DATABASE_URL='nosuchdb://host/name' cannot be used \(unknown scheme\)",
        ),
        (
            "DATABASE_URL",
            "postgres://app:pw@db:port/app",
            r"DATABASE_URL='postgres://app:\*\*\*@db:port/app' cannot be used",
        ),
        (
            "REDIS_URL",
            "http://cache:6379",
            "REDIS_URL='http://cache:6379' cannot be used: it needs a Redis URL starting",
        ),
        (
            "DJANGO_CSRF_TRUSTED_ORIGINS",
            "api.example.com",
            r"DJANGO_CSRF_TRUSTED_ORIGINS='api.example.com' .* \(no scheme\)",
        ),
        ("DJANGO_SECURE_SSL_REDIRECT", "maybe", "DJANGO_SECURE_SSL_REDIRECT='maybe' cannot be used: it needs one of"),
        (
            "DJANGO_SECURE_HSTS_SECONDS",
            "a year",
            "DJANGO_SECURE_HSTS_SECONDS='a year' cannot be used: it needs a whole",
        ),
        ("DJANGO_LOG_LEVEL", "LOUD", "DJANGO_LOG_LEVEL='LOUD' cannot be used: it needs one of DEBUG"),
    ],
)
def test_check_config_names_an_invalid_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    clear_production_env(monkeypatch)
    for key, good in COMPLETE.items():
        monkeypatch.setenv(key, good)
    monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match="1 problem") as raised:
        call_command("check_config")
    assert re.search(expected, str(raised.value)), raised.value
    assert "pw@" not in str(raised.value)


@pytest.mark.django_db
def test_wait_for_db_returns_when_the_database_answers() -> None:
    out = StringIO()
    call_command("wait_for_db", "--timeout", "1", stdout=out)
    assert "is available" in out.getvalue()


def test_backoff_doubles_up_to_a_ceiling() -> None:
    delays = backoff_delays(0.25, 2.0)
    assert [next(delays) for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BACKEND_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_wait_for_db_times_out_with_one_clear_line() -> None:
    url = f"postgres://nobody@127.0.0.1:{closed_port()}/none"
    result = run_manage("wait_for_db", "--timeout", "2", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "was not reachable within 2s" in lines[0]
    assert "Check DATABASE_URL" in lines[0]


def test_check_config_from_the_command_line_exits_1_without_traceback() -> None:
    blank = dict.fromkeys((*PRODUCTION_VARIABLES, "REDIS_URL"), "")
    result = run_manage("check_config", env=blank)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for name in PRODUCTION_VARIABLES:
        assert name in result.stderr


def test_every_malformed_value_is_listed_at_once_without_a_traceback() -> None:
    """A production environment with a malformed value of every kind: check_config lists them all, each with
    what it holds (the password and the key hidden) and the form it needs, and exits 1."""
    malformed = {
        **COMPLETE,
        "DJANGO_SETTINGS_MODULE": os.environ["PIPELINE_SETTINGS_PRODUCTION"],
        "DJANGO_SECRET_KEY": "too-short-and-secret",
        "DATABASE_URL": "postgres://app:hunter2@db:not-a-port/app",
        "DATABASE_CONN_MAX_AGE": "forever",
        "REDIS_URL": "redis://cache:port/0",
        "DJANGO_ALLOWED_HOSTS": " , ",
        "DJANGO_SECURE_SSL_REDIRECT": "maybe",
        "DJANGO_SECURE_HSTS_SECONDS": "-1",
        "DJANGO_LOG_LEVEL": "LOUD",
        "WEB_CONCURRENCY": "lots",
        "GUNICORN_TIMEOUT": "0",
    }
    result = run_manage("check_config", env=malformed)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for variable in set(malformed) - {"DJANGO_SETTINGS_MODULE"}:
        assert f"  - {variable}" in result.stderr, (variable, result.stderr)
    assert "10 problem(s)" in result.stderr
    assert "hunter2" not in result.stderr
    assert "too-short-and-secret" not in result.stderr
