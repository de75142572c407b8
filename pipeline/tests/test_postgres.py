from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline import postgres
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
        answer = subprocess.run(
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
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert answer.stdout.strip() == "probe_db", answer.stderr
    after = subprocess.run(
        [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", port], capture_output=True, check=False, timeout=30
    )
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
