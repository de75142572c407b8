"""The record of a workflow's last local run, and `invoke ci --failed`: GitHub's "Re-run failed jobs".

After every run (failed, passed or interrupted) `invoke ci` keeps, per workflow and event, in
`.cache/ci-runs/`: each instance's result, outputs, times and log, the variables it ran with, and a
fingerprint of the checkout (every file git does not ignore). `--failed` re-runs the instances that
failed, were cancelled or never ended, and every job downstream of them; every other instance keeps its
result and outputs from that run, as GitHub keeps them. GitHub re-runs the same commit; here the tree may
have changed since, and a kept success would then vouch for files it never read: so a re-run refuses
when any file differs from the recorded run (no secret is kept; pass them again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import processes
from pipeline.actions import plan
from pipeline.actions.model import Outcome, Result, needs_of
from pipeline.errors import UserError

if TYPE_CHECKING:
    from pipeline.actions.ledger import Ledger

RUNS_DIR = Path(".cache/ci-runs")
RERUN_RESULTS = (Result.FAILURE, Result.CANCELLED)
SHOWN_FILES = 8


@dataclass(frozen=True)
class Ended:
    """One instance of a recorded run: how it ended, and when (seconds since the epoch)."""

    key: str
    job_id: str
    result: Result
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""
    log: str = ""  # relative to the project
    queued: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    kept_from: str = ""  # the earlier run whose result a --failed re-run kept
    tolerated: bool = False  # a failure the job's continue-on-error lets the run pass

    def outcome(self, root: Path, run_id: str) -> Outcome:
        """The outcome a re-run keeps: same result, outputs and log, from the run that ran it."""
        log = root / self.log if self.log else None
        kept_from = self.kept_from or run_id
        return Outcome(self.result, log=log, outputs=dict(self.outputs), note=self.note, kept_from=kept_from)


@dataclass(frozen=True)
class RunRecord:
    workflow: str
    event: str
    run_id: str
    started: float
    wall: float
    variables: dict[str, str]
    needs: dict[str, list[str]]  # job id -> the jobs it needs (the graph, for the report)
    instances: list[Ended]
    files: dict[str, str]  # path -> sha256 of its content

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        data = json.loads(text)
        instances = [Ended(**{**item, "result": Result(item["result"])}) for item in data.pop("instances")]
        return cls(**data, instances=instances)


def record_stem(workflow: str) -> str:
    """A workflow's relative path as one file name."""
    return workflow.replace("/", "_").replace("\\", "_")


def record_path(root: Path, workflow: str, event: str) -> Path:
    """Where the last run of `workflow` (relative path) on `event` is kept."""
    return root / RUNS_DIR / f"{record_stem(workflow)}.{event}.json"


def fingerprint(root: Path) -> dict[str, str]:
    """Every file of the checkout git does not ignore, tracked or not, with the sha256 of its content."""
    try:
        listed = processes.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root)
    except UserError:
        return {}
    if listed.returncode != 0:
        return {}
    digests = {}
    for name in sorted(set(filter(None, listed.stdout.split("\0")))):
        path = root / name
        if path.is_file():
            digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif not path.exists() and not path.is_symlink():
            continue  # deleted but still in the index: absent, as in the tree
        else:
            digests[name] = "link" if path.is_symlink() else "other"
    return digests


def durations_path(root: Path, workflow: str) -> Path:
    return root / RUNS_DIR / f"{record_stem(workflow)}.durations.json"


def durations(root: Path, workflow: str) -> dict[str, dict[str, float]]:
    """How long each job's instances took when they last ran (any event): job id -> key -> seconds."""
    try:
        data = json.loads(durations_path(root, workflow).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(job): {str(key): float(seconds) for key, seconds in keys.items() if isinstance(seconds, int | float)}
        for job, keys in data.items()
        if isinstance(keys, dict)
    }


def save_durations(record: RunRecord, root: Path) -> None:
    """The times of the instances this run ran (not kept, not skipped) over those of earlier runs."""
    known = durations(root, record.workflow)
    for ended in record.instances:
        if ended.started and not ended.kept_from and ended.result in (Result.SUCCESS, Result.FAILURE):
            known.setdefault(ended.job_id, {})[ended.key] = round(ended.seconds, 1)
    path = durations_path(root, record.workflow)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")


def save(record: RunRecord, root: Path) -> Path:
    path = record_path(root, record.workflow, record.event)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.to_json(), encoding="utf-8")
    save_durations(record, root)
    return path


