"""The steps nox sessions take, so that noxfile.py reads like a table of contents: installing from the
lock, running a gate's tool with its fix, a session's last line, and the longer sessions' work (the
workflow checks, the audit, the build check, the pipeline's tests, combining coverage).

Each function takes the `nox.Session` it works in; the decisions it needs are in `pipeline.sessions`,
`pipeline.coverage_data` and the other pure modules, tested on their own. The real sessions run in the
tools tier's tests, on copies of the project.
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

from pipeline import console, coverage_data, downloads, entry, fuzzing, runner_programs, sessions
from pipeline import database_url as database
from pipeline import workflows as pipeline_workflows
from pipeline.actions import validate
from pipeline.coverage_data import Measure
from pipeline.facts import Facts

# The audit covers the production dependencies plus the dev group (which includes every tool group).
AUDITED_GROUPS = ["dev"]
AUDIT_REQUIREMENTS = Path("reports/audit-requirements.txt")
ACTIONLINT_GO_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"
TOOLING_GROUPS = ("tooling", "test", "audit", "oracles")


def coverage_run() -> str:
    """The run whose coverage data a combine takes: GitHub's (also invoke ci's), else this nox command."""
    return coverage_data.run_id(os.environ)


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


def run_downloading(
    session: nox.Session, *args: str, install: bool = False, env: Mapping[str, str] | None = None
) -> None:
    """Run a command that fetches packages (uv, npm), showing its output afterwards. A failure
    that `pipeline.downloads` recognises (a stale uv.lock, TLS interception) ends the session
    with its fix instead of the tool's own hint."""
    runner = session.run_install if install else session.run
    failed: nox.command.CommandFailed | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        try:
            runner(*args, env={**ca_env(session), **(env or {})}, external=True, stdout=log)
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


def run_tool(
    session: nox.Session,
    facts: Facts,
    gate: sessions.Gate,
    success_codes: list[int] | None = None,
    silent: bool = False,
) -> None:
    """The gate's tool command (the table `invoke bench` measures too), with the session's arguments; a
    failure ends with the gate's fix (`sessions.GATE_FIXES`), one line after the tool's own output."""
    command, env = sessions.tool_command(gate, facts, str(session.python), session.posargs)
    try:
        session.run(*command, env=env, success_codes=success_codes, silent=silent)
    except nox.command.CommandFailed:
        session.error(f"{gate}: {sessions.GATE_FIXES.get(gate, 'fix what the output above names')}")


def finish(session: nox.Session, line: str, markdown: str | None = None) -> None:
    """The session's last line for a person; a markdown section on GitHub."""
    console.success(f"{session.name}: {line}")
    console.step_summary(f"### {session.name}\n\n{markdown or line}")


def measured(session: nox.Session, measure: Measure) -> dict[str, str]:
    """COVERAGE_FILE of a session that measures; its data of earlier runs is erased first."""
    coverage_data.erase_session(Path(), measure, session.name)
    return {"COVERAGE_FILE": coverage_data.data_file(measure, coverage_run(), session.name)}


def fix(session: nox.Session) -> None:
    """ruff's safe fixes, then formatting (even where a lint error without a safe fix remains), then a
    failure naming what is left."""
    install(session, "lint", production=False)
    session.run("ruff", "check", "--fix", "--exit-zero", "--quiet", ".")
    session.run("ruff", "format", "--quiet", ".")
    left = session.run("ruff", "check", *sessions.RUFF_LEFT_OVER, ".", silent=True)
    if str(left or "").strip():
        session.error(f"formatted and fixed what is safe; left for you to edit:\n{str(left).rstrip()}")
    finish(session, "safe fixes applied, every file formatted, nothing left")


def bandit(session: nox.Session, facts: Facts) -> None:
    """One bandit run, its SARIF in reports/, its findings listed from the report (its own output, such as
    `nosec encountered` lines, only when it fails)."""
    install(session, "lint", production=False)
    sessions.BANDIT_SARIF.parent.mkdir(exist_ok=True)
    run_tool(session, facts, "bandit", success_codes=[0, 1], silent=True)  # 1: findings, listed below
    with entry.user_errors(session):
        findings = sessions.bandit_findings(sessions.BANDIT_SARIF)
    if findings:
        session.error(f"bandit found {len(findings)} problem(s):\n" + "\n".join(findings))
    finish(session, f"no findings (SARIF: {sessions.BANDIT_SARIF})")


def check_workflows(session: nox.Session, facts: Facts) -> None:
    """Drift, GitHub's own parser and the refusal check in one process (`pipeline.workflow_checks`), then
    zizmor, the JSON schemas and actionlint."""
    runner_programs_here(session)
    install(session, "tooling", "workflows", production=False)
    install_github_parser(session)
    run_tool(session, facts, "workflows")
    files = [str(path.relative_to(facts.root)) for path in pipeline_workflows.workflow_files(facts.root)]
    session.run("zizmor", "--offline", "--strict-collection", "--quiet", ".")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml")
    finish(
        session, f"no drift; GitHub's parser, zizmor and the JSON schemas accept the workflows; {actionlint(session)}"
    )


