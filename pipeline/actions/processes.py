"""The step processes of a local run: each in its own process group, stopped as GitHub stops them.

On a timeout or a cancellation GitHub's runner sends SIGINT, then SIGTERM after
7.5 s, then kills; here the same, faster, so Ctrl-C ends a run within 10 s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

STOP_SIGNALS = ((signal.SIGINT, 3.0), (signal.SIGTERM, 2.0), (signal.SIGKILL, 1.0))


class ProcessGroups:
    """Every step process that is running, so that a stop reaches all of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self.stopping = threading.Event()

    def run(
        self, argv: list[str], *, cwd: Path, env: Mapping[str, str], log: IO[str], timeout: float | None
    ) -> int | None:
        """The exit status, or None when the timeout ran out (the group was stopped)."""
        log.flush()
        process = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        with self._lock:
            self._running.add(process)
        try:
            if self.stopping.is_set():
                stop_group(process)
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            return None
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


def stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in STOP_SIGNALS:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return
            time.sleep(0.05)