def load(root: Path, workflow: str, event: str) -> RunRecord:
    """The last run of this workflow and event; one paragraph when there is none (or it is unreadable)."""
    path = record_path(root, workflow, event)
    rerun = f"run `invoke ci --workflow {workflow} --event {event}` first; --failed then re-runs what failed in it"
    if not path.is_file():
        raise UserError(f"--failed: no earlier run of {workflow} on {event} is recorded here", rerun)
    try:
        return RunRecord.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as error:
        raise UserError(f"--failed: the record of the last run ({path}) cannot be read ({error})", rerun) from error


def changed_files(recorded: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    return sorted(name for name in {*recorded, *now} if recorded.get(name) != now.get(name))


def downstream(jobs: Mapping[str, Any], roots: Iterable[str]) -> set[str]:
    """`roots` and every job that needs one of them, directly or not."""
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for job_id, job in jobs.items():
            if job_id not in found and any(need in found for need in needs_of(job)):
                found.add(job_id)
                grew = True
    return found


def kept_outcomes(record: RunRecord, jobs: Mapping[str, Any], root: Path) -> dict[str, Outcome]:
    """What a re-run of failed jobs keeps, per instance key: every recorded instance but the failed or
    cancelled ones and every instance of the jobs downstream of them (a job the run never reached, being
    interrupted, counts as failed). A matrix entry that passed beside a failed one is kept, as on GitHub,
    unless a job it needs runs again. Nothing to re-run is one paragraph."""
    recorded = {ended.job_id for ended in record.instances}
    failing = {ended.job_id for ended in record.instances if ended.result in RERUN_RESULTS} | (set(jobs) - recorded)
    if not failing:
        raise UserError(
            f"--failed: nothing failed in the last run of {record.workflow} on {record.event} (run {record.run_id})",
            "run `invoke ci` to rehearse the workflow again from the start",
        )
    rerun = downstream(jobs, failing)

    def keeps(ended: Ended) -> bool:
        if ended.job_id not in jobs or ended.result in RERUN_RESULTS:
            return False
        if ended.job_id not in rerun:
            return True
        return ended.job_id in failing and not (plan.ancestors(jobs, ended.job_id) & rerun)

    return {ended.key: ended.outcome(root, record.run_id) for ended in record.instances if keeps(ended)}


def refuse_a_changed_tree(record: RunRecord, now: Mapping[str, str]) -> None:
    """A kept success vouches for the files of its run: any file changed since, and the re-run is refused."""
    if not record.files:
        raise UserError(
            f"--failed: the last run of {record.workflow} recorded no files (not a git checkout?)",
            "run `invoke ci` again from the start",
        )
    changed = changed_files(record.files, now)
    if changed:
        more = len(changed) - SHOWN_FILES
        shown = ", ".join(changed[:SHOWN_FILES]) + (f" and {more} more" if more > 0 else "")
        raise UserError(
            f"--failed: {len(changed)} file(s) changed since the last run of {record.workflow} "
            f"(run {record.run_id}): {shown}. The jobs it would keep read them as they were, so their results "
            "would no longer be true of this tree",
            "run `invoke ci` again (the area rules keep it short), or undo those changes to re-run only what failed",
        )


def record_of(ledger: Ledger, started: float, wall: float, files: dict[str, str]) -> RunRecord:
    """The record of a run as its ledger holds it (an interrupted run: the instances that ended)."""
    session = ledger.session
    instances = []
    for job_id, state in ledger.states.items():
        for instance in state.instances:
            outcome = ledger.outcomes.get(instance.key)
            if outcome is None:
                continue
            times = ledger.times.get(instance.key, {})
            log = outcome.log
            instances.append(
                Ended(
                    instance.key,
                    job_id,
                    outcome.result,
                    outcome.seconds,
                    dict(outcome.outputs),
                    outcome.note,
                    str(log.relative_to(session.root)) if log and log.is_relative_to(session.root) else "",
                    times.get("queued", 0.0),
                    times.get("running", 0.0),
                    times.get("ended", 0.0),
                    kept_from=outcome.kept_from,
                    tolerated=outcome.tolerated,
                )
            )
    return RunRecord(
        session.workflow.relative,
        session.trigger.event,
        session.run_id,
        started,
        wall,
        dict(session.variables),
        {job_id: list(needs_of(job)) for job_id, job in session.workflow.jobs.items()},
        instances,
        files,
    )
