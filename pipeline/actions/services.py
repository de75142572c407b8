"""A job's service containers, on a network of their own, as GitHub starts them.

Ports are published on 127.0.0.1 only; `job.services.<name>.ports['5432']`
reads the host port. Everything carries the run's label, so a stop (also
Ctrl-C from another thread) removes it all.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pipeline.errors import UserError

LABEL = "pipeline.local-ci"
HEALTH_TIMEOUT = 120.0


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise UserError("the job has service containers, but `docker` is not installed", "install Docker") from None


def publish_argument(port: object) -> str:
    """`5432`, `5432/tcp`, `8080:80`: GitHub's port forms, published on 127.0.0.1 only."""
    text = str(port)
    if ":" in text:
        host, container = text.rsplit(":", 1)
        return f"127.0.0.1:{host}:{container}"
    return f"127.0.0.1::{text}"


def create_arguments(name: str, service: Mapping[str, Any], image: str, network: str, label: str) -> list[str]:
    args = ["create", "--label", label, "--network", network, "--network-alias", name]
    for key, value in (service.get("env") or {}).items():
        args += ["--env", f"{key}={value}"]
    for port in service.get("ports") or []:
        args += ["--publish", publish_argument(port)]
    return [*args, *shlex.split(str(service.get("options") or "")), image]


def published_ports(container: str) -> dict[str, str]:
    inspect = docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", container)
    mapping = json.loads(inspect.stdout or "{}") or {}
    return {key.split("/")[0]: value[0]["HostPort"] for key, value in mapping.items() if value}


def wait_healthy(name: str, container: str, stopping: threading.Event, timeout: float = HEALTH_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    template = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
    while not stopping.is_set():
        status = docker("inspect", "--format", template, container).stdout.strip()
        if status in {"healthy", "running"}:
            return
        if status in {"exited", "dead", "unhealthy"} or time.monotonic() > deadline:
            logs = docker("logs", "--tail", "20", container)
            raise UserError(
                f"service {name} is {status or 'gone'}: {(logs.stdout + logs.stderr).strip()[-800:]}",
                "check the service's image, env and options in the workflow",
            )
        time.sleep(1)


def remove_labelled(label: str) -> None:
    """Remove every container and network of a run (what it started, nothing else)."""
    containers = docker("ps", "--all", "--quiet", "--filter", f"label={label}").stdout.split()
    if containers:
        docker("rm", "--force", "--volumes", *containers)
    networks = docker("network", "ls", "--quiet", "--filter", f"label={label}").stdout.split()
    if networks:
        docker("network", "rm", *networks)


@contextlib.contextmanager
def started(
    services: Mapping[str, Mapping[str, Any]],
    *,
    run_label: str,
    job_key: str,
    resolve_image: Callable[[str], str],
    stopping: threading.Event,
) -> Iterator[dict[str, dict[str, Any]]]:
    """Start the services, wait until healthy; yield the `job.services` context; remove them all."""
    if not services:
        yield {}
        return
    label = f"{LABEL}={run_label}"
    network = f"invoke-ci-{run_label}-{abs(hash(job_key)) % 10**8}"
    context: dict[str, dict[str, Any]] = {}
    try:
        created = docker("network", "create", "--label", label, network)
        if created.returncode:
            raise UserError(f"cannot create the job's network: {created.stderr.strip()}", "check the Docker engine")
        for name, service in services.items():
            image = resolve_image(str(service["image"]))
            made = docker(*create_arguments(name, service, image, network, label))
            if made.returncode or stopping.is_set():
                raise UserError(
                    f"service {name} ({image}) was not created: {made.stderr.strip()}", "see docker's message"
                )
            container = made.stdout.strip()
            docker("start", container)
            wait_healthy(name, container, stopping)
            context[name] = {"id": container, "network": network, "ports": published_ports(container)}
        yield context
    finally:
        ids = [service["id"] for service in context.values()]
        for extra in docker("ps", "--all", "--quiet", "--filter", f"network={network}").stdout.split():
            ids.append(extra)
        if ids:
            docker("rm", "--force", "--volumes", *dict.fromkeys(ids))
        docker("network", "rm", network)
