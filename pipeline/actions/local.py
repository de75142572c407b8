"""`invoke ci`: a workflow rehearsed here as GitHub runs it, or its plan (--dry-run).

Ctrl-C, SIGTERM and SIGHUP cancel: every step's process group is stopped, every
service container and network the run started is removed; a second Ctrl-C ends at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from pipeline import changes, console, processes
from pipeline.actions import (
    concurrency,
    contexts,
    display,
    dryrun,
    expressions,
    history,
    reusable,
    run_report,
    services,
    triggers,
)
from pipeline.actions.display import report
from pipeline.actions.model import Outcome
from pipeline.actions.scheduler import Scheduler, Selection
from pipeline.actions.session import LOG_DIR, RunSession
from pipeline.actions.workflow import Workflow, load
from pipeline.errors import UserError
from pipeline.facts import Facts

CI_WORKFLOW = Path(".github/workflows/ci.yml")
INTERRUPTED_EXIT = 130


def open_session(
    root: Path,
    workflow_path: Path,
    event: str,
    ref: str,
    resolve_image: Callable[[str], str],
    *,
    event_file: Path | None = None,
    secrets: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
) -> RunSession:
    """Read the workflow and check GitHub would run it for this event and ref (`event` '' = its default);
    `event_file` is a real event payload (else one is made up: a same-repository pull request, a push)."""
    path = workflow_path if workflow_path.is_absolute() else root / workflow_path
    workflow: Workflow = reusable.expand(load(path, root), root)
    chosen = event or triggers.default_event(workflow.data.get("on"))
    if chosen not in contexts.EVENTS:
        rehearsed = ", ".join(contexts.EVENTS)
        if event:
            raise UserError(f"--event {event} is not an event invoke ci rehearses", f"use one of {rehearsed}")
        listened = ", ".join(triggers.events(workflow.data.get("on")))
        raise UserError(
            f"{workflow.relative} runs on {listened}, none of which invoke ci rehearses (it rehearses {rehearsed})",
            "rehearse a workflow started by one of those events; this one runs on GitHub only",
        )
    event = chosen
    payload = (
        contexts.read_payload(event_file if event_file.is_absolute() else root / event_file) if event_file else None
    )
    trigger = contexts.Trigger(event, ref, payload)  # type: ignore[arg-type]  # checked against EVENTS above
    triggers.check(workflow.data.get("on"), trigger, workflow.relative)
    return RunSession(root, workflow, trigger, resolve_image, secrets=secrets, variables=variables)


def check_pythons(pythons: Sequence[str], supported: Sequence[str]) -> None:
    """--python names supported versions only (a typo would otherwise select nothing and pass)."""
    unsupported = [python for python in pythons if python not in supported]
    if unsupported:
        raise UserError(
            f"--python {', '.join(unsupported)}: not a Python this project supports",
            f"use one of {', '.join(supported)} (requires-python in pyproject.toml)",
        )


def check_selection(planned: list[dryrun.PlannedJob], selection: Selection) -> None:
    known = dryrun.names(planned)
    unknown = sorted(name for name in {*selection.only, *selection.skip} if name not in known)
    if unknown:
        listed = ", ".join(sorted(known))
        raise UserError(f"no job is called {', '.join(unknown)}", f"use one of the jobs that exist: {listed}")


@contextlib.contextmanager
def second_interrupt_exits() -> Iterator[None]:
    """While a stop is under way, a second Ctrl-C ends the process at once."""

    def now(_signum: int, _frame: FrameType | None) -> None:
        os._exit(INTERRUPTED_EXIT)

    previous = signal.signal(signal.SIGINT, now)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def rehearse(session: RunSession, selection: Selection, workers: int) -> tuple[dict[str, Outcome], float]:
    """Run the workflow; returns each instance's outcome and the wall time."""
    if selection.only or selection.skip:
        planned = dryrun.plan_workflow(session, selection)
        if dryrun.decided_at_run_time(planned) and not {*selection.only, *selection.skip} <= dryrun.names(planned):
            # Names of entries a job computes: its producers run now, as they will in the run itself.
            planned = dryrun.plan_workflow(session, selection, resolve_outputs=True, say=console.say)
        check_selection(planned, selection)
    durations = history.durations(session.root, session.workflow.relative)  # longest chain first
    scheduler = Scheduler(session, selection, workers, console.say, durations)
    group = concurrency.group_of(
        session.workflow.data.get("concurrency"),
        session.base_contexts({}),
        expressions.AVAILABILITY["concurrency"],
    )
    files = history.fingerprint(session.root)  # the tree the jobs read, for a later --failed
    began, started = time.time(), time.monotonic()
    try:
        with (
            processes.interrupt_on_termination(),
            concurrency.held(session.root, group, console.say),
            display.live(scheduler),
        ):
            outcomes = scheduler.run()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM (`timeout`, a cancelled CI job) or SIGHUP (a closed terminal)
        with second_interrupt_exits():
            console.failure("interrupted: stopping every job and removing its containers ...")
            scheduler.cancel()
            services.remove_labelled(f"{services.LABEL}={session.run_id}")
        raise
    finally:
        wall = time.monotonic() - started
        record = history.record_of(scheduler.ledger, began, wall, files)
        history.save(record, session.root)
        page = run_report.write(record, session.root)
        console.say(f"run report (graph, timeline, logs): {page.relative_to(session.root)}")
    return outcomes, wall


