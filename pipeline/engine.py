"""The one door to Docker: no other module runs the `docker` command or imports its SDK.

Everything the pipeline asks of the engine goes through here: the engine check
(no `docker` command is `errors.no_docker_command()`, an engine that does not
answer is `errors.no_docker_engine()`), the CLI itself (`docker`, `stream`),
buildx probes, compose (run to its end, or the dev stack's `up` in the
foreground), images (present? remove), containers (created from a plain
mapping, as a workflow's service is written; started; exec; ports; logs),
the one wait for a container's health, and removing what was started.

The CLI runs through `pipeline.processes`, the door for programs: a missing
`docker` is a UserError here, an exit status is the caller's to judge (what a
failure means, and the message that says so, belong to the caller), unless a
function below says it raises.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import processes
from pipeline.errors import UserError, no_docker_command, no_docker_engine

DEFAULT_TIMEOUT = 120.0


def command(*args: str) -> list[str]:
    """The docker CLI's argv for `args`: what is shown to the user, and what `docker` runs."""
    return ["docker", *args]


def _command_missing(error: UserError) -> bool:
    """processes' UserError for a program that could not be started (not one that timed out)."""
    return isinstance(error.__cause__, OSError)


def no_command(error: UserError) -> bool:
    """Is this the error for a machine without the docker command (`errors.no_docker_command()`)?"""
    return error.problem == no_docker_command().problem


def docker(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    input: str | None = None,
    capture: bool = True,
    merge_output: bool = False,
    detached: bool = False,
) -> processes.Completed:
    """Run `docker ARGS...` to its end (output kept unless `capture` is False; `detached`: see processes.run).
    No docker command: `errors.no_docker_command()`; no end within `timeout`: processes' UserError."""
    try:
        return processes.run(
            command(*args),
            cwd=cwd,
            env=env,
            timeout=timeout,
            input=input,
            capture=capture,
            merge_output=merge_output,
            detached=detached,
        )
    except UserError as error:
        if _command_missing(error):
            raise no_docker_command() from None
        raise


def stream(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> processes.Completed:
    """Run `docker ARGS...`, echoing its merged output as it comes (a build's log); the output is kept."""
    try:
        return processes.stream(command(*args), cwd=cwd, env=env, echo=sys.stdout.write)
    except UserError as error:
        if _command_missing(error):
            raise no_docker_command() from None
        raise


@contextlib.contextmanager
def exclusive_builds(
    waiting: Callable[[], object] = lambda: None, environ: Mapping[str, str] | None = None
) -> Iterator[None]:
    """One image build at a time on this engine, across processes (two terminals, jobs side by side under
    `invoke ci`, tests): concurrent buildx builds that export cache to one engine can fail ("only one
    connection allowed"). Keyed by the engine (DOCKER_HOST, else DOCKER_CONTEXT), kept in the user's cache
    folder, so every checkout and copy of the project takes turns, whatever its TMPDIR."""
    env = os.environ if environ is None else environ
    endpoint = env.get("DOCKER_HOST") or env.get("DOCKER_CONTEXT") or "default"
    folder = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipeline" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / f"builds-{hashlib.sha256(endpoint.encode()).hexdigest()[:12]}.lock"
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def require_engine(timeout: float = 60) -> str:
    """The engine's server version. No docker command: `errors.no_docker_command()`; an engine that does not
    answer (or not in time): `errors.no_docker_engine()`."""
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", timeout=timeout)
    except UserError as error:
        if no_command(error):
            raise
        raise no_docker_engine() from None
    if info.returncode != 0:
        raise no_docker_engine()
    return info.stdout.strip()


def engine_answers(timeout: float = 20) -> bool:
    """Is there a docker command and an engine that answers it?"""
    try:
        require_engine(timeout)
    except UserError:
        return False
    return True


# --- buildx ----------------------------------------------------------------------------------------


def buildx_version_text() -> str:
    """`docker buildx version`'s line; UserError where the plugin is not installed."""
    result = docker("buildx", "version", timeout=60)
    if result.returncode != 0:
        raise UserError("Docker buildx is not installed", "install the buildx plugin (Debian: docker-buildx)")
    return result.stdout


def builder_fields(name: str | None = None) -> dict[str, str]:
    """`docker buildx inspect [NAME]` as {field: value} (Name, Driver, ...)."""
    result = docker("buildx", "inspect", *([name] if name else []), timeout=60)
    if result.returncode != 0:
        raise UserError(f"buildx cannot inspect the builder: {result.stderr.strip()}", "check `docker buildx ls`")
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in result.stdout.splitlines())
        if value
    }


