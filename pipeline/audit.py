"""Dependency vulnerability audit: pip-audit --strict over the locked requirements.

Run inside the audit session's venv (`python -m pipeline.audit REQUIREMENTS`).
Standard library only, so it works in any environment that has pip-audit.

- The allow-list (`audit-allowlist.toml`) needs an id, a reason and an expiry
  date per entry; an expired or incomplete entry fails the audit.
- `--osv-url` (or AUDIT_OSV_URL) points at an OSV mirror.
- An advisory service that cannot be reached is a failure with one line,
  never a pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import processes
from pipeline.entry import user_errors
from pipeline.errors import UserError

DEFAULT_ALLOWLIST = Path("audit-allowlist.toml")
UNREACHABLE_MARKERS = (
    "ConnectionError",
    "ConnectTimeout",
    "Could not connect",
    "Max retries exceeded",
    "NameResolutionError",
    "Failed to establish a new connection",
    "ProxyError",
    "SSLError",
    "ServiceError",
)
NOT_AUDITED = re.compile(r"([\w.-]+): Dependency not found on PyPI and could not be audited")


@dataclass(frozen=True)
class AllowedAdvisory:
    id: str
    reason: str
    expires: dt.date


def load_allowlist(path: Path, today: dt.date) -> list[AllowedAdvisory]:
    """Entries of the allow-list; any incomplete or expired entry is a UserError."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("advisory", [])
    allowed: list[AllowedAdvisory] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in ("id", "reason", "expires") if not entry.get(key)]
        if missing:
            problems.append(f"entry {number} lacks {', '.join(missing)}")
            continue
        expires = entry["expires"]
        if not isinstance(expires, dt.date):
            problems.append(f"{entry['id']}: expires must be a date (YYYY-MM-DD), got {expires!r}")
            continue
        if expires < today:
            problems.append(f"{entry['id']} expired on {expires.isoformat()}")
            continue
        allowed.append(AllowedAdvisory(str(entry["id"]), str(entry["reason"]), expires))
    if problems:
        raise UserError(
            f"{path.name} has entries that no longer hold: {'; '.join(problems)}",
            "upgrade the package so the advisory no longer applies, or renew the entry with a new reason and date",
        )
    return allowed


def pip_audit_command(requirements: Path, allowed: Sequence[AllowedAdvisory], osv_url: str | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--strict",  # a package that cannot be looked up fails instead of passing silently
        "--disable-pip",
        "--require-hashes",
        "-r",
        str(requirements),
        "--vulnerability-service",
        "osv",
        "--progress-spinner",
        "off",
    ]
    if osv_url:
        command += ["--osv-url", osv_url]
    for advisory in allowed:
        command += ["--ignore-vuln", advisory.id]
    return command


def explain_failure(output: str, osv_url: str | None) -> UserError | None:
    """The problem, when pip-audit failed for something that is not a finding (service unreachable)."""
    where = osv_url or "https://api.osv.dev"
    if any(marker in output for marker in UNREACHABLE_MARKERS):
        return UserError(
            f"audit: the advisory service ({where}) could not be reached, so nothing was audited",
            "allow access to it, or point --osv-url / AUDIT_OSV_URL at your OSV mirror",
        )
    not_audited = NOT_AUDITED.findall(output)
    if not_audited:
        return UserError(
            f"audit: {len(not_audited)} package(s) could not be looked up ({', '.join(not_audited[:5])}...), "
            "so the audit cannot pass",
            "check access to the advisory service or your mirror",
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.audit", description=__doc__.splitlines()[0])
    parser.add_argument("requirements", type=Path, help="hashed requirements exported from uv.lock")
    parser.add_argument("--allowlist", type=Path, default=DEFAULT_ALLOWLIST)
    parser.add_argument("--osv-url", default=os.environ.get("AUDIT_OSV_URL") or None)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)
    with user_errors():
        allowed = load_allowlist(args.allowlist, args.today)
        result = processes.run(pip_audit_command(args.requirements, allowed, args.osv_url))
        output = result.stdout + result.stderr
        if result.returncode == 0:
            print(result.stdout.strip() or "No known vulnerabilities found")
            print(f"audit: passed ({len(allowed)} allow-listed advisory id(s)).")
            return 0
        explained = explain_failure(output, args.osv_url)
        if explained is not None:
            raise explained
        print(output.strip())
        raise UserError("audit: vulnerable dependencies found (above)", "upgrade them in uv.lock (uv lock -P NAME)")


if __name__ == "__main__":
    raise SystemExit(main())
