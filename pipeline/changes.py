"""Which areas of the project a change touches, so that ci.yml runs an area's jobs only when it did.

The areas are facts ([tool.pipeline.areas] in pyproject.toml): each names jobs of ci.yml and its
files, as GitHub's `paths` filters read them. The change is, on a pull request, every file that
differs from the pull request's base commit: on GitHub the checkout is the merge commit, so the
pull request's files; under `invoke ci`, whose made-up pull request has the merge base with the
default branch as its base, the branch's commits plus uncommitted and untracked files, as
`invoke changes` run by hand sees them too. Any other event (a push to main, a schedule, a manual
run) touches every area, as does CI_ALL_AREAS=true; so does a base this checkout lacks: the
decision fails towards running.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import console, processes, workflows
from pipeline.actions.filters import matches
from pipeline.errors import UserError
from pipeline.facts import Area

# The ci.yml job that runs `invoke changes`; each area is one of its outputs, 'true' or 'false'.
PRODUCER_JOB = "sessions"
# On GitHub a repository variable (`vars.CI_ALL_AREAS`, given to the step as this variable); `invoke ci --all` sets it.
FORCE_VARIABLE = "CI_ALL_AREAS"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
DEFAULT_BRANCHES = ("origin/HEAD", "main", "origin/main", "master", "origin/master")


@dataclass(frozen=True)
class Change:
    """The files a change touches, or None for "everything" (`reason` says why)."""

    files: tuple[str, ...] | None
    reason: str

    def touched(self, area: Area) -> list[str]:
        """The changed files of `area` (every file of it stands for "all" when `files` is None)."""
        if self.files is None:
            return ["*"]
        return [path for path in self.files if matches(path, area.paths)]


def git(root: Path, *args: str) -> str | None:
    """git's output, or None when git is missing, fails or hangs."""
    try:
        done = processes.run(["git", *args], cwd=root, timeout=30)
    except UserError:
        return None
    return done.stdout if done.returncode == 0 else None


def default_branch_base(root: Path) -> str | None:
    """The merge base of HEAD with the default branch (origin's, else main or master), as a full sha."""
    for branch in DEFAULT_BRANCHES:
        base = git(root, "merge-base", "HEAD", branch)
        if base:
            return base.strip()
    return None


def changed_files(root: Path, base: str) -> tuple[str, ...] | None:
    """Files that differ between `base` and the working tree (committed or not), and untracked ones;
    None when `base` is not a commit of this checkout. A rename counts as both of its paths."""
    if git(root, "cat-file", "-e", f"{base}^{{commit}}") is None:
        return None
    tracked = git(root, "diff", "--name-only", "-z", "--no-renames", base, "--")
    untracked = git(root, "ls-files", "-z", "--others", "--exclude-standard")
    if tracked is None or untracked is None:
        return None
    return tuple(sorted({path for path in (tracked + untracked).split("\0") if path}))


def event_base(environ: Mapping[str, str]) -> str | None:
    """The pull request's base sha from the event payload GitHub (or `invoke ci`) wrote; None if absent."""
    try:
        payload = json.loads(Path(environ.get("GITHUB_EVENT_PATH", "")).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = ((payload.get("pull_request") or {}).get("base") or {}).get("sha") if isinstance(payload, dict) else None
    return base if isinstance(base, str) and base else None


def of_checkout(root: Path, environ: Mapping[str, str]) -> Change:
    """The change this run rehearses or checks: see the module's docstring."""
    event = environ.get("GITHUB_EVENT_NAME", "")
    if environ.get(FORCE_VARIABLE, "").strip().lower() == "true":
        return Change(None, f"{FORCE_VARIABLE} is true: every job runs")
    if event and event not in PULL_REQUEST_EVENTS:
        return Change(None, f"a {event} event: every job runs")
    base = event_base(environ) if event else default_branch_base(root)
    where = "the pull request's base" if event else "the merge base with the default branch"
    if base is None:
        return Change(None, f"{where} is unknown here: every job runs")
    files = changed_files(root, base)
    if files is None:
        return Change(None, f"{where} ({base[:12]}) is not in this checkout: every job runs")
    return Change(files, f"{len(files)} file(s) differ from {where} ({base[:12]})")


def decide(areas: Iterable[Area], change: Change) -> dict[str, list[str]]:
    """{area: its changed files}; an area with none is unchanged, and its jobs are skipped."""
    return {area.name: change.touched(area) for area in areas}


def output_lines(decision: Mapping[str, Sequence[str]]) -> str:
    """GITHUB_OUTPUT lines: `area=true|false`, what ci.yml's `if:`s read."""
    return "".join(f"{area}={'true' if files else 'false'}\n" for area, files in decision.items())


def why(files: Sequence[str]) -> str:
    if files == ["*"]:
        return "every job runs"
    if not files:
        return "no file of the area changed"
    return ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def rows(areas: Iterable[Area], decision: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """[area, jobs, runs|skipped, why] for a table."""
    return [
        [area.name, ", ".join(area.jobs), "runs" if decision[area.name] else "skipped", why(decision[area.name])]
        for area in areas
    ]


def gate_condition(area: Area) -> str:
    """The `if:` each job of `area` carries in ci.yml (drift checks it)."""
    return f"needs.{PRODUCER_JOB}.outputs.{area.name} == 'true'"


def skipped_by_rule(needs: Mapping[str, Any], areas: Iterable[Area]) -> dict[str, str]:
    """{job: area} of the jobs in `needs` (GitHub's needs context) skipped because the producer said their area
    is unchanged. Fails closed: the producer must have succeeded and said exactly 'false'."""
    producer = needs.get(PRODUCER_JOB)
    if not isinstance(producer, Mapping) or producer.get("result") != "success":
        return {}
    outputs = producer.get("outputs") or {}
    return {
        job: area.name
        for area in areas
        if isinstance(outputs, Mapping) and outputs.get(area.name) == "false"
        for job in area.jobs
        if isinstance(needs.get(job), Mapping) and needs[job].get("result") == "skipped"
    }


def announce(root: Path, areas: Sequence[Area], environ: Mapping[str, str], output: str | None = None) -> None:
    """`invoke changes`: the table in the terminal and the job summary; `area=true|false` lines appended to
    `output` ($GITHUB_OUTPUT on GitHub)."""
    change = of_checkout(root, environ)
    decision = decide(areas, change)
    table = rows(areas, decision)
    columns = ["area", "jobs", "on this change", "because"]
    console.table(f"changes: {change.reason}", columns, table)
    console.step_summary(f"### Changes\n\n{change.reason}\n\n" + console.markdown_table(columns, table))
    if output:
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(output_lines(decision))


def all_green(needs_json: str, areas: Sequence[Area]) -> str:
    """`invoke all-green`: every job in `needs_json` (`${{ toJSON(needs) }}`) succeeded or was skipped by its
    area rule; the table, then the line to print, or one paragraph naming the jobs that did not."""
    results = workflows.job_results(needs_json)
    excused = skipped_by_rule(workflows.needs_context(needs_json), areas)
    table = [
        [job, f"{result} ({excused[job]} unchanged)" if job in excused else result]
        for job, result in sorted(results.items())
    ]
    console.table("CI jobs", ["job", "result"], table)
    console.step_summary("### All green?\n\n" + console.markdown_table(["job", "result"], table))
    failed = workflows.failed_jobs(results, excused)
    if failed:
        raise UserError(f"These jobs did not succeed: {', '.join(failed)}", "open their logs above")
    skipped = f", {len(excused)} skipped by their area rule" if excused else ""
    return f"all-green: {len(results) - len(excused)} jobs succeeded{skipped}"
