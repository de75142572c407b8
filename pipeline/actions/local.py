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

from pipeline import console, processes
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
from pipeline.actions.session import RunSession
from pipeline.actions.workflow import Workflow, load
from pipeline.errors import UserError

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
    scheduler = Scheduler(session, selection, workers, console.say)
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


read_secrets = contexts.read_secrets
read_variables = contexts.read_variables

__all__ = [
    "CI_WORKFLOW",
    "Selection",
    "check_pythons",
    "failed_only",
    "open_session",
    "print_plan",
    "read_secrets",
    "read_variables",
    "rehearse",
    "report",
]
