"""The pipeline's quality gates and tests. `nox -l` lists them; `nox` runs the defaults.

Facts (Python versions, settings modules) come from pyproject.toml through
`pipeline.facts`; shared install logic is `install()` below.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nox
import nox.command

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import (
    console,
    containers,
    coverage_data,
    downloads,
    entry,
    interpreters,
    lockfiles,
    runner_programs,
    sessions,
)
from pipeline import workflows as pipeline_workflows
from pipeline.actions import validate
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
# The audit covers the production dependencies plus the dev group (which includes every tool group).
AUDITED_GROUPS = ["dev"]
ACTIONLINT_GO_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"
# The run whose coverage data a combine takes: GitHub's (also invoke ci's), else this nox command.
COVERAGE_RUN = coverage_data.run_id(os.environ)


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
    with entry.user_errors(session):
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


def runner_programs_here(session: nox.Session) -> None:
    """What the session takes from GitHub's runner image (Node.js, Chromium) is on this machine, or one
    paragraph with its install command, before any work."""
    with entry.user_errors(session):
        runner_programs.require(session.name)


def run_tool(session: nox.Session, gate: str, success_codes: list[int] | None = None, silent: bool = False) -> None:
    """The gate's tool command (the table `invoke bench` measures too), with the session's arguments; a
    failure ends with the gate's fix (`sessions.GATE_FIXES`), one line after the tool's own output."""
    command, env = sessions.tool_command(gate, FACTS, str(session.python), session.posargs)
    try:
        session.run(*command, env=env, success_codes=success_codes, silent=silent)
    except nox.command.CommandFailed:
        session.error(f"{gate}: {sessions.GATE_FIXES.get(gate, 'fix what the output above names')}")


def finish(session: nox.Session, line: str, markdown: str | None = None) -> None:
    """The session's last line for a person; a markdown section on GitHub."""
    console.success(f"{session.name}: {line}")
    console.step_summary(f"### {session.name}\n\n{markdown or line}")


def measured(session: nox.Session, measure: str) -> dict[str, str]:
    """COVERAGE_FILE of a session that measures; its data of earlier runs is erased first."""
    coverage_data.erase_session(Path(), measure, session.name)
    return {"COVERAGE_FILE": coverage_data.data_file(measure, COVERAGE_RUN, session.name)}


def run_tests(session: nox.Session, database_url: str | None = None) -> None:
    install(session, "test")
    pytest, env = sessions.tool_command("tests", FACTS, str(session.python), session.posargs)
    env.update(measured(session, "backend"))
    if database_url:
        env["DATABASE_URL"] = database_url
    session.run("python", "backend/manage.py", "makemigrations", "--check", "--dry-run", env=env)
    session.run(*pytest, env=env)
    finish(session, "tests passed" + (" on PostgreSQL" if database_url else ""))


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def lint(session: nox.Session) -> None:
    """Ruff lint rules (pyproject.toml), Django and security rules included."""
    install(session, "lint", production=False)
    run_tool(session, "lint")
    finish(session, "ruff found no problems")


@nox.session(name="format", python=FACTS.newest_python, allow_parallel=True)
def format_(session: nox.Session) -> None:
    """Check formatting with ruff format (changes nothing; see `fix`)."""
    install(session, "lint", production=False)
    run_tool(session, "format")
    finish(session, "every file is formatted")


@nox.session(python=FACTS.newest_python, default=False)
def fix(session: nox.Session) -> None:
    """Apply ruff's safe lint fixes and format every file, then fail naming what is left (not run by CI)."""
    install(session, "lint", production=False)
    session.run("ruff", "check", "--fix", "--exit-zero", "--quiet", ".")
    session.run("ruff", "format", "--quiet", ".")
    left = session.run("ruff", "check", *sessions.RUFF_LEFT_OVER, ".", silent=True)
    if str(left or "").strip():
        session.error(f"formatted and fixed what is safe; left for you to edit:\n{str(left).rstrip()}")
    finish(session, "safe fixes applied, every file formatted, nothing left")


