"""API tokens: stored as a hash only, made by `create_api_token`, printed once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from access.models import ApiToken, token_digest

pytestmark = pytest.mark.django_db
BACKEND_DIR = Path(__file__).resolve().parents[2]


def stored_values(row: ApiToken) -> list[str]:
    return [str(getattr(row, field.attname)) for field in ApiToken._meta.concrete_fields]


def test_only_a_hash_of_the_token_is_stored() -> None:
    row, token = ApiToken.issue("ci")
    row.refresh_from_db()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest() == token_digest(token)
    assert not any(token in value for value in stored_values(row))
    assert len(token) >= 43  # 32 random bytes, URL-safe


def test_authenticate_finds_the_token_and_only_it() -> None:
    row, token = ApiToken.issue("ci")
    ApiToken.issue("other")
    assert ApiToken.authenticate(token) == row
    assert ApiToken.authenticate(token + "x") is None
    assert ApiToken.authenticate(row.digest) is None  # the stored hash is not a credential


def test_create_api_token_prints_the_token_once_and_stores_its_hash() -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "--name", "stack-check", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert len(out.getvalue().strip().splitlines()) == 1
    assert token not in err.getvalue()
    assert "shown once" in err.getvalue()
    row = ApiToken.objects.get(name="stack-check")
    assert row.digest == token_digest(token)
    assert ApiToken.authenticate(token) == row


def test_create_api_token_refuses_a_name_in_use() -> None:
    ApiToken.issue("ci")
    with pytest.raises(CommandError, match="A token named 'ci' exists"):
        call_command("create_api_token", "--name", "ci", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_api_token_refuses_an_unusable_name(name: str) -> None:
    with pytest.raises(CommandError, match="--name must be 1 to 100 characters"):
        call_command("create_api_token", "--name", name, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_from_the_command_line_prints_only_the_token_on_stdout(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"]
    subprocess.run(migrate, cwd=BACKEND_DIR, env=env, check=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", "--name", "cli"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 1
    assert "Bearer" not in result.stdout
