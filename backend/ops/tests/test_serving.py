"""gunicorn's settings: read like every other variable, sized for the container's CPUs when unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import env, serving


@pytest.mark.parametrize(("cpu_max", "expected"), [("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000", 1)])
def test_a_cgroup_quota_limits_the_cpus(tmp_path: Path, cpu_max: str, expected: int) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert serving.usable_cpus(tmp_path / "cpu.max") == min(expected, serving.usable_cpus(tmp_path / "none"))


def test_no_quota_is_every_cpu_the_process_may_use(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert serving.usable_cpus(tmp_path / "cpu.max") == serving.usable_cpus(tmp_path / "missing") >= 1


def test_unset_workers_are_two_per_cpu_plus_one() -> None:
    settings = serving.read(env.Reader({}))
    assert settings.workers == 2 * settings.cpus + 1
    assert (settings.threads, settings.timeout, settings.log_level) == (4, 30, "info")
    assert settings.line.startswith(f"serving: {settings.workers} workers x 4 threads on {settings.cpus} CPU(s)")


def test_given_values_win_and_malformed_ones_are_problems() -> None:
    reader = env.Reader({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "0", "PORT": "http", "GUNICORN_LOG_LEVEL": "loud"})
    settings = serving.read(reader)
    assert settings.workers == 3
    assert [problem.variable for problem in reader.problems] == ["PORT", "GUNICORN_THREADS", "GUNICORN_LOG_LEVEL"]
    assert (settings.port, settings.threads, settings.log_level) == (8000, 4, "info")
