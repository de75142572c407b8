"""The pipeline's quality gates and tests. `nox -l` lists them; `nox` runs the defaults.

Facts (Python versions, settings modules) come from pyproject.toml through
`pipeline.facts`; shared install logic is `install()` below.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import nox
import nox.command

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import console, containers, downloads, entry, interpreters, lockfiles, sessions
from pipeline.actions import validate
from pipeline.errors import UserError
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
    "coverage",
    "assets",
    "build",
    "tooling",
]
# The audit covers the production dependencies plus the dev group (which includes every tool group).
AUDITED_GROUPS = ["dev"]
ACTIONLINT_GO_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"


def install(session: nox.Session, *groups: str, production: bool = True) -> None:
    """Install dependency groups exactly as locked in uv.lock, plus the production
    dependencies unless `production=False` (tool-only sessions). With the uv backend
    `uv sync` does it; with virtualenv, pip installs the same pins from a hashed export."""
    if session.venv_backend != "uv":
        requirements = Path(session.create_tmp()) / "requirements.txt"
        export = sessions.uv_export_args(groups, production=production, output=requirements)
        run_downloading(session, *export, install=True)
        session.install("--require-hashes", "--no-deps", "-r", str(requirements), env=ca_env(session))
        return
    args = sessions.uv_sync_args(groups) if production else sessions.uv_sync_only_groups_args(groups)
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_PYTHON": str(session.python)}
    run_downloading(session, *args, install=True, env=env)


def ca_env(session: nox.Session) -> dict[str, str]:
    """BUILD_CA_BUNDLE (a TLS-intercepting proxy's CA) for uv, pip and npm on this machine too."""
    with user_errors(session):
        return downloads.ca_env()


def run_downloading(session: nox.Session, *args: str, install: bool = False, env: Mapping[str, str] = {}) -> None:
    """Run a command that fetches packages (uv, npm), showing its output afterwards. A failure
    that `pipeline.downloads` recognises (a stale uv.lock, TLS interception) ends the session
    with its fix instead of the tool's own hint."""
    runner = session.run_install if install else session.run
    failed: nox.command.CommandFailed | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        try:
            runner(*args, env={**ca_env(session), **env}, external=True, stdout=log)
        except nox.command.CommandFailed as error:
            failed = error
        log.seek(0)
        output = log.read()
    sys.stdout.write(output)
    sys.stdout.flush()
    if failed is None:
        return
    explained = downloads.explain(output, f"`{' '.join(args[:2])}`")
    if explained is not None:
        session.error(str(explained))
    raise failed


@contextlib.contextmanager
def user_errors(session: nox.Session) -> Iterator[None]:
    """A UserError from the pipeline package ends the session with its one paragraph."""
    try:
        yield
    except UserError as error:
        session.error(str(error))


def finish(session: nox.Session, line: str, markdown: str | None = None) -> None:
    """The session's last line for a person; a markdown section on GitHub."""
    console.success(f"{session.name}: {line}")
    console.step_summary(f"### {session.name}\n\n{markdown or line}")


def run_tests(session: nox.Session, database_url: str | None = None) -> None:
    install(session, "test")
    env = sessions.django_env(FACTS, "testing", {"COVERAGE_FILE": sessions.coverage_data_file(session.name)})
    if database_url:
        env["DATABASE_URL"] = database_url
    session.run("python", "backend/manage.py", "makemigrations", "--check", "--dry-run", env=env)
    session.run("coverage", "run", "-m", "pytest", *session.posargs, env=env)
    finish(session, "tests passed" + (" on PostgreSQL" if database_url else ""))


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def lint(session: nox.Session) -> None:
    """Ruff lint rules (pyproject.toml), Django and security rules included."""
    install(session, "lint", production=False)
    session.run("ruff", "check", *session.posargs, ".")
    finish(session, "ruff found no problems")


@nox.session(name="format", python=FACTS.newest_python, allow_parallel=True)
def format_(session: nox.Session) -> None:
    """Check formatting with ruff format (changes nothing; see `fix`)."""
    install(session, "lint", production=False)
    session.run("ruff", "format", "--check", "--diff", *session.posargs, ".")
    finish(session, "every file is formatted")


@nox.session(python=FACTS.newest_python, default=False)
def fix(session: nox.Session) -> None:
    """Apply ruff's safe lint fixes and format every file (not run by CI)."""
    install(session, "lint", production=False)
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")
    finish(session, "fixes applied")


@nox.session(python=PYTHONS, allow_parallel=True)
def mypy(session: nox.Session) -> None:
    """Strict type check of the backend and the tooling, with the Django plugin."""
    install(session, "typing")
    env = sessions.django_env(
        FACTS, "production", sessions.throwaway_production_env(static_root="unused", database_url="sqlite://:memory:")
    )
    cache = f".mypy_cache/{session.python}"
    session.run("mypy", "--cache-dir", cache, *session.posargs, *sessions.PYTHON_SOURCES, env=env)
    finish(session, f"no type errors on Python {session.python}")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def bandit(session: nox.Session) -> None:
    """Bandit security scan of the backend and tooling; SARIF in reports/bandit.sarif."""
    install(session, "lint", production=False)
    Path("reports").mkdir(exist_ok=True)
    common = ["-c", "pyproject.toml", "-r", *sessions.PYTHON_SOURCES]
    session.run("bandit", *common, "--format", "sarif", "--output", "reports/bandit.sarif", "--exit-zero", "--quiet")
    session.run("bandit", *common, "--quiet", *session.posargs)
    finish(session, "no findings (SARIF: reports/bandit.sarif)")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def workflows(session: nox.Session) -> None:
    """Workflows, compose, Dockerfile agree with the facts; GitHub's parser, zizmor, schemas, actionlint."""
    install(session, "tooling", "workflows", production=False)
    session.run("python", "-m", "pipeline.drift", env={"PYTHONPATH": "."})
    workflow_files = sorted(str(path) for path in Path(".github/workflows").glob("*.yml"))
    session.run("zizmor", "--offline", "--strict-collection", "--quiet", ".")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflow_files)
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml")
    with user_errors(session):  # GitHub's own workflow parser (Node 20+), pinned in pipeline/actions/node/
        node = validate.find_node()
        with sessions.exclusive("github-actions-node"):
            if not validate.installed_matches_lock():
                with session.chdir(validate.NODE_DIR):
                    session.run(*validate.NPM_CI, external=True)
        parser_errors = validate.validate(workflow_files, node=node)
    if parser_errors:
        session.error("GitHub's workflow parser rejects:\n" + "\n".join(map(str, parser_errors)))
    # What `invoke ci` would run differently from GitHub is refused here, with its file:line.
    session.run("python", "-m", "pipeline.actions.support", *workflow_files, env={"PYTHONPATH": "."})
    if shutil.which("actionlint"):
        session.run("actionlint", external=True)
        actionlint = "actionlint clean"
    elif os.environ.get("GITHUB_ACTIONS") == "true":  # Go is on GitHub's runners; the module is checksummed
        session.run("go", "run", ACTIONLINT_GO_MODULE, external=True)
        actionlint = "actionlint clean"
    else:
        actionlint = "actionlint is not installed here, so it did not run (on GitHub this session runs it)"
    finish(session, f"no drift; GitHub's parser, zizmor and the JSON schemas accept the workflows; {actionlint}")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def audit(session: nox.Session) -> None:
    """pip-audit --strict of the locked production and dev dependencies (OSV); Safety too with SAFETY_API_KEY."""
    install(session, "audit", production=False)
    requirements = Path("reports/audit-requirements.txt")
    requirements.parent.mkdir(exist_ok=True)
    run_downloading(session, *sessions.uv_export_args(AUDITED_GROUPS, production=True, output=requirements))
    session.run("python", "-m", "pipeline.audit", str(requirements), *session.posargs, env={"PYTHONPATH": "."})
    if not os.environ.get("SAFETY_API_KEY"):
        finish(session, "no known vulnerabilities in the locked dependencies (Safety skipped: no SAFETY_API_KEY)")
        return
    # Safety is locked and hashed in the audit group; `safety scan` reads the requirements files of a folder.
    target = Path(session.create_tmp()) / "safety"
    target.mkdir(exist_ok=True)
    shutil.copyfile(requirements, target / "requirements.txt")
    session.run("safety", "scan", "--target", str(target))
    finish(session, "no known vulnerabilities in the locked dependencies (pip-audit and Safety)")