def install_github_parser(session: nox.Session) -> None:
    """GitHub's own workflow parser (Node 20+), pinned in pipeline/actions/node/, installed once."""
    with entry.user_errors(session):
        validate.find_node()
        with sessions.exclusive("github-actions-node"):
            if not validate.installed_matches_lock():
                with session.chdir(validate.NODE_DIR):
                    session.run(*validate.NPM_CI, external=True)


def actionlint(session: nox.Session) -> str:
    """actionlint where it is installed, or through Go on GitHub's runners (the module is checksummed)."""
    if shutil.which("actionlint"):
        session.run("actionlint", external=True)
    elif os.environ.get("GITHUB_ACTIONS") == "true":
        session.run("go", "run", ACTIONLINT_GO_MODULE, external=True)
    else:
        return "actionlint is not installed here, so it did not run (on GitHub this session runs it)"
    return "actionlint clean"


def audit(session: nox.Session) -> None:
    """pip-audit --strict of the locked dependencies; Safety as well when SAFETY_API_KEY is set."""
    install(session, "audit", production=False)
    AUDIT_REQUIREMENTS.parent.mkdir(exist_ok=True)
    run_downloading(session, *sessions.uv_export_args(AUDITED_GROUPS, production=True, output=AUDIT_REQUIREMENTS))
    session.run("python", "-m", "pipeline.audit", str(AUDIT_REQUIREMENTS), *session.posargs, env={"PYTHONPATH": "."})
    if not os.environ.get("SAFETY_API_KEY"):
        finish(session, "no known vulnerabilities in the locked dependencies (Safety skipped: no SAFETY_API_KEY)")
        return
    # Safety is locked and hashed in the audit group; `safety scan` reads the requirements files of a folder.
    target = Path(session.create_tmp()) / "safety"
    target.mkdir(exist_ok=True)
    shutil.copyfile(AUDIT_REQUIREMENTS, target / "requirements.txt")
    session.run("safety", "scan", "--target", str(target))
    finish(session, "no known vulnerabilities in the locked dependencies (pip-audit and Safety)")


def run_tests(session: nox.Session, facts: Facts, database_url: str | None = None) -> None:
    """The migrations check, then the backend's tests, measured."""
    install(session, "test")
    pytest, env = sessions.tool_command("tests", facts, str(session.python), session.posargs)
    env.update(measured(session, "backend"))
    env["SCHEMATHESIS_SEED"] = str(fuzzing.seed())  # fixed on CI, fresh elsewhere, or the one given
    if database_url:
        env["DATABASE_URL"] = database_url
    with entry.user_errors(session):  # once, before any test: a database that is not there is one paragraph
        database.check_reachable(env.get("DATABASE_URL") or os.environ.get("DATABASE_URL", ""))
    session.run("python", "backend/manage.py", "makemigrations", "--check", "--dry-run", env=env)
    session.run(*pytest, env=env)
    finish(session, "tests passed" + (" on PostgreSQL" if database_url else ""))


def combine_coverage(session: nox.Session, facts: Facts) -> None:
    """This run's coverage: the backend's (HTML, XML, JSON; its fail_under) and the pipeline's (its own
    threshold), or a line naming the measure this run skipped (`coverage_data.not_measured`)."""
    install(session, "test", production=False)
    with entry.user_errors(session):
        backend = coverage_data.for_run(Path(), "backend", coverage_run(), os.environ)
        pipeline = coverage_data.for_run(Path(), "pipeline", coverage_run(), os.environ)
    if not backend.files:
        session.error("no backend coverage data here: run a tests session first (nox -s tests-3.12 coverage)")
    Path("reports/coverage").mkdir(parents=True, exist_ok=True)
    data = {measure: ["--data-file", str(path)] for measure, path in coverage_data.COMBINED.items()}
    session.run("coverage", "combine", "--keep", "--quiet", *data["backend"], *map(str, backend.files))
    for report in ("html", "xml", "json"):
        session.run("coverage", report, *data["backend"], "--quiet", "--fail-under=0")
    fail_under = coverage_data.backend_fail_under(facts.root)
    lines = [coverage_summary(session, "backend", backend, fail_under, *data["backend"])]
    if pipeline.files:
        session.run("coverage", "combine", "--keep", "--quiet", *data["pipeline"], *map(str, pipeline.files))
        pipeline_under = coverage_data.PIPELINE_FAIL_UNDER
        lines.append(coverage_summary(session, "pipeline", pipeline, pipeline_under, *data["pipeline"]))
    else:
        lines.append(coverage_data.unmeasured_line("pipeline", os.environ))
    for line in lines:
        session.log(line)
    enforce(session, "backend", data["backend"])  # its fail_under is [tool.coverage.report]'s
    if pipeline.files:
        enforce(session, "pipeline", data["pipeline"], coverage_data.PIPELINE_FAIL_UNDER)
    finish(session, "; ".join(lines))


