"""The GitHub workflows, read as data: the CI matrix, job results, failure reports.

Sessions come from nox itself (`nox -l --json`), so a new session or Python
version reaches CI with no workflow edit: sessions tagged `tests` run in the
tests job (with PostgreSQL), `tooling` (the pipeline's own tests) in the
tooling job, `coverage` in the coverage job, all other default sessions in
the checks job.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import facts, processes
from pipeline.console import plain_env
from pipeline.errors import UserError
from pipeline.facts import ServiceImages

WORKFLOWS_DIR = Path(".github/workflows")
WORKFLOW_SUFFIXES = (".yml", ".yaml")  # GitHub reads both


def workflow_files(root: Path) -> list[Path]:
    """Every workflow GitHub reads: `*.yml` and `*.yaml` directly under .github/workflows/."""
    folder = root / WORKFLOWS_DIR
    return sorted(path for path in folder.iterdir() if path.suffix in WORKFLOW_SUFFIXES and path.is_file())


MATRIX_TAGS = ("tests", "tooling", "coverage")
# A tests job's service containers read their images from its matrix (`${{ matrix.postgres-image }}`): the
# Dockerfile's FROM lines, which Dependabot updates, through the facts; never a copy in the workflow.
SERVICE_IMAGE_KEYS = {"postgres": "postgres-image", "redis": "redis-image"}


def nox_sessions(root: Path, *extra: str) -> list[dict[str, Any]]:
    """`nox -l --json` of the project at `root`: the default sessions, as nox sees them."""
    result = processes.run([sys.executable, "-m", "nox", "--list", "--json", *extra], cwd=root)
    if result.returncode != 0:
        raise UserError(f"nox could not list the sessions: {result.stderr.strip()[-500:]}", "fix noxfile.py")
    sessions: list[dict[str, Any]] = json.loads(result.stdout)
    return sessions


def all_session_names(root: Path) -> set[str]:
    """Every session nox knows (default or not), with and without its Python suffix."""
    result = processes.run([sys.executable, "-m", "nox", "--list"], cwd=root, env=plain_env())
    names: set[str] = set()
    for line in result.stdout.splitlines():
        if line[:2] in {"* ", "- "}:
            session = line[2:].split(" -> ")[0].strip()
            names.add(session)
            names.add(session.rsplit("-", 1)[0] if session[-1].isdigit() else session)
    return names


def matrices(
    sessions: Sequence[Mapping[str, Any]], services: ServiceImages | None = None
) -> dict[str, list[dict[str, str]]]:
    """{'checks': [...], 'tests': [...], 'tooling': [...], 'coverage': [...]}: GitHub matrix `include` lists.

    Each tests entry also names the service images (the facts', by default this checkout's).
    """
    images = services or facts.load().services
    service_images = {
        SERVICE_IMAGE_KEYS["postgres"]: images.declared_postgres,
        SERVICE_IMAGE_KEYS["redis"]: images.declared_redis,
    }
    result: dict[str, list[dict[str, str]]] = {"checks": [], **{tag: [] for tag in MATRIX_TAGS}}
    for session in sessions:
        tags = session.get("tags") or []
        entry: dict[str, str] = {"session": str(session["session"]), "python": str(session.get("python") or "")}
        tag = next((tag for tag in MATRIX_TAGS if tag in tags), "checks")
        result[tag].append({**entry, **service_images} if tag == "tests" else entry)
    return result


def github_output_lines(values: Mapping[str, object]) -> str:
    return "".join(f"{key}={json.dumps(value, separators=(',', ':'))}\n" for key, value in values.items())


NEEDS_FIX = "give the step `env: NEEDS: ${{ toJSON(needs) }}` and the job `needs:` listing the jobs it gates"


def job_results(needs_json: str) -> dict[str, str]:
    """{job: result} from `${{ toJSON(needs) }}` (see `needs_context`)."""
    return {job: str(data.get("result", "unknown")) for job, data in needs_context(needs_json).items()}


def needs_context(needs_json: str) -> dict[str, dict[str, Any]]:
    """The `needs` context from `${{ toJSON(needs) }}`. The gate fails closed: no NEEDS, JSON that is not
    `needs`, or no job at all is an error, never a pass."""
    if not needs_json.strip():
        raise UserError("NEEDS is not set, so there is nothing to gate on", NEEDS_FIX)
    try:
        needs = json.loads(needs_json)
    except json.JSONDecodeError as error:
        raise UserError(f"NEEDS is not JSON ({error.msg} at character {error.pos})", NEEDS_FIX) from None
    if not isinstance(needs, dict) or not all(isinstance(data, dict) for data in needs.values()):
        raise UserError("NEEDS is JSON but not the `needs` context ({job: {result, outputs}})", NEEDS_FIX)
    if not needs:
        raise UserError("NEEDS lists no job, so there is nothing to gate on", NEEDS_FIX)
    return needs


def failed_jobs(results: Mapping[str, str], excused: Mapping[str, str] | None = None) -> list[str]:
    """Jobs that did not succeed, but for those `excused` (skipped by their area rule: `changes.skipped_by_rule`)."""
    return sorted(job for job, result in results.items() if result != "success" and job not in (excused or {}))


def failure_issue(workflow: str, results: Mapping[str, str], run_url: str) -> tuple[str, str]:
    """Title (one per workflow, so repeated failures comment instead of duplicating) and body."""
    title = f"{workflow} is failing on main"
    rows = "\n".join(f"| {job} | {results[job]} |" for job in failed_jobs(results))
    body = f"The run {run_url} failed.\n\n| job | result |\n|---|---|\n{rows}\n"
    return title, body


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(error, "problem", None) or "it cannot be parsed"
            raise UserError(f"{where} is not valid YAML ({problem})", "fix the indentation or syntax there") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a YAML mapping", "fix the workflow file")
    # PyYAML reads the key `on` as True (YAML 1.1).
    if True in data:
        data["on"] = data.pop(True)
    return data


def report_failure(workflow: str, results: Mapping[str, str], run_url: str) -> str:
    """Open an issue for a failed run on main, or comment on the open one. Returns what it did."""
    title, body = failure_issue(workflow, results, run_url)
    found = processes.run(
        ["gh", "issue", "list", "--state", "open", "--search", f'"{title}" in:title', "--json", "number,title"]
    )
    if found.returncode != 0:
        raise UserError(f"gh cannot list issues: {found.stderr.strip()}", "give the job `issues: write` and GH_TOKEN")
    existing = [issue for issue in json.loads(found.stdout or "[]") if issue["title"] == title]
    if existing:
        number = str(existing[0]["number"])
        command = ["gh", "issue", "comment", number, "--body", body]
        done = f"commented on issue #{number}"
    else:
        command = ["gh", "issue", "create", "--title", title, "--body", body]
        done = "opened an issue"
    if processes.run(command).returncode != 0:
        raise UserError("gh could not write the issue", "check the job's `issues: write` permission")
    return done