@nox.session(python=PYTHONS, allow_parallel=True)
def mypy(session: nox.Session) -> None:
    """Strict type check of the backend and the tooling, with the Django plugin."""
    install(session, "typing")
    run_tool(session, "mypy")
    finish(session, f"no type errors on Python {session.python}")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def bandit(session: nox.Session) -> None:
    """Bandit security scan of the backend and tooling: one run, its SARIF in reports/, its findings listed."""
    install(session, "lint", production=False)
    sessions.BANDIT_SARIF.parent.mkdir(exist_ok=True)
    # 1: findings, listed below from the report; its own output (`nosec encountered` lines) only if it fails.
    run_tool(session, "bandit", success_codes=[0, 1], silent=True)
    with entry.user_errors(session):
        findings = sessions.bandit_findings(sessions.BANDIT_SARIF)
    if findings:
        session.error(f"bandit found {len(findings)} problem(s):\n" + "\n".join(findings))
    finish(session, f"no findings (SARIF: {sessions.BANDIT_SARIF})")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def workflows(session: nox.Session) -> None:
    """Workflows, compose, Dockerfile agree with the facts; GitHub's parser, zizmor, schemas, actionlint."""
    runner_programs_here(session)
    install(session, "tooling", "workflows", production=False)
    run_tool(session, "workflows")  # drift: the facts against every file that repeats them
    workflow_files = [str(path.relative_to(FACTS.root)) for path in pipeline_workflows.workflow_files(FACTS.root)]
    session.run("zizmor", "--offline", "--strict-collection", "--quiet", ".")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflow_files)
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml")
    with entry.user_errors(session):  # GitHub's own workflow parser (Node 20+), pinned in pipeline/actions/node/
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
    with entry.user_errors(session), throwaway_postgres() as database_url:
        run_tests(session, database_url)


@nox.session(python=FACTS.newest_python, tags=["coverage"])
def coverage(session: nox.Session) -> None:
    """Combine this run's coverage: the backend's (HTML/XML/JSON, fail_under) and the pipeline's (its own threshold)."""
    install(session, "test", production=False)
    with entry.user_errors(session):
        backend = coverage_data.for_run(Path(), "backend", COVERAGE_RUN, os.environ)
        pipeline = coverage_data.for_run(Path(), "pipeline", COVERAGE_RUN, os.environ)
    if not backend.files:
        session.error("no backend coverage data here: run a tests session first (nox -s tests-3.12 coverage)")
    Path("reports/coverage").mkdir(parents=True, exist_ok=True)
    data = {measure: ["--data-file", str(path)] for measure, path in coverage_data.COMBINED.items()}
    session.run("coverage", "combine", "--keep", "--quiet", *data["backend"], *map(str, backend.files))
    for report in ("html", "xml", "json"):
        session.run("coverage", report, *data["backend"], "--quiet", "--fail-under=0")
    fail_under = coverage_data.backend_fail_under(FACTS.root)
    lines = [coverage_summary(session, "backend", backend, fail_under, *data["backend"])]
    if pipeline.files:
        session.run("coverage", "combine", "--keep", "--quiet", *data["pipeline"], *map(str, pipeline.files))
        pipeline_under = coverage_data.PIPELINE_FAIL_UNDER
        lines.append(coverage_summary(session, "pipeline", pipeline, pipeline_under, *data["pipeline"]))
    else:
        lines.append(coverage_data.unmeasured_line("pipeline", os.environ))
    for line in lines:
        session.log(line)
    session.run("coverage", "report", *data["backend"])  # the backend's fail_under ([tool.coverage.report])
    if pipeline.files:
        session.run("coverage", "report", *data["pipeline"], f"--fail-under={coverage_data.PIPELINE_FAIL_UNDER}")
    finish(session, "; ".join(lines))


def coverage_summary(
    session: nox.Session, measure: str, selection: coverage_data.Selection, fail_under: float, *data: str
) -> str:
    """The measure's figure as one line, and its table in the GitHub job summary."""
    total = session.run("coverage", "report", *data, "--format=total", "--fail-under=0", silent=True)
    table = session.run("coverage", "report", *data, "--format=markdown", "--fail-under=0", silent=True)
    line = coverage_data.summary_line(measure, str(total).strip(), fail_under, selection)
    console.step_summary(f"### Coverage: {measure}\n\n{line}\n\n{table}")
    return line