def enforce(session: nox.Session, measure: Measure, data: list[str], fail_under: float | None = None) -> None:
    """The measure's threshold, enforced; its list of files is shown only when it fails (the backend's is
    in reports/coverage/html too)."""
    threshold = [] if fail_under is None else [f"--fail-under={fail_under:g}"]
    try:
        session.run("coverage", "report", *data, "--format=total", *threshold, silent=True)
    except nox.command.CommandFailed:
        session.run("coverage", "report", *data, "--skip-covered", "--fail-under=0")
        session.error(
            f"{measure} coverage is under its threshold: the files above have lines no test runs "
            f"(the backend's, line by line: reports/coverage/html/index.html); test them, or run "
            f"`{coverage_data.MEASURED_BY[measure]}` in the same nox command when its data is missing"
        )


def coverage_summary(
    session: nox.Session, measure: Measure, selection: coverage_data.Selection, fail_under: float, *data: str
) -> str:
    """The measure's figure as one line, and its table in the GitHub job summary."""
    total = session.run("coverage", "report", *data, "--format=total", "--fail-under=0", silent=True)
    table = session.run("coverage", "report", *data, "--format=markdown", "--fail-under=0", silent=True)
    line = coverage_data.summary_line(measure, str(total).strip(), fail_under, selection)
    console.step_summary(f"### Coverage: {measure}\n\n{line}\n\n{table}")
    return line


def build_assets(session: nox.Session) -> None:
    """Tailwind's CSS (npm ci when node_modules differs from the lock), checked to be there and minified."""
    runner_programs_here(session)
    # `build` runs this session too; under `invoke ci` both jobs share this checkout.
    with sessions.exclusive("frontend"), session.chdir("frontend"):
        if not validate.installed_matches_lock(Path()):
            run_downloading(session, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
        session.run("npm", "run", "--silent", "build", external=True)
    with entry.user_errors(session):
        css = sessions.check_built_css(Path("frontend/dist/app.css"))
    finish(session, f"frontend/dist/app.css built ({css} bytes, minified)")


def check_build(session: nox.Session, facts: Facts) -> None:
    """With production dependencies only: check --deploy, collectstatic (its manifest has the CSS),
    check_config, then the sdist and wheel."""
    runner_programs_here(session)
    install(session)
    workdir = Path(session.create_tmp())
    deploy_check, env = sessions.tool_command("build", facts, str(session.python), workdir=workdir)
    manage = ["python", "backend/manage.py"]
    session.run(*deploy_check, env=env)
    session.run(*manage, "collectstatic", "--noinput", "--verbosity", "0", env=env)
    with entry.user_errors(session):
        sessions.check_manifest_has(workdir / "static" / "staticfiles.json", "app.css")
    session.run(*manage, "check_config", env=env)
    run_downloading(session, "uv", "build", "--quiet", "--out-dir", "dist")
    finish(session, "production settings, static files and packages build with production dependencies only")


def pipeline_tests(session: nox.Session, tier: sessions.Tier, shard: str) -> None:
    """One tier of the pipeline's tests (or a share of it), measured; the figure so far in its last line."""
    if os.environ.get("CI"):  # on CI every test runs (the browser tests too), as on GitHub's runner
        runner_programs_here(session)
    install(session, *TOOLING_GROUPS, production=False)
    # The tests folders, unless the arguments after `--` name tests themselves.
    given = any(Path(arg.split("::")[0]).exists() for arg in session.posargs if not arg.startswith("-"))
    tests = [] if given else list(sessions.TOOLING_TESTS)
    pytest = ["pytest", "-p", "no:django", "-m", tier, *(["--shard", shard] if shard else []), *tests]
    env = measured(session, "pipeline")
    # The copies' nox sessions keep their environments between runs, one folder per tooling session.
    env["PIPELINE_TEST_ENVDIR"] = str(Path(".cache/tooling-envs", coverage_data.token(session.name)).resolve())
    session.run("coverage", "run", *coverage_data.PIPELINE_RUN_OPTIONS, "-m", *pytest, *session.posargs, env=env)
    with entry.user_errors(session):
        so_far = coverage_data.for_run(Path(), "pipeline", coverage_run(), os.environ)
    data = ["--data-file", str(Path(session.create_tmp()) / ".coverage")]
    session.run("coverage", "combine", "--keep", "--quiet", *data, *map(str, so_far.files), silent=True)
    line = coverage_summary(session, "pipeline", so_far, coverage_data.PIPELINE_FAIL_UNDER, *data)
    share = f" (share {shard})" if shard else ""
    finish(session, f"the {tier} tier{share} passed; {line}, enforced by nox -s coverage")