@nox.session(python=PYTHONS, tags=["tests"])
def tests(session: nox.Session) -> None:
    """Backend tests with coverage (SQLite, or DATABASE_URL when set) and a migrations check."""
    run_tests(session)


@nox.session(python=FACTS.newest_python, default=False)
def tests_postgres(session: nox.Session) -> None:
    """Backend tests against a throwaway PostgreSQL started from the local binaries."""
    with throwaway_postgres() as database_url:
        run_tests(session, database_url)


@nox.session(python=FACTS.newest_python, tags=["coverage"])
def coverage(session: nox.Session) -> None:
    """Combine the tests sessions' coverage, write HTML/XML/JSON, enforce fail_under."""
    install(session, "test", production=False)
    session.run("coverage", "combine", "--keep", "--quiet")
    for report in ("html", "xml", "json"):
        session.run("coverage", report, "--quiet", "--fail-under=0")
    table = session.run("coverage", "report", "--format=markdown", "--fail-under=0", silent=True)
    console.step_summary(f"### Coverage\n\n{table}")
    session.run("coverage", "report")


@nox.session(python=False, allow_parallel=True)
def assets(session: nox.Session) -> None:
    """Tailwind CSS for the templates (npm ci, minified); fails when the build produces nothing."""
    # `build` runs this session too; under `invoke ci` both jobs share this checkout.
    with sessions.exclusive("frontend"), session.chdir("frontend"):
        if not validate.installed_matches_lock(Path()):
            run_downloading(session, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
        session.run("npm", "run", "--silent", "build", external=True)
    with user_errors(session):
        css = sessions.check_built_css(Path("frontend/dist/app.css"))
    finish(session, f"frontend/dist/app.css built ({css} bytes, minified)")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def templates(session: nox.Session) -> None:
    """djLint over the Django templates (config in pyproject.toml)."""
    install(session, "templates", production=False)
    session.run("djlint", "backend", "--lint", *session.posargs)
    finish(session, "templates lint clean")


@nox.session(python=FACTS.image.python, requires=["assets"])
def build(session: nox.Session) -> None:
    """Production deps only: check --deploy, collectstatic, check_config, sdist + wheel."""
    install(session)
    workdir = Path(session.create_tmp())
    env = sessions.django_env(
        FACTS,
        "production",
        sessions.throwaway_production_env(
            static_root=str(workdir / "static"), database_url=f"sqlite:///{workdir / 'db.sqlite3'}"
        ),
    )
    manage = ["python", "backend/manage.py"]
    session.run(*manage, "check", "--deploy", "--fail-level", "WARNING", env=env)
    session.run(*manage, "collectstatic", "--noinput", "--verbosity", "0", env=env)
    with user_errors(session):
        sessions.check_manifest_has(workdir / "static" / "staticfiles.json", "app.css")
    session.run(*manage, "check_config", env=env)
    run_downloading(session, "uv", "build", "--quiet", "--out-dir", "dist")
    finish(session, "production settings, static files and packages build with production dependencies only")


@nox.session(python=FACTS.newest_python)
def tooling(session: nox.Session) -> None:
    """Tests of the `pipeline` package that the noxfile and tasks.py are built on."""
    install(session, "tooling", "test", "audit", production=False)
    session.run("pytest", "-p", "no:django", *(session.posargs or ["pipeline/tests", "pipeline/actions/tests"]))


@nox.session(python=False, default=False)
def lock(session: nox.Session) -> None:
    """Re-lock uv.lock (`-- -P NAME` upgrades one package), re-export requirements/, write compose/.env."""
    run_downloading(session, "uv", "lock", *session.posargs)
    for path, group in lockfiles.EXPORTS.items():
        session.run(*lockfiles.export_command(group, path), external=True)
    if containers.write_compose_env(FACTS):
        session.log(f"{containers.COMPOSE_ENV_FILE} rewritten from the facts")
    finish(session, f"uv.lock, requirements/ and {containers.COMPOSE_ENV_FILE} are in sync")
