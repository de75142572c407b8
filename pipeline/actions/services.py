"""A job's service containers, on a network of their own, as GitHub starts them.

Ports are published on 127.0.0.1 only; `job.services.<name>.ports['5432']`
reads the host port. Everything carries the run's label, so a stop (also
Ctrl-C from another thread) removes it all. Docker itself is `pipeline.engine`'s.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import engine
from pipeline.errors import UserError

LABEL = "pipeline.local-ci"
JOB_LABEL = f"{LABEL}.job"  # the job (and matrix entry) whose services they are
HEALTH_TIMEOUT = 120.0
LOG_TAIL = 20


def wait_healthy(name: str, container: str, stopping: threading.Event, timeout: float = HEALTH_TIMEOUT) -> None:
    """Until the service is healthy (or running, where its image has no health check), or the job is stopped."""
    health = engine.wait_for_health(
        container, timeout, running_is_healthy=True, stopping=stopping, log_tail=LOG_TAIL, interval=1
    )
    if health.healthy or health.stopped:
        return
    raise UserError(
        f"service {name} is {health.status or 'gone'}: {health.logs.strip()[-800:]}",
        "check the service's image, env and options in the workflow",
    )


def remove_labelled(label: str) -> None:
    """Remove every container and network of a run (what it started, nothing else)."""
    engine.remove_labelled(label)


@dataclass
class JobContainers:
    """What `started` yields: the `job.services` and `job.container` contexts."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    container: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def started(
    services: Mapping[str, Mapping[str, Any]],
    *,
    run_label: str,
    job_key: str,
    resolve_image: Callable[[str], str],
    stopping: threading.Event,
    container: JobContainer | None = None,
) -> Iterator[JobContainers]:
    """Start the job's container (a `container:` job) and its services on one network, wait until the services
    are healthy; yield the `job.services` and `job.container` contexts; remove them all."""
    if not services and container is None:
        yield JobContainers()
        return
    labels = {LABEL: run_label, JOB_LABEL: job_key}
    network = f"invoke-ci-{run_label}-{abs(hash(job_key)) % 10**8}"
    context: dict[str, dict[str, Any]] = {}
    job_container: dict[str, Any] = {}
    try:
        created = engine.create_network(network, labels)
        if created.returncode:
            raise UserError(f"cannot create the job's network: {created.stderr.strip()}", "check the Docker engine")
        if container is not None:
            job_container = start_job_container(container, network, labels, resolve_image)
        for name, service in services.items():
            image = resolve_image(str(service["image"]))
            made = engine.create_service(name, service, image, network=network, labels=labels)
            if made.returncode or stopping.is_set():
                raise UserError(
                    f"service {name} ({image}) was not created: {made.stderr.strip()}", "see docker's message"
                )
            service_id = made.stdout.strip()
            engine.start_container(service_id)
            wait_healthy(name, service_id, stopping)
            context[name] = {"id": service_id, "network": network, "ports": engine.published_ports(service_id)}
        yield JobContainers(context, job_container)
    finally:
        ids = [service["id"] for service in context.values()] + ([job_container["id"]] if job_container else [])
        engine.remove_network(network, ids)


@dataclass(frozen=True)
class JobContainer:
    """A job's `container:` (its image, env, options), read from the workflow."""

    image: str
    env: Mapping[str, str]
    options: str
    mounts: tuple[Path, ...]


def start_job_container(
    spec: JobContainer, network: str, labels: Mapping[str, str], resolve_image: Callable[[str], str]
) -> dict[str, Any]:
    """The job container, started: the `job.container` context."""
    image = resolve_image(spec.image)
    made = engine.create_job_container(
        image, network=network, labels=labels, env=spec.env, mounts=spec.mounts, options=spec.options
    )
    if made.returncode:
        raise UserError(f"the job container ({image}) was not created: {made.stderr.strip()}", "see docker's message")
    identifier = made.stdout.strip()
    started_now = engine.start_container(identifier)
    if started_now.returncode:
        raise UserError(f"the job container ({image}) did not start: {started_now.stderr.strip()}", "see above")
    return {"id": identifier, "network": network, "shell": "bash" if engine.has_program(identifier, "bash") else "sh"}
