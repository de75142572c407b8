"""The audit: allow-list rules, and real pip-audit against a local OSV fixture server."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

from pipeline import audit, processes, sessions
from pipeline.conftest import RunNox
from pipeline.errors import UserError
from pipeline.facts import ROOT
from pipeline.tests.osv_fixture import advisory, osv_server

TODAY = dt.date(2026, 11, 21)
FIXTURE_ID = "GHSA-fixt-ure0-0001"


def locked_version(package: str) -> str:
    match = re.search(rf'name = "{package}"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text())
    assert match, package
    return match.group(1)


def django_advisories() -> dict[tuple[str, str], list[dict[str, object]]]:
    version = locked_version("django")
    return {("django", version): [advisory(FIXTURE_ID, "django", "99.0", "Fixture: a flaw in Django")]}


@pytest.fixture(scope="module")
def requirements(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "requirements.txt"
    processes.run(
        sessions.uv_export_args(["dev"], production=True, output=path), cwd=ROOT, capture=False
    ).check_returncode()
    return path


def run_audit(requirements: Path, *args: str) -> processes.Completed:
    return processes.run([sys.executable, "-m", "pipeline.audit", str(requirements), *args], cwd=ROOT, timeout=300)


def write_allowlist(path: Path, expires: str, advisory_id: str = FIXTURE_ID) -> Path:
    path.write_text(f'[[advisory]]\nid = "{advisory_id}"\nreason = "fixture"\nexpires = {expires}\n')
    return path


# --- allow-list rules -------------------------------------------------------


def test_valid_allowlist_entries_are_read(tmp_path: Path) -> None:
    entries = audit.load_allowlist(write_allowlist(tmp_path / "a.toml", "2027-01-01"), TODAY)
    assert entries == [audit.AllowedAdvisory(FIXTURE_ID, "fixture", dt.date(2027, 1, 1))]


def test_an_expired_entry_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=f"{FIXTURE_ID} expired on 2026-01-01"):
        audit.load_allowlist(write_allowlist(tmp_path / "a.toml", "2026-01-01"), TODAY)


def test_an_entry_without_reason_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[[advisory]]\nid = "X"\nexpires = 2027-01-01\n')
    with pytest.raises(UserError, match="entry 1 lacks reason"):
        audit.load_allowlist(path, TODAY)


def test_the_committed_allowlist_is_valid() -> None:
    audit.load_allowlist(ROOT / "audit-allowlist.toml", dt.date.today())


def test_command_is_strict_and_uses_the_mirror() -> None:
    command = audit.pip_audit_command(
        Path("r.txt"), [audit.AllowedAdvisory("X-1", "r", TODAY)], "http://mirror/v1/query"
    )
    assert "--strict" in command
    assert command[command.index("--osv-url") + 1] == "http://mirror/v1/query"
    assert command[command.index("--ignore-vuln") + 1] == "X-1"


def test_unreachable_and_unlookupable_are_explained() -> None:
    assert "could not be reached" in str(audit.explain_failure("requests.exceptions.ConnectionError: ...", None))
    not_found = "ERROR:pip_audit._cli:asgiref: Dependency not found on PyPI and could not be audited: asgiref (3.1)"
    assert "could not be looked up (asgiref" in str(audit.explain_failure(not_found, None))
    assert audit.explain_failure("Found 1 known vulnerability", None) is None


# --- real pip-audit, fixture advisories -------------------------------------


@pytest.mark.tools
def test_clean_fixture_passes(requirements: Path, tmp_path: Path) -> None:
    with osv_server({}) as url:
        result = run_audit(requirements, "--osv-url", url, "--allowlist", str(tmp_path / "none.toml"))
    assert result.returncode == 0, result.stderr
    assert "audit: passed" in result.stdout


@pytest.mark.tools
def test_a_vulnerable_pin_fails_naming_it(requirements: Path, tmp_path: Path) -> None:
    with osv_server(django_advisories()) as url:
        result = run_audit(requirements, "--osv-url", url, "--allowlist", str(tmp_path / "none.toml"))
    assert result.returncode == 1
    assert FIXTURE_ID in result.stdout
    assert "django" in result.stdout.lower()
    assert "vulnerable dependencies found" in result.stderr


@pytest.mark.tools
def test_an_allowlisted_advisory_passes_until_it_expires(requirements: Path, tmp_path: Path) -> None:
    with osv_server(django_advisories()) as url:
        allowed = run_audit(
            requirements, "--osv-url", url, "--allowlist", str(write_allowlist(tmp_path / "ok.toml", "2099-01-01"))
        )
        expired = run_audit(
            requirements, "--osv-url", url, "--allowlist", str(write_allowlist(tmp_path / "old.toml", "2020-01-01"))
        )
    assert allowed.returncode == 0, allowed.stderr
    assert expired.returncode == 1
    assert f"{FIXTURE_ID} expired on 2020-01-01" in expired.stderr


@pytest.mark.tools
def test_an_unreachable_service_fails_in_one_line(requirements: Path, tmp_path: Path) -> None:
    with osv_server({}) as url:
        pass  # the server is gone: its port is closed now
    result = run_audit(requirements, "--osv-url", url, "--allowlist", str(tmp_path / "none.toml"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "could not be reached, so nothing was audited" in result.stderr


def test_the_nox_session_fails_on_a_vulnerable_pin(run_nox: RunNox) -> None:
    with osv_server(django_advisories()) as url:
        result = run_nox("-s", "audit", "--", "--osv-url", url)
    assert result.returncode != 0
    assert FIXTURE_ID in result.stdout + result.stderr


@pytest.mark.tools
def test_safety_is_locked_and_hashed_in_the_audit_group(tmp_path: Path) -> None:
    exported = tmp_path / "audit.txt"
    export = sessions.uv_export_args(["audit"], production=False, output=exported)
    processes.run(export, cwd=ROOT, capture=False).check_returncode()
    pins = exported.read_text()
    assert "\nsafety==" in pins
    assert "--hash=sha256:" in pins.split("\nsafety==", 1)[1].split("\n", 2)[1]


def test_without_a_safety_key_the_session_notes_it_and_downloads_nothing(run_nox: RunNox) -> None:
    with osv_server({}) as url:
        result = run_nox("-s", "audit", "--", "--osv-url", url, env={"SAFETY_API_KEY": ""})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Safety skipped: no SAFETY_API_KEY" in output
    assert "safety scan" not in output
    assert "uvx" not in output


# Every service Safety knows, pointed at a closed local port: nothing leaves this machine.
LOCAL_SAFETY = {
    f"SAFETY_{name}": "http://127.0.0.1:9"
    for name in (
        "PLATFORM_API_BASE_URL",
        "DATA_API_BASE_URL",
        "AUTH_SERVER_URL",
        "PLATFORM_URL",
        "PLATFORM_V2_URL",
        "FIREWALL_API_BASE_URL",
    )
}


@pytest.mark.cost(8)
def test_with_a_safety_key_the_locked_safety_runs(run_nox: RunNox) -> None:
    with osv_server({}) as url:
        env = {"SAFETY_API_KEY": "not-a-real-key", **LOCAL_SAFETY}
        result = run_nox("-s", "audit", "--", "--osv-url", url, env=env)
    output = result.stdout + result.stderr
    assert "nox > safety scan --target" in output  # the audit venv's own, installed from the lock
    assert "uvx" not in output