def containerd_image_store() -> bool:
    """Does the engine keep images in containerd (where the docker driver can export cache)?"""
    return "io.containerd.snapshotter" in docker("info", "--format", "{{json .DriverStatus}}", timeout=60).stdout


def builder_exists(name: str) -> bool:
    return docker("buildx", "inspect", name, timeout=60).returncode == 0


def registry_readable(ref: str) -> bool:
    """Can buildx read the image (or cache) `ref` from its registry?"""
    return docker("buildx", "imagetools", "inspect", ref, timeout=30).returncode == 0


# --- compose ---------------------------------------------------------------------------------------


def compose_args(file: Path, *args: str, project: str | None = None) -> list[str]:
    """`compose [--project-name P] --file FILE ARGS...`: the arguments after `docker`."""
    return ["compose", *(["--project-name", project] if project else []), "--file", str(file), *args]


def compose(
    file: Path,
    *args: str,
    project: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    capture: bool = True,
    detached: bool = False,
) -> processes.Completed:
    """`docker compose` on one file, to its end."""
    return docker(
        *compose_args(file, *args, project=project),
        cwd=cwd,
        env=env,
        timeout=timeout,
        capture=capture,
        detached=detached,
    )


def compose_foreground(
    file: Path, *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[int, bool]:
    """`docker compose ARGS...` (the dev stack's `up`) in the foreground, its output on the terminal, until it
    ends. It runs in its own process group, so Ctrl-C (or SIGTERM made KeyboardInterrupt) reaches this process
    alone, which passes it on as compose's own Ctrl-C: the first stops the containers gracefully, a second kills
    them. Returns its exit status and whether it was interrupted."""
    try:
        process = processes.start(command(*compose_args(file, *args)), cwd=cwd, env=env)
    except UserError as error:
        if _command_missing(error):
            raise no_docker_command() from None
        raise
    interrupted = False
    while True:
        try:
            return process.wait(), interrupted
        except KeyboardInterrupt:
            interrupted = True
            process.send_signal(signal.SIGINT)


# --- images ----------------------------------------------------------------------------------------


def image_exists(reference: str, timeout: float = 60) -> bool:
    """Is the image `reference` present in the engine (no pull)?"""
    return docker("image", "inspect", "--format", "{{.Id}}", reference, timeout=timeout).returncode == 0


def image_size(reference: str) -> int:
    """The image's size in bytes (0 where it is not present)."""
    result = docker("image", "inspect", "--format", "{{.Size}}", reference, timeout=60)
    return int(result.stdout.strip() or 0) if result.returncode == 0 else 0


def remove_repository_images(repository: str) -> None:
    """Remove every local tag of the repository (images a test or benchmark built), nothing else."""
    tags = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository, timeout=60).stdout.split()
    if tags:
        docker("image", "rm", "--force", *tags, timeout=120)


# --- containers ------------------------------------------------------------------------------------


def publish_argument(port: object) -> str:
    """`5432`, `5432/tcp`, `8080:80`: GitHub's port forms, published on 127.0.0.1 only."""
    text = str(port)
    if ":" in text:
        host, container = text.rsplit(":", 1)
        return f"127.0.0.1:{host}:{container}"
    return f"127.0.0.1::{text}"


def label_arguments(labels: Mapping[str, str]) -> list[str]:
    return [part for key, value in labels.items() for part in ("--label", f"{key}={value}")]


