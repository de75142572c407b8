"""The one door for running programs: what a caller gets back, and what a stop reaches.

The pure tests use fakes (the pure tier refuses any process start); the ones that start real
programs (sh, sleep, a missing one) are in the tools tier.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from pipeline import processes
from pipeline.errors import UserError

QUICK_STOP = ((signal.SIGINT, 0.5), (signal.SIGTERM, 0.5), (signal.SIGKILL, 0.5))
FAKE_STOP = ((signal.SIGINT, 0.05), (signal.SIGTERM, 0.05), (signal.SIGKILL, 0.05))


# --- pure: fakes only ------------------------------------------------------------------------------


class RefusedError(Exception):
    pass


def test_refused_raises_the_given_error_naming_the_program_then_restores_popen() -> None:
    before = subprocess.Popen._execute_child  # type: ignore[attr-defined]
    with processes.refused(RefusedError), pytest.raises(RefusedError, match="never-started"):
        processes.run(["never-started", "--flag"])
    assert subprocess.Popen._execute_child is before  # type: ignore[attr-defined]


class FakeProcess:
    """A leader that ends at the signal `ends_on`, whose group is empty from then on."""

    def __init__(self, ends_on: signal.Signals | None) -> None:
        self.pid = 424242
        self.ends_on = ends_on
        self.returncode: int | None = None
        self.sent: list[signal.Signals] = []

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            raise subprocess.TimeoutExpired(["fake"], timeout or 0)
        return self.returncode

    def killpg(self, pid: int, sig: int) -> None:
        assert pid == self.pid
        if sig == 0:
            if self.returncode is not None:
                raise ProcessLookupError
            return
        self.sent.append(signal.Signals(sig))
        if sig == self.ends_on:
            self.returncode = -sig


MakeFake = Callable[[signal.Signals | None], FakeProcess]


@pytest.fixture
def fake_group(monkeypatch: pytest.MonkeyPatch) -> MakeFake:
    monkeypatch.setattr(processes, "STOP_SIGNALS", FAKE_STOP)
    monkeypatch.setattr(processes, "_live_members", lambda group: None)  # no /proc entry for a fake

    def make(ends_on: signal.Signals | None) -> FakeProcess:
        fake = FakeProcess(ends_on)
        monkeypatch.setattr(os, "killpg", fake.killpg)
        return fake

    return make


@pytest.mark.parametrize(
    ("ends_on", "sent"),
    [
        (signal.SIGINT, [signal.SIGINT]),
        (signal.SIGTERM, [signal.SIGINT, signal.SIGTERM]),
        (None, [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]),
    ],
)
def test_stop_group_escalates_only_while_the_group_lives(
    fake_group: MakeFake, ends_on: signal.Signals | None, sent: list[signal.Signals]
) -> None:
    fake = fake_group(ends_on)
    processes.stop_group(cast(processes.Process, fake))
    assert fake.sent == sent


def test_stop_group_sends_nothing_to_a_group_already_gone(fake_group: MakeFake) -> None:
    fake = fake_group(signal.SIGINT)
    fake.returncode = 0
    processes.stop_group(cast(processes.Process, fake))
    assert fake.sent == []


def test_wait_is_none_when_the_timeout_runs_out_else_the_status(fake_group: MakeFake) -> None:
    fake = fake_group(None)
    assert processes.wait(cast(processes.Process, fake), timeout=0.01) is None
    fake.returncode = 3
    assert processes.wait(cast(processes.Process, fake), timeout=0.01) == 3


# --- tools: real programs --------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for(path: Path, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


@pytest.mark.tools
def test_a_missing_program_is_a_user_error_naming_it() -> None:
    with pytest.raises(UserError, match="definitely-not-installed-xyz could not be started") as raised:
        processes.run(["definitely-not-installed-xyz", "--version"])
    assert "install definitely-not-installed-xyz" in raised.value.fix
    with pytest.raises(UserError, match="definitely-not-installed-xyz could not be started"):
        processes.stream(["definitely-not-installed-xyz"], echo=lambda _: None)
    with pytest.raises(UserError, match="definitely-not-installed-xyz could not be started"):
        processes.start(["definitely-not-installed-xyz"])


@pytest.mark.tools
def test_a_program_that_outlives_its_timeout_is_a_user_error_at_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(UserError, match=r"`sleep 5` did not finish within 0.2 s"):
        processes.run(["sleep", "5"], timeout=0.2)
    assert time.monotonic() - started < 3


@pytest.mark.tools
def test_run_keeps_both_outputs_apart_or_merged_and_returns_a_failure_status() -> None:
    script = "read line; echo out:$line; echo err >&2; exit 3"
    apart = processes.run(["sh", "-c", script], input="given\n")
    assert (apart.returncode, apart.stdout, apart.stderr) == (3, "out:given\n", "err\n")
    merged = processes.run(["sh", "-c", "echo one; echo two >&2; echo three"], merge_output=True)
    assert merged.stdout == "one\ntwo\nthree\n"
    assert merged.stderr is None


@pytest.mark.tools
def test_a_detached_run_outlives_its_callers_group_and_keeps_its_output(tmp_path: Path) -> None:
    """The caller is SIGKILLed (its group too) while a detached cleanup still writes: the cleanup ends its work."""
    done = tmp_path / "done"
    caller = (
        "import sys; from pathlib import Path; from pipeline import processes; "
        "processes.run(['sh', '-c', 'sleep 1; echo still writing; echo >&2 and here; touch \"$0\"', sys.argv[1]],"
        " detached=True)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", caller, str(done)], cwd=Path(__file__).parents[2], start_new_session=True
    )
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done.exists(), "the detached program died with its caller (a signal to the group, or a broken pipe)"
    result = processes.run(["sh", "-c", "echo out; echo err >&2; exit 3"], detached=True)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


@pytest.mark.tools
def test_run_uses_the_given_folder_and_environment(tmp_path: Path) -> None:
    done = processes.run(["sh", "-c", 'pwd; echo "$ONLY_HERE"'], cwd=tmp_path, env={"ONLY_HERE": "yes"})
    assert done.stdout.splitlines() == [str(tmp_path), "yes"]


@pytest.mark.tools
def test_stream_echoes_each_line_as_it_comes_and_keeps_the_output() -> None:
    echoed: list[tuple[float, str]] = []
    done = processes.stream(
        ["sh", "-c", "echo first; sleep 0.5; echo second >&2; exit 4"],
        echo=lambda line: echoed.append((time.monotonic(), line)),
    )
    assert [line for _, line in echoed] == ["first\n", "second\n"]
    assert echoed[1][0] - echoed[0][0] > 0.3  # the first line was echoed before the program went on
    assert (done.returncode, done.stdout) == (4, "first\nsecond\n")


@pytest.mark.tools
def test_start_puts_the_program_in_its_own_group_and_stop_group_ends_it() -> None:
    process = processes.start(["sleep", "30"])
    try:
        assert os.getpgid(process.pid) == process.pid != os.getpgid(0)
        assert processes.wait(process, timeout=0.2) is None
        processes.stop_group(process)
        assert process.returncode == -signal.SIGINT
    finally:
        process.kill()
        process.wait()


@pytest.mark.tools
def test_stop_group_reaches_a_background_child_that_ignores_sigint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-interactive shell's `cmd &` ignores SIGINT: the leader ends at once, its child must not live on."""
    monkeypatch.setattr(processes, "STOP_SIGNALS", QUICK_STOP)
    child = tmp_path / "child.pid"
    process = processes.start(["sh", "-c", f"sleep 30 & echo $! > {child}; wait"])
    pid = int(wait_for(child))
    try:
        processes.stop_group(process)
        assert process.returncode is not None
        assert not alive(pid), "the group's background child outlived the stop"
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.tools
def test_process_groups_stop_all_stops_every_running_group_and_any_later_one(tmp_path: Path) -> None:
    groups = processes.ProcessGroups()
    statuses: dict[int, int | None] = {}

    def step(number: int) -> None:
        with (tmp_path / f"{number}.log").open("w") as log:
            script = f"echo $$ > {tmp_path / f'{number}.pid'}; exec sleep 30"
            statuses[number] = groups.run(["sh", "-c", script], cwd=tmp_path, env=os.environ, log=log, timeout=60)

    threads = [threading.Thread(target=step, args=(number,)) for number in (1, 2)]
    for thread in threads:
        thread.start()
    pids = [int(wait_for(tmp_path / f"{number}.pid")) for number in (1, 2)]
    started = time.monotonic()
    groups.stop_all()
    for thread in threads:
        thread.join(timeout=15)
    assert time.monotonic() - started < 5  # SIGINT ends sleep: no waiting for the later signals
    assert statuses == {1: -signal.SIGINT, 2: -signal.SIGINT}
    assert not any(alive(pid) for pid in pids)

    late = time.monotonic()
    with (tmp_path / "late.log").open("w") as log:
        status = groups.run(["sleep", "30"], cwd=tmp_path, env=os.environ, log=log, timeout=60)
    assert status == -signal.SIGINT
    assert time.monotonic() - late < 5


@pytest.mark.tools
def test_process_groups_run_stops_a_step_at_its_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "STOP_SIGNALS", QUICK_STOP)
    groups = processes.ProcessGroups()
    with (tmp_path / "step.log").open("w") as log:
        started = time.monotonic()
        status = groups.run(
            ["sh", "-c", "echo begun; exec sleep 30"], cwd=tmp_path, env=os.environ, log=log, timeout=0.5
        )
    assert status is None
    assert time.monotonic() - started < 5
    assert (tmp_path / "step.log").read_text() == "begun\n"
