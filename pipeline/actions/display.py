"""What a person sees of a local run: a live table in a terminal, lines otherwise; the
final table, the tails of failed logs, where each job's summary is; markdown on GitHub."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from rich.live import Live
from rich.table import Table

from pipeline import console
from pipeline.actions.dryrun import PlannedJob
from pipeline.actions.model import Outcome, Result
from pipeline.actions.scheduler import Scheduler

TAIL_LINES = 30
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a job's log, without colour codes."""
    try:
        text = ANSI_ESCAPE.sub("", path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(text.splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def live(scheduler: Scheduler) -> Iterator[None]:
    """A live table (job, state, elapsed) in a terminal; one line per event otherwise."""
    out = console.console()
    if not out.is_terminal:
        yield
        return

    def render() -> Table:
        table = Table(title="invoke ci")
        for column in ("job", "state", "elapsed"):
            table.add_column(column)
        now = time.monotonic()
        with scheduler.ledger.lock:
            states = dict(scheduler.ledger.live)
        for key, (state, since) in states.items():
            table.add_row(key, state, f"{now - since:.0f}s" if state == "running" else "")
        return table

    scheduler.ledger.say = lambda _: None
    with Live(render(), console=out, refresh_per_second=2) as display:
        stop = threading.Event()

        def refresh() -> None:
            while not stop.wait(0.5):
                display.update(render())

        thread = threading.Thread(target=refresh, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            display.update(render())


def summary_rows(outcomes: Mapping[str, Outcome]) -> list[list[str]]:
    return [
        [
            key,
            outcome.result.value
            + (f" ({outcome.note})" if outcome.note and outcome.result is not Result.SUCCESS else "")
            + (" [continue-on-error: the run passes]" if outcome.tolerated else "")
            + (f" [kept from run {outcome.kept_from}]" if outcome.kept_from else ""),
            f"{outcome.seconds:.1f}s" if outcome.seconds else "-",
        ]
        for key, outcome in outcomes.items()
    ]


def report(outcomes: Mapping[str, Outcome], wall: float, workflow: str) -> bool:
    """Summary table, failed logs' tails, summaries, wall time against the serial sum. True if green."""
    for key, outcome in outcomes.items():
        if outcome.result is Result.FAILURE and outcome.log:
            console.say(f"\n--- {key}: last {TAIL_LINES} lines of {outcome.log} ---", style="bold red")
            console.say(log_tail(outcome.log))
    rows = summary_rows(outcomes)
    console.table(f"invoke ci: {workflow}", ["job", "result", "time"], rows)
    summaries = [f"{key}: {outcome.summary}" for key, outcome in outcomes.items() if outcome.summary]
    if summaries:
        console.say("job summaries (GITHUB_STEP_SUMMARY):\n  " + "\n  ".join(summaries))
    serial = sum(outcome.seconds for outcome in outcomes.values())
    ratio = serial / wall if wall else 0.0
    line = f"wall time {wall:.0f}s against {serial:.0f}s of job time in series ({ratio:.2f}x)"
    console.say(line)
    console.step_summary(
        f"### invoke ci: {workflow}\n\n" + console.markdown_table(["job", "result", "time"], rows) + f"\n\n{line}"
    )
    return not any(outcome.fails_the_run for outcome in outcomes.values())


def print_plan(planned: Sequence[PlannedJob], workflow: str, event: str) -> None:
    """One line per job or matrix entry, one indented line per step; of the jobs --only/--skip leave out,
    only their number."""
    console.say(f"invoke ci --dry-run: {workflow} on {event}", style="bold")
    left_out = [job for job in planned if job.state == "not selected"]
    for job in planned:
        if job.state == "not selected":
            continue
        style = {"runs here": "green", "decided at run time": "yellow", "fails": "red"}.get(job.state, "dim")
        console.say(f"{job.key}: {job.state}" + (f" ({job.why})" if job.why else ""), style=style)
        for step in job.steps:
            console.say(f"  - {step.label}: {step.kind.value}" + (f" ({step.why})" if step.why else ""))
    if left_out:
        console.say(
            f"{len(left_out)} job(s) or entries not selected (--only, --skip, --python) are not shown", style="dim"
        )
