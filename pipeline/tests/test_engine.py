"""pipeline.engine in-process: the one wait for health on inspected states, and builds taking turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import engine


def states(monkeypatch: pytest.MonkeyPatch, *answers: dict[str, Any] | None) -> None:
    """`engine.state` answers these in turn (the last one from then on); logs are a fixed line; no sleeping."""
    given: Iterator[dict[str, Any] | None] = iter(answers)
    last: list[dict[str, Any] | None] = [None]

    def state(container: str) -> dict[str, Any] | None:
        last[0] = next(given, last[0])
        return last[0]

    monkeypatch.setattr(engine, "state", state)
    monkeypatch.setattr(engine, "logs", lambda container, tail: f"last {tail} lines of {container}")
    monkeypatch.setattr("pipeline.engine.time.sleep", lambda seconds: None)


def ticking() -> Any:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    return clock


STARTING = {"Status": "running", "Health": {"Status": "starting", "Log": []}}
HEALTHY = {"Status": "running", "Health": {"Status": "healthy"}}


def test_healthy_after_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    states(monkeypatch, STARTING, STARTING, HEALTHY)
    health = engine.wait_for_health("c1", 60, clock=ticking())
    assert health.healthy
    assert health.logs == ""


def test_running_counts_only_without_a_health_check_and_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    states(monkeypatch, {"Status": "running"})
    assert engine.wait_for_health("c1", 60, running_is_healthy=True, clock=ticking()).healthy
    states(monkeypatch, STARTING)
    assert not engine.wait_for_health("c1", 5, running_is_healthy=True, clock=ticking()).healthy


def test_an_exited_container_ends_the_wait_with_its_code_logs_and_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    ended = {"Status": "exited", "ExitCode": 3, "Health": {"Status": "starting", "Log": [{"Output": "refused\n"}]}}
    states(monkeypatch, STARTING, ended)
    health = engine.wait_for_health("c1", 60, log_tail=20, clock=ticking())
    assert (health.healthy, health.timed_out, health.status, health.state, health.exit_code) == (
        False,
        False,
        "exited",
        "exited",
        3,
    )
    assert health.logs == "last 20 lines of c1"
    assert health.probes == "refused"


def test_unhealthy_gone_and_timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    states(monkeypatch, {"Status": "running", "Health": {"Status": "unhealthy"}})
    unhealthy = engine.wait_for_health("c1", 60, clock=ticking())
    assert (unhealthy.status, unhealthy.timed_out) == ("unhealthy", False)
    states(monkeypatch, None)
    gone = engine.wait_for_health("c1", 60, clock=ticking())
    assert (gone.healthy, gone.status, gone.timed_out) == (False, "", False)
    states(monkeypatch, STARTING)
    late = engine.wait_for_health("c1", 5, clock=ticking())
    assert (late.healthy, late.status, late.timed_out) == (False, "starting", True)
    assert late.probes == "(no probe ran)"


def test_a_stop_ends_the_wait_without_a_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    states(monkeypatch, STARTING)
    stopping = threading.Event()
    stopping.set()
    health = engine.wait_for_health("c1", 60, stopping=stopping, clock=ticking())
    assert health.stopped
    assert not health.healthy


def test_ports_are_published_on_loopback_only() -> None:
    assert engine.publish_argument(5432) == "127.0.0.1::5432"
    assert engine.publish_argument("8080:80") == "127.0.0.1:8080:80"
    args = engine.create_arguments(
        "postgres:16", labels={"k": "v"}, env={"A": 1}, ports=["5432/tcp"], network="n", alias="db", options="--rm"
    )
    assert args == [
        "create",
        "--label",
        "k=v",
        "--network",
        "n",
        "--network-alias",
        "db",
        "--env",
        "A=1",
        "--publish",
        "127.0.0.1::5432/tcp",
        "--rm",
        "postgres:16",
    ]


def test_builds_on_one_engine_take_turns_and_the_second_says_it_waits(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path), "DOCKER_HOST": "unix:///var/run/docker.sock"}
    events: list[str] = []
    first_holds = threading.Event()
    release = threading.Event()

    def first() -> None:
        with engine.exclusive_builds(environ=environ):
            events.append("first builds")
            first_holds.set()
            release.wait(5)
            events.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    first_holds.wait(5)
    threading.Timer(0.2, release.set).start()
    with engine.exclusive_builds(waiting=lambda: events.append("second waits"), environ=environ):
        events.append("second builds")
    thread.join()
    assert events == ["first builds", "second waits", "first done", "second builds"]
    other_engine = {**environ, "DOCKER_HOST": "ssh://builder@elsewhere"}
    with (
        engine.exclusive_builds(environ=environ),
        engine.exclusive_builds(waiting=lambda: events.append("never"), environ=other_engine),
    ):
        pass  # another engine's builds do not wait for this one's
    assert "never" not in events
