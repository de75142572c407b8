from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from pipeline import postgres, processes
from pipeline.conftest import RunNox
from pipeline.errors import UserError


@pytest.fixture
def bin_dir() -> Path:
    """The local PostgreSQL binaries; skipped where there are none, but on CI their absence fails."""
    try:
        return postgres.find_bin_dir()
    except UserError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {error}")
        pytest.skip(str(error))


@pytest.mark.tools
def test_throwaway_postgres_serves_then_disappears(bin_dir: Path) -> None:
    with postgres.throwaway_postgres("probe_db") as url:
        port = url.rsplit(":", 1)[1].split("/")[0]
        answer = processes.run(
            [
                str(bin_dir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                port,
                "-U",
                "postgres",
                "-d",
                "probe_db",
                "-tAc",
                "select current_database()",
            ],
            timeout=30,
        )
        assert answer.stdout.strip() == "probe_db", answer.stderr
    after = processes.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", port], timeout=30)
    assert after.returncode != 0  # stopped
    assert not list(Path(tempfile.gettempdir()).glob("throwaway-pg-*/data/postmaster.pid"))


def test_find_bin_dir_prefers_pg_bin(tmp_path: Path) -> None:
    for name in postgres.REQUIRED_TOOLS:
        (tmp_path / name).write_text("")
    assert postgres.find_bin_dir({"PG_BIN": str(tmp_path), "PATH": ""}) == tmp_path


def test_no_binaries_is_a_user_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres, "SEARCH_GLOB", str(tmp_path / "nothing-*"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="No PostgreSQL server binaries"):
        postgres.find_bin_dir({"PATH": str(tmp_path)})


def test_a_pg_bin_without_the_binaries_is_a_user_error_not_another_postgresql(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"PG_BIN=.* does not hold the PostgreSQL server binaries"):
        postgres.find_bin_dir({"PG_BIN": str(tmp_path), "PATH": os.environ.get("PATH", "")})


@pytest.mark.tools
def test_tests_postgres_without_binaries_is_one_paragraph(run_nox: RunNox, tmp_path: Path) -> None:
    """The nox front door: no traceback, the fix named, exit 1, before any test runs."""
    result = run_nox("-s", "tests_postgres", env={"PG_BIN": str(tmp_path)}, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "does not hold the PostgreSQL server binaries" in output
    assert "Fix: point PG_BIN at the folder" in output