def create_arguments(
    image: str,
    *,
    labels: Mapping[str, str],
    env: Mapping[str, object] | None = None,
    ports: Sequence[object] = (),
    name: str | None = None,
    network: str | None = None,
    alias: str | None = None,
    options: str = "",
) -> list[str]:
    """`docker create`'s arguments (its stdout is the new container's id): labels, network (and the name
    other containers reach it by), env, ports published on 127.0.0.1, then the workflow's own `options`,
    then the image."""
    args = ["create", *label_arguments(labels)]
    if name:
        args += ["--name", name]
    if network:
        args += ["--network", network]
    if alias:
        args += ["--network-alias", alias]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    for port in ports:
        args += ["--publish", publish_argument(port)]
    return [*args, *shlex.split(options), image]


def create_service(
    name: str, service: Mapping[str, Any], image: str, *, network: str, labels: Mapping[str, str]
) -> processes.Completed:
    """A workflow's service container (`env`, `ports`, `options` of its plain mapping) on the job's network,
    reachable there as `name`; created, not started."""
    arguments = create_arguments(
        image,
        labels=labels,
        env=service.get("env") or {},
        ports=list(service.get("ports") or []),
        network=network,
        alias=name,
        options=str(service.get("options") or ""),
    )
    return docker(*arguments)


def create_job_container(
    image: str,
    *,
    network: str,
    labels: Mapping[str, str],
    env: Mapping[str, object],
    mounts: Sequence[Path],
    options: str = "",
) -> processes.Completed:
    """A container job's container, as GitHub's runner makes it: on the job's network, `mounts` at the
    same paths (the checkout, the job's files), kept alive by `tail -f /dev/null` while steps run in it."""
    arguments = create_arguments(image, labels=labels, env=env, network=network, options=options)
    volumes = [argument for mount in mounts for argument in ("--volume", f"{mount}:{mount}")]
    return docker(arguments[0], *volumes, "--entrypoint", "tail", *arguments[1:], "-f", "/dev/null")


def exec_command(container: str, argv: Sequence[str], *, env: Mapping[str, str], workdir: Path) -> list[str]:
    """The argv that runs a step inside a container job's container (run through `processes`, as a step)."""
    variables = [argument for key, value in env.items() for argument in ("--env", f"{key}={value}")]
    return command("exec", "--interactive", "--workdir", str(workdir), *variables, container, *argv)


def has_program(container: str, program: str) -> bool:
    return docker("exec", container, "sh", "-c", f"command -v {shlex.quote(program)}").returncode == 0


def start_container(container: str) -> processes.Completed:
    return docker("start", container)


def run_detached(
    image: str, *, name: str, labels: Mapping[str, str], env: Mapping[str, object], ports: Sequence[object]
) -> str:
    """Create and start a container (see `create_arguments`); its id. UserError with docker's message when
    it cannot be created or started."""
    made = docker(*create_arguments(image, name=name, labels=labels, env=env, ports=ports))
    if made.returncode != 0:
        raise UserError(
            f"Docker could not create a container from {image}: {made.stderr.strip()}", "see docker's message"
        )
    container = made.stdout.strip()
    started = start_container(container)
    if started.returncode != 0:
        raise UserError(f"Docker could not start a container from {image}: {started.stderr.strip()}", "see above")
    return container


def exec_in(container: str, argv: Sequence[str], timeout: float = 300) -> processes.Completed:
    """Run `argv` inside the running container; stdout and stderr merged, in order."""
    return docker("exec", container, *argv, timeout=timeout, merge_output=True)


def state(container: str) -> dict[str, Any] | None:
    """The container's `.State` (Status, ExitCode, Health), or None once it is gone."""
    inspected = docker("inspect", "--format", "{{json .State}}", container, timeout=60)
    if inspected.returncode != 0:
        return None
    found: dict[str, Any] = json.loads(inspected.stdout)
    return found


