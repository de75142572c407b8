"""The pipeline's quality gates and tests. `nox -l` lists them; `nox` runs the defaults.

Facts (Python versions, settings modules) come from pyproject.toml through
`pipeline.facts`; shared install logic is `install()` below.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import console, sessions  # noqa: E402
from pipeline.facts import load  # noqa: E402
from pipeline.postgres import throwaway_postgres  # noqa: E402

FACTS = load()
PYTHONS = list(FACTS.python_versions)

# A missing interpreter must be a clear error, never a silent download.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.needs_version = ">=2026.8.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "coverage", "tooling"]

for version in sessions.missing_interpreters(PYTHONS):
    print(
        f"nox: Python {version} is not available; its sessions will fail. Fix: "
        + sessions.MISSING_INTERPRETER_FIX.format(version=version),
        file=sys.stderr,
    )


def install(session: nox.Session, *groups: str, production: bool = True) -> None:
    """Install dependency groups exactly as locked in uv.lock, plus the production
    dependencies unless `production=False` (tool-only sessions)."""
    args = sessions.uv_sync_args(groups) if production else sessions.uv_sync_only_groups_args(groups)
    session.run_install(
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_PYTHON": str(session.python)},
        external=True,
    )


def run_tests(session: nox.Session, database_url: str | None = None) -> None:
    install(session, "test")
    env = sessions.django_env(FACTS, "testing", {"COVERAGE_FILE": sessions.coverage_data_file(session.name)})
    if database_url:
        env["DATABASE_URL"] = database_url
    session.run("python", "backend/manage.py", "makemigrations", "--check", "--dry-run", env=env)
    session.run("coverage", "run", "-m", "pytest", *session.posargs, env=env)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Backend tests with coverage (SQLite, or DATABASE_URL when set) and a migrations check."""
    run_tests(session)


@nox.session(python=FACTS.newest_python, default=False)
def tests_postgres(session: nox.Session) -> None:
    """Backend tests against a throwaway PostgreSQL started from the local binaries."""
    with throwaway_postgres() as database_url:
        run_tests(session, database_url)


@nox.session(python=FACTS.newest_python)
def coverage(session: nox.Session) -> None:
    """Combine the tests sessions' coverage, write HTML/XML/JSON, enforce fail_under."""
    install(session, "test", production=False)
    session.run("coverage", "combine", "--keep", "--quiet")
    for report in ("html", "xml", "json"):
        session.run("coverage", report, "--quiet", "--fail-under=0")
    table = session.run("coverage", "report", "--format=markdown", "--fail-under=0", silent=True)
    console.step_summary(f"### Coverage\n\n{table}")
    session.run("coverage", "report")


@nox.session(python=FACTS.newest_python)
def tooling(session: nox.Session) -> None:
    """Tests of the `pipeline` package that the noxfile and tasks.py are built on."""
    install(session, "tooling", "test", production=False)
    session.run("pytest", "pipeline/tests", "-p", "no:django", *session.posargs)
