"""How gunicorn serves the application, read from the environment through `ops.env` like every other
setting: `gunicorn.conf.py` takes its values from here, and `manage.py check_config` (which the image's
entrypoint runs first) lists a malformed one with the rest, instead of gunicorn ending in a traceback.

Left unset, the worker count is sized for the CPUs the container may use (its cgroup's quota, else the
CPUs it is pinned to), by gunicorn's own rule of thumb: two per CPU, plus one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ops import env

GUNICORN_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
LARGEST_PORT = 65_535


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPUs this process may use: a cgroup v2 quota (`200000 100000` is 2) when one is set, else the
    CPUs it may be scheduled on."""
    pinned = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        return max(1, min(pinned, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 file, or "max" (no quota)
        return pinned


@dataclass(frozen=True)
class Serving:
    port: int
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    log_level: str
    forwarded_allow_ips: str
    cpus: int

    @property
    def line(self) -> str:
        """What a person (and `invoke bench --only load`) reads in the log at start."""
        return (
            f"serving: {self.workers} workers x {self.threads} threads on {self.cpus} CPU(s), "
            f"timeout {self.timeout} s, graceful timeout {self.graceful_timeout} s"
        )


def read(reader: env.Reader) -> Serving:
    cpus = usable_cpus()
    return Serving(
        port=reader.integer("PORT", 8000, minimum=1, maximum=LARGEST_PORT),
        workers=reader.integer("WEB_CONCURRENCY", 2 * cpus + 1, minimum=1, maximum=256),
        threads=reader.integer("GUNICORN_THREADS", 4, minimum=1, maximum=256),
        timeout=reader.integer("GUNICORN_TIMEOUT", 30, minimum=1),
        graceful_timeout=reader.integer("GUNICORN_GRACEFUL_TIMEOUT", 20, minimum=0),
        log_level=reader.choice("GUNICORN_LOG_LEVEL", "INFO", [level.upper() for level in GUNICORN_LOG_LEVELS]).lower(),
        forwarded_allow_ips=reader.text("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        cpus=cpus,
    )