def failed_only(session: RunSession, selection: Selection) -> Selection:
    """--failed: the last run of this workflow and event, its failed jobs to run again and the rest kept;
    refused when nothing failed, nothing was recorded, or the tree changed since (`pipeline.actions.history`).
    The variables of that run come back (a --var given now wins); secrets are never kept."""
    if selection.only or selection.skip or selection.pythons:
        raise UserError(
            "--failed re-runs what failed in the last run; it takes no --only, --skip or --python",
            "leave those out, or run `invoke ci --only ...` to choose jobs yourself",
        )
    record = history.load(session.root, session.workflow.relative, session.trigger.event)
    history.refuse_a_changed_tree(record, history.fingerprint(session.root))
    kept = history.kept_outcomes(record, session.workflow.jobs, session.root)
    session.variables = {**record.variables, **session.variables}
    console.say(f"--failed: {len(kept)} job(s) kept from run {record.run_id}; the rest runs again")
    return dataclasses.replace(selection, kept=kept)


def print_plan(session: RunSession, selection: Selection, *, resolve_outputs: bool = False) -> None:
    """The dry run: runs nothing of the workflow, unless `resolve_outputs` (then exactly the jobs whose
    outputs the plan reads)."""
    planned = dryrun.plan_workflow(session, selection, resolve_outputs=resolve_outputs, say=console.say)
    if not dryrun.decided_at_run_time(planned):
        check_selection(planned, selection)
    display.print_plan(planned, session.workflow.relative, session.trigger.event)


@dataclasses.dataclass(frozen=True)
class Request:
    """What `invoke ci` was asked, as its options say it."""

    workflow: Path = CI_WORKFLOW
    event: str = ""
    ref: str = ""
    event_file: str = ""
    secrets: Sequence[str] = ()  # names of environment variables
    secret_file: str = ""
    variables: Sequence[str] = ()  # NAME=VALUE
    all_areas: bool = False
    dry_run: bool = False
    resolve_outputs: bool = False
    failed: bool = False
    jobs: int = 0


def main(facts: Facts, request: Request, selection: Selection) -> None:
    """`invoke ci`: the plan, the run, or the re-run of what failed; a red run ends in one paragraph."""
    if request.failed and (request.dry_run or request.resolve_outputs or request.all_areas):
        raise UserError(
            "--failed re-runs the last run's failed jobs; it cannot be combined with --dry-run, "
            "--resolve-outputs or --all",
            "run `invoke ci --failed` alone",
        )
    check_pythons(selection.pythons, facts.python_versions)
    secret_file = Path(request.secret_file) if request.secret_file else None
    variables = contexts.read_variables(request.variables)
    if request.all_areas:
        variables[changes.FORCE_VARIABLE] = "true"
    session = open_session(
        facts.root,
        request.workflow,
        request.event,
        request.ref,
        facts.services.resolve,
        event_file=Path(request.event_file) if request.event_file else None,
        secrets=contexts.read_secrets(request.secrets, secret_file, os.environ),
        variables=variables,
    )
    try:
        if request.failed:
            selection = failed_only(session, selection)
        if request.dry_run or request.resolve_outputs:
            print_plan(session, selection, resolve_outputs=request.resolve_outputs)
            return
        outcomes, wall = rehearse(session, selection, request.jobs or os.cpu_count() or 2)
    finally:
        session.close()
    if not report(outcomes, wall, session.workflow.relative):
        failing = [key for key, outcome in outcomes.items() if outcome.fails_the_run]
        raise UserError(
            f"CI failed here: {', '.join(failing)} (logs in {LOG_DIR}/)",
            "fix those jobs and run it again; a failure that was not the tree's (a flaky test, a stopped "
            "service) re-runs alone with `invoke ci --failed`",
        )
    console.success(f"ci: every job of {session.workflow.relative} that runs here passed")


__all__ = [
    "CI_WORKFLOW",
    "Request",
    "Selection",
    "check_pythons",
    "failed_only",
    "main",
    "open_session",
    "print_plan",
    "rehearse",
    "report",
]
