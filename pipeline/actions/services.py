"""A job's service containers, on a network of their own, as GitHub starts them.

Ports are published on 127.0.0.1 only; `job.services.<name>.ports['5432']`
reads the host port. Everything carries the run's label, so a stop (also
Ctrl-C from another thread) removes it all. Docker itself is `pipeline.engine`'s.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
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
    labels = {LABEL: run_label, JOB_LABEL: job_key}
    network = f"invoke-ci-{run_label}-{abs(hash(job_key)) % 10**8}"
    context: dict[str, dict[str, Any]] = {}
    try:
        created = engine.create_network(network, labels)
        if created.returncode:
            raise UserError(f"cannot create the job's network: {created.stderr.strip()}", "check the Docker engine")
        for name, service in services.items():
            image = resolve_image(str(service["image"]))
            made = engine.create_service(name, service, image, network=network, labels=labels)
            if made.returncode or stopping.is_set():
                raise UserError(
                    f"service {name} ({image}) was not created: {made.stderr.strip()}", "see docker's message"
                )
            container = made.stdout.strip()
            engine.start_container(container)
            wait_healthy(name, container, stopping)
            context[name] = {"id": container, "network": network, "ports": engine.published_ports(container)}
        yield context
    finally:
        engine.remove_network(network, [service["id"] for service in context.values()])