@nox.session(python=False, allow_parallel=True)
def assets(session: nox.Session) -> None:
    """Tailwind CSS for the templates (npm ci, minified); fails when the build produces nothing."""
    runner_programs_here(session)
    # `build` runs this session too; under `invoke ci` both jobs share this checkout.
    with sessions.exclusive("frontend"), session.chdir("frontend"):
        if not validate.installed_matches_lock(Path()):
            run_downloading(session, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
        session.run("npm", "run", "--silent", "build", external=True)
    with entry.user_errors(session):
        css = sessions.check_built_css(Path("frontend/dist/app.css"))
    finish(session, f"frontend/dist/app.css built ({css} bytes, minified)")


@nox.session(python=FACTS.newest_python, allow_parallel=True)
def templates(session: nox.Session) -> None:
    """djLint over the Django templates (config in pyproject.toml)."""
    install(session, "templates", production=False)
    run_tool(session, "templates")
    finish(session, "templates lint clean")


@nox.session(python=FACTS.image.python, requires=["assets"])
def build(session: nox.Session) -> None:
    """Production deps only: check --deploy, collectstatic, check_config, sdist + wheel."""
    runner_programs_here(session)
    install(session)
    workdir = Path(session.create_tmp())
    deploy_check, env = sessions.tool_command("build", FACTS, str(session.python), workdir=workdir)
    manage = ["python", "backend/manage.py"]
    session.run(*deploy_check, env=env)
    session.run(*manage, "collectstatic", "--noinput", "--verbosity", "0", env=env)
    with entry.user_errors(session):
        sessions.check_manifest_has(workdir / "static" / "staticfiles.json", "app.css")
    session.run(*manage, "check_config", env=env)
    run_downloading(session, "uv", "build", "--quiet", "--out-dir", "dist")
    finish(session, "production settings, static files and packages build with production dependencies only")


@nox.session(python=FACTS.newest_python)
@nox.parametrize(
    ("tier", "shard"),
    [nox.param(tier, shard, id=name, tags=tags) for name, (tier, shard, tags) in sessions.tooling_sessions().items()],
)
def tooling(session: nox.Session, tier: str, shard: str) -> None:
    """Tests of the `pipeline` package, a tier (or a share of one) each, measuring the pipeline's coverage."""
    if os.environ.get("CI"):  # on CI every test runs (the browser tests too), as on GitHub's runner
        runner_programs_here(session)
    install(session, "tooling", "test", "audit", "oracles", production=False)
    # The tests folders, unless the arguments after `--` name tests themselves.
    given = any(Path(arg.split("::")[0]).exists() for arg in session.posargs if not arg.startswith("-"))
    tests = [] if given else list(sessions.TOOLING_TESTS)
    pytest = ["pytest", "-p", "no:django", "-m", tier, *(["--shard", shard] if shard else []), *tests]
    env = measured(session, "pipeline")
    # The copies' nox sessions keep their environments between runs, one folder per tooling session.
    env["PIPELINE_TEST_ENVDIR"] = str(Path(".cache/tooling-envs", coverage_data.token(session.name)).resolve())
    session.run("coverage", "run", *coverage_data.PIPELINE_RUN_OPTIONS, "-m", *pytest, *session.posargs, env=env)
    with entry.user_errors(session):
        so_far = coverage_data.for_run(Path(), "pipeline", COVERAGE_RUN, os.environ)
    data = ["--data-file", str(Path(session.create_tmp()) / ".coverage")]
    session.run("coverage", "combine", "--keep", "--quiet", *data, *map(str, so_far.files), silent=True)
    line = coverage_summary(session, "pipeline", so_far, coverage_data.PIPELINE_FAIL_UNDER, *data)
    share = f" (share {shard})" if shard else ""
    finish(session, f"the {tier} tier{share} passed; {line}, enforced by nox -s coverage")


@nox.session(python=False, default=False)
def lock(session: nox.Session) -> None:
    """Re-lock uv.lock (`-- -P NAME` upgrades one package), re-export requirements/, write compose/.env."""
    run_downloading(session, "uv", "lock", *session.posargs)
    for path, group in lockfiles.EXPORTS.items():
        session.run(*lockfiles.export_command(group, path), external=True)
    if containers.write_compose_env(FACTS):
        session.log(f"{containers.COMPOSE_ENV_FILE} rewritten from the facts")
    finish(session, f"uv.lock, requirements/ and {containers.COMPOSE_ENV_FILE} are in sync")
