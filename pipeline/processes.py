"""The one door for running programs.

Every module that starts a process does it here: `run` (to its end, output
kept), `stream` (output echoed as it comes and kept), `start` (in the
background, its own process group) and `ProcessGroups` (the steps of a local
CI run, stopped as GitHub's runner stops them). A program that is not
installed, or that outlives its timeout, is a `UserError` that names it;
what a program's exit status means is its caller's decision.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from pipeline.errors import UserError

Completed = subprocess.CompletedProcess[str]
Process = subprocess.Popen[bytes]

# Signals that end a run as Ctrl-C does: `timeout` and a cancelled CI job send SIGTERM, a closed terminal SIGHUP.
TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# GitHub's runner stops a cancelled step with SIGINT, SIGTERM after 7.5 s, then SIGKILL 2.5 s later; here the
# same, so a step's own cleanup (a compose stack's `down`) has the time it has there.
STOP_SIGNALS = ((signal.SIGINT, 7.5), (signal.SIGTERM, 2.5), (signal.SIGKILL, 1.0))


def _missing(argv: Sequence[str], error: OSError) -> UserError:
    return UserError(
        f"{argv[0]} could not be started ({error.strerror or error})", f"install {argv[0]} or put it on PATH"
    )


def _timed_out(argv: Sequence[str], timeout: float | None) -> UserError:
    return UserError(
        f"`{' '.join(argv[:3])}` did not finish within {timeout} s",
        "see whether it waits for something (a network, a lock)",
    )


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    input: str | None = None,
    capture: bool = True,
    merge_output: bool = False,
    detached: bool = False,
) -> Completed:
    """Run a program to its end. Output is kept (text) unless `capture` is False, then the user sees it;
    `merge_output` puts stderr into stdout in order; `detached` starts it in a session of its own, so that the
    signals sent to this process's group (a cancelled CI step) do not reach it, its output always kept: for
    cleanups that must end.
    The exit status is the caller's to judge."""
    if detached:
        return _run_detached(argv, cwd=cwd, env=env, timeout=timeout)
    stdout = subprocess.PIPE if capture else None
    stderr = (subprocess.STDOUT if merge_output else subprocess.PIPE) if capture else None
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            timeout=timeout,
            input=input,
            stdin=subprocess.DEVNULL if input is None and capture else None,
            stdout=stdout,
            stderr=stderr,
            text=True,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise _timed_out(argv, timeout) from error
    except OSError as error:
        raise _missing(argv, error) from error


def _run_detached(
    argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str] | None, timeout: float | None
) -> Completed:
    """`run(detached=True)`: its own session, and its output in files, not pipes: should this process be killed
    meanwhile, a pipe without a reader would end the program at its next line (Go programs die of SIGPIPE)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            completed = subprocess.run(
                list(argv),
                cwd=cwd,
                env=None if env is None else dict(env),
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as error:
            raise _timed_out(argv, timeout) from error
        except OSError as error:
            raise _missing(argv, error) from error
        out.seek(0)
        err.seek(0)
        decoded = [handle.read().decode(errors="replace") for handle in (out, err)]
    return subprocess.CompletedProcess(completed.args, completed.returncode, *decoded)


def stream(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    echo: Callable[[str], object] = sys.stdout.write,
) -> Completed:
    """Run a program, echoing its merged output line by line as it comes; the output is kept in `stdout`."""
    lines: list[str] = []
    try:
        with subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            for line in process.stdout or ():
                echo(line)
                lines.append(line)
    except OSError as error:
        raise _missing(argv, error) from error
    return subprocess.CompletedProcess(list(argv), process.returncode, "".join(lines), "")


def start(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: IO[str] | None = None,
) -> Process:
    """Start a program in its own process group (Ctrl-C at the terminal does not reach it; `stop_group` does).
    Without `log` its output goes to the user's terminal; it never reads the terminal."""
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=None if log is None else subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        raise _missing(argv, error) from error


def wait(process: Process, timeout: float | None = None) -> int | None:
    """The exit status, or None when `timeout` ran out first (the process still runs)."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def group_running(process: Process) -> bool:
    """Is any process of the group left: the leader, or one it started (a background child that ignores
    SIGINT, as a non-interactive shell's `cmd &` does, outlives its leader)? One we may not signal counts as
    gone: nothing here could stop it."""
    process.poll()  # reap the leader once it has ended, so that it no longer counts
    try:
        os.killpg(process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    alive = _live_members(process.pid)
    return True if alive is None else alive


def _live_members(group: int) -> bool | None:
    """Does /proc show a process of the group that is not a zombie (an orphan that has ended waits for
    PID 1 to reap it, which may take a second)? None where there is no /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _parent, process_group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):  # ended meanwhile
            continue
        if int(process_group) == group and state != "Z":
            return True
    return False


def stop_group(process: Process) -> None:
    """SIGINT, SIGTERM, then SIGKILL to the process's whole group, each after a grace period; done when no
    process of the group is left, not merely its leader."""
    try:
        for sig, grace in STOP_SIGNALS:
            if not group_running(process):
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if not group_running(process):
                    return
                time.sleep(0.05)
    finally:
        # Reap the leader: it may have ended between a poll and the group's last look (a zombie counts as gone).
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)


class ProcessGroups:
    """Every step process of a local CI run that is running, so that a stop reaches all of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[Process] = set()
        self.stopping = threading.Event()

    def run(
        self, argv: list[str], *, cwd: Path, env: Mapping[str, str], log: IO[str], timeout: float | None
    ) -> int | None:
        """The exit status, or None when the timeout ran out (the group was stopped)."""
        log.flush()
        process = start(argv, cwd=cwd, env=env, log=log)
        with self._lock:
            self._running.add(process)
        try:
            if self.stopping.is_set():
                stop_group(process)
            status = wait(process, timeout)
            if status is None:
                stop_group(process)
            return status
        finally:
            with self._lock:
                self._running.discard(process)

    def stop_all(self) -> None:
        """Cancel: no new process starts; every running group is stopped, side by side."""
        self.stopping.set()
        with self._lock:
            running = list(self._running)
        threads = [threading.Thread(target=stop_group, args=(process,)) for process in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


@contextlib.contextmanager
def refused(error: Callable[[object], Exception]) -> Iterator[None]:
    """No process may start inside (the pure test tier): any attempt, ours or a library's, raises
    `error(argv)`."""
    original = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def refuse(self: Process, args: object, *rest: object, **kwargs: object) -> None:
        raise error(args)

    subprocess.Popen._execute_child = refuse  # type: ignore[attr-defined]
    try:
        yield
    finally:
        subprocess.Popen._execute_child = original  # type: ignore[attr-defined]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C raises KeyboardInterrupt, so one cleanup path serves all three."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within this block SIGTERM and SIGHUP stop the program as Ctrl-C does: what it started is stopped in the
    `finally` and `except KeyboardInterrupt` blocks on the way out. Outside the main thread it changes nothing
    (Python delivers signals to the main thread only). Started from a non-interactive shell's `cmd &`, this
    process and its programs would ignore SIGINT: within the block they take it, as the steps of GitHub's runner
    do (a program inherits an ignored signal, never a handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, raise_terminated) for signum in TERMINATION_SIGNALS}
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def cleaning_up() -> Iterator[None]:
    """A cleanup that a second Ctrl-C or SIGTERM must not cut short: within it they are ignored (in the main
    thread; elsewhere nothing changes). Start its programs `detached` so that SIGKILL to the group spares them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, *TERMINATION_SIGNALS)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def interrupted_exit_status(error: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + (error.signum if isinstance(error, Terminated) else signal.SIGINT)