def published_ports(container: str) -> dict[str, str]:
    """{container port: host port}, e.g. {'5432': '49153'}."""
    inspect = docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", container, timeout=60)
    mapping = json.loads(inspect.stdout or "{}") or {}
    return {key.split("/")[0]: value[0]["HostPort"] for key, value in mapping.items() if value}


def logs(container: str, tail: int) -> str:
    """The container's last `tail` log lines (stdout and stderr in order), or "(no logs)"."""
    result = docker("logs", "--tail", str(tail), container, timeout=60, merge_output=True)
    return result.stdout if result.returncode == 0 else "(no logs)"


def health_probes(found: Mapping[str, Any] | None, last: int = 3) -> str:
    """The output of the last health probes in a `.State`."""
    probes = ((found or {}).get("Health") or {}).get("Log") or []
    return "\n".join(str(probe.get("Output", "")).strip() for probe in probes[-last:]) or "(no probe ran)"


@dataclass(frozen=True)
class Health:
    """How a wait for a container's health ended."""

    healthy: bool
    # The state of a container that has ended, else its health status ('starting', 'unhealthy') where the
    # image has a health check, else its state ('running'); "" once it is gone.
    status: str
    state: str  # .State.Status: created, running, exited, dead
    exit_code: int | None
    seconds: float
    timed_out: bool = False
    stopped: bool = False  # the caller's `stopping` was set: a cancel, not a verdict
    logs: str = ""  # on failure: the last log lines
    probes: str = ""  # on failure: the last health probes' output


ENDED = {"exited", "dead"}


def wait_for_health(
    container: str,
    timeout: float,
    *,
    running_is_healthy: bool = False,
    stopping: threading.Event | None = None,
    log_tail: int = 40,
    interval: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
) -> Health:
    """Wait until Docker reports the container healthy (or, with `running_is_healthy`, running where its image
    has no health check). Ends early when it exits, turns unhealthy or is gone, at `timeout` seconds, or when
    `stopping` is set. The caller says what a failure means; the logs and probes come with it."""
    started = clock()
    while True:
        if stopping is not None and stopping.is_set():
            return Health(False, "", "", None, clock() - started, stopped=True)
        found = state(container)
        current = str((found or {}).get("Status", ""))
        health = str(((found or {}).get("Health") or {}).get("Status", ""))
        status = current if current in ENDED else (health or current)
        exit_code = (found or {}).get("ExitCode")
        if health == "healthy" or (running_is_healthy and not health and current == "running"):
            return Health(True, status, current, exit_code, clock() - started)
        timed_out = clock() - started > timeout
        if found is None or current in ENDED or health == "unhealthy" or timed_out:
            return Health(
                False,
                status,
                current,
                exit_code,
                clock() - started,
                timed_out=timed_out and found is not None and current not in ENDED and health != "unhealthy",
                logs=logs(container, log_tail),
                probes=health_probes(found),
            )
        time.sleep(interval)


def remove_containers(*containers: str) -> None:
    """Remove these containers and their anonymous volumes (running or not)."""
    if containers:
        docker("rm", "--force", "--volumes", *dict.fromkeys(containers))


def remove_labelled(label: str) -> None:
    """Remove every container and network carrying `label` (KEY=VALUE): what one run started, nothing else."""
    remove_containers(*docker("ps", "--all", "--quiet", "--filter", f"label={label}").stdout.split())
    networks = docker("network", "ls", "--quiet", "--filter", f"label={label}").stdout.split()
    if networks:
        docker("network", "rm", *networks)


def create_network(network: str, labels: Mapping[str, str]) -> processes.Completed:
    return docker("network", "create", *label_arguments(labels), network)


def remove_network(network: str, containers: Sequence[str] = ()) -> None:
    """Remove `containers` and every container on the network, then the network."""
    attached = docker("ps", "--all", "--quiet", "--filter", f"network={network}").stdout.split()
    remove_containers(*containers, *attached)
    docker("network", "rm", network)
