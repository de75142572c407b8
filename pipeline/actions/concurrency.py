"""A workflow's `concurrency:` across local runs, as GitHub keeps it across runs of a repository.

At most one run of a group is in progress and one is pending. A new run waits for the one in progress,
or (`cancel-in-progress` true for this event) cancels it: that `invoke ci` gets SIGTERM and stops as on
Ctrl-C. A newer pending run replaces an older pending one, which ends cancelled. Groups are per
repository (keyed by this checkout's root and the group's name) and live in the user's cache folder, so
every terminal rehearsing this checkout takes part. A job's own `concurrency:` is honoured by waiting only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.actions import expressions


@dataclass(frozen=True)
class Group:
    name: str
    cancel_in_progress: bool


def group_of(concurrency: Any, contexts: Mapping[str, Any], allowed: expressions.Availability) -> Group | None:
    """`concurrency:` as a string (the group) or a mapping (group, cancel-in-progress), evaluated."""
    if concurrency is None:
        return None
    if isinstance(concurrency, Mapping):
        name = expressions.interpolate(str(concurrency.get("group", "")), contexts, allowed=allowed)
        cancel = concurrency.get("cancel-in-progress", False)
        if isinstance(cancel, str):
            cancel = expressions.evaluate_template(cancel, contexts, allowed=allowed)
        return Group(name, expressions.truthy(cancel)) if name else None
    name = expressions.interpolate(str(concurrency), contexts, allowed=allowed)
    return Group(name, False) if name else None


def folder(root: Path, group: Group, environ: Mapping[str, str]) -> Path:
    key = hashlib.sha256(f"{root.resolve()}\0{group.name}".encode()).hexdigest()[:16]
    path = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipeline" / "concurrency" / key
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _signal(pid: int | None) -> None:
    if pid and pid != os.getpid():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def held(
    root: Path, group: Group | None, say: Callable[[str], object], environ: Mapping[str, str] | None = None
) -> Iterator[None]:
    """The run's turn in its group: waits for (or cancels) the run in progress, replaces an older pending one."""
    if group is None:
        yield
        return
    place = folder(root, group, os.environ if environ is None else environ)
    running_pid, pending_pid = place / "running.pid", place / "pending.pid"
    with (place / "running.lock").open("w") as running, (place / "pending.lock").open("w") as pending:
        try:
            fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                fcntl.flock(pending, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _signal(_pid(pending_pid))  # an older pending run is replaced by this one
                fcntl.flock(pending, fcntl.LOCK_EX)
            pending_pid.write_text(str(os.getpid()))
            holder = _pid(running_pid)
            if group.cancel_in_progress:
                say(f"concurrency: cancelling the run in progress of group {group.name!r} (pid {holder})")
                _signal(holder)
            else:
                say(f"concurrency: waiting for the run in progress of group {group.name!r} (pid {holder})")
            fcntl.flock(running, fcntl.LOCK_EX)
            pending_pid.write_text("")
            fcntl.flock(pending, fcntl.LOCK_UN)
        running_pid.write_text(str(os.getpid()))
        try:
            yield
        finally:
            fcntl.flock(running, fcntl.LOCK_UN)
