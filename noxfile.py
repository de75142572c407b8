"""The pipeline's quality gates and tests. `nox -l` lists them; `nox` runs the defaults.

Facts (Python versions, settings modules) come from pyproject.toml through
`pipeline.facts`; what a session does is in `pipeline.session_steps`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import compose_settings, entry, interpreters, lockfiles, sessions
from pipeline import session_steps as steps
from pipeline.facts import load
from pipeline.postgres import throwaway_postgres

with entry.user_errors():  # an incomplete facts table: one paragraph and exit 1, even for `nox -l`
    FACTS = load()
PYTHONS = list(FACTS.python_versions)

# Each Python the sessions need, found where people keep them (PATH, pyenv's versions, uv's),
# linked into .cache/pythons/ and put first on PATH: no PYENV_VERSION to export.
FOUND, MISSING = interpreters.expose(PYTHONS, FACTS.root, os.environ)
if interpreters.downloads_allowed(os.environ):
    for version in MISSING:
        print(
            f"nox: Python {version} is not on this machine; uv will download it when a session needs it.",
            file=sys.stderr,
        )
else:
    # On CI, or with UV_PYTHON_DOWNLOADS=never/manual: nothing is downloaded, a missing one fails at once.
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    nox.options.download_python = "never"
# A version still missing when a session needs it: one paragraph with this machine's command, last.
interpreters.report_missing_at_exit(os.environ)

nox.needs_version = ">=2026.8.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_venv = "yes"
# `nox` with no arguments: everything CI blocks on, cheapest first.
nox.options.sessions = [
    "lint",
    "format",
    "templates",
    "mypy",
    "bandit",
    "workflows",
    "audit",
    "tests",
    "assets",
    "build",
    "tooling",
    "coverage",  # last: it combines what the tests and tooling sessions of this run measured
]


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def lint(session: nox.Session) -> None:
    """Ruff lint rules (pyproject.toml), Django and security rules included."""
    steps.install(session, "lint", production=False)
    steps.run_tool(session, FACTS, "lint")
    steps.finish(session, "ruff found no problems")


@nox.session(name="format", python=FACTS.newest_python, allow_parallel=True)
def format_(session: nox.Session) -> None:
    """Check formatting with ruff format (changes nothing; see `fix`)."""
    steps.install(session, "lint", production=False)
    steps.run_tool(session, FACTS, "format")
    steps.finish(session, "every file is formatted")


@nox.session(python=FACTS.newest_python, default=False)
def fix(session: nox.Session) -> None:
    """Apply ruff's safe lint fixes and format every file, then fail naming what is left (not run by CI)."""
    steps.fix(session)


@nox.session(python=PYTHONS, allow_parallel=True)
def mypy(session: nox.Session) -> None:
    """Strict type check of the backend and the tooling, with the Django plugin."""
    steps.install(session, "typing")
    steps.run_tool(session, FACTS, "mypy")
    steps.finish(session, f"no type errors on Python {session.python}")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def bandit(session: nox.Session) -> None:
    """Bandit security scan of the backend and tooling: one run, its SARIF in reports/, its findings listed."""
    steps.bandit(session, FACTS)


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def workflows(session: nox.Session) -> None:
    """Workflows, compose, Dockerfile agree with the facts; GitHub's parser, zizmor, schemas, actionlint."""
    steps.check_workflows(session, FACTS)


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def audit(session: nox.Session) -> None:
    """pip-audit --strict of the locked production and dev dependencies (OSV); Safety too with SAFETY_API_KEY."""
    steps.audit(session)


@nox.session(python=PYTHONS, tags=["tests"])
def tests(session: nox.Session) -> None:
    """Backend tests with coverage (SQLite, or DATABASE_URL when set) and a migrations check."""
    steps.run_tests(session, FACTS)


@nox.session(python=FACTS.newest_python, default=False)
def tests_postgres(session: nox.Session) -> None:
    """Backend tests against a throwaway PostgreSQL started from the local binaries."""
    with entry.user_errors(session), throwaway_postgres() as database_url:
        steps.run_tests(session, FACTS, database_url)


@nox.session(python=FACTS.newest_python, tags=["coverage"])
def coverage(session: nox.Session) -> None:
    """Combine this run's coverage: the backend's (HTML/XML/JSON, fail_under) and the pipeline's (its own threshold)."""
    steps.combine_coverage(session, FACTS)


@nox.session(python=False, allow_parallel=True)
def assets(session: nox.Session) -> None:
    """Tailwind CSS for the templates (npm ci, minified); fails when the build produces nothing."""
    steps.build_assets(session)


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def templates(session: nox.Session) -> None:
    """djLint over the Django templates (config in pyproject.toml)."""
    steps.install(session, "templates", production=False)
    steps.run_tool(session, FACTS, "templates")
    steps.finish(session, "templates lint clean")


@nox.session(python=FACTS.image.python, requires=["assets"])
def build(session: nox.Session) -> None:
    """Production deps only: check --deploy, collectstatic, check_config, sdist + wheel."""
    steps.check_build(session, FACTS)


@nox.session(python=FACTS.newest_python)
@nox.parametrize(
    ("tier", "shard"),
    [nox.param(tier, shard, id=name, tags=tags) for name, (tier, shard, tags) in sessions.tooling_sessions().items()],
)
def tooling(session: nox.Session, tier: sessions.Tier, shard: str) -> None:
    """Tests of the `pipeline` package, a tier (or a share of one) each, measuring the pipeline's coverage."""
    steps.pipeline_tests(session, tier, shard)


@nox.session(python=False, default=False)
def lock(session: nox.Session) -> None:
    """Re-lock uv.lock (`-- -P NAME` upgrades one package), re-export requirements/, write compose/.env."""
    steps.run_downloading(session, "uv", "lock", *session.posargs)
    for path, group in lockfiles.EXPORTS.items():
        session.run(*lockfiles.export_command(group, path), external=True)
    if compose_settings.write_compose_env(FACTS):
        session.log(f"{compose_settings.COMPOSE_ENV_FILE} rewritten from the facts")
    steps.finish(session, f"uv.lock, requirements/ and {compose_settings.COMPOSE_ENV_FILE} are in sync")
