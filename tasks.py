"""Container work: `invoke --list` shows the tasks, `invoke --help TASK` their options.

Each task is a few lines over the `pipeline` package; a UserError becomes one
paragraph and exit status 1, never a traceback.
"""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from pipeline import console, containers, images
from pipeline.entry import user_errors
from pipeline.errors import UserError
from pipeline.facts import load as load_facts


@task(
    help={
        "cache": "auto (gha on GitHub, else local) | gha | local | registry=REF | none",
        "target": "Dockerfile stage to build (default from pyproject.toml)",
        "python": "Python version of the base image (default from pyproject.toml)",
        "base-image": "base image, e.g. a mirror of python:3.12-slim-bookworm",
        "ca-bundle": "PEM bundle for a TLS-intercepting proxy (or BUILD_CA_BUNDLE); passed as a build secret",
        "push": "push the tags (needs `docker login`)",
        "load": "load the image into the local engine (default on)",
    }
)
def build_image(
    c: Context,
    cache: str = "auto",
    target: str | None = None,
    python: str | None = None,
    base_image: str | None = None,
    ca_bundle: str | None = None,
    push: bool = False,
    load: bool = True,
) -> None:
    """Build the production image with buildx and the right cache backend."""
    with user_errors():
        result = images.build(
            load_facts(),
            cache=cache,
            target=target,
            python=python,
            base_image=base_image,
            ca_bundle=ca_bundle,
            push=push,
            load=load,
            say=console.say,
        )
        images.report(result)


@task(
    help={
        "mode": "validate (the image alone, no database) | stack (compose: PostgreSQL, Redis, the image)",
        "image": "image to check (default: <image name>:local, what build-image tags)",
        "timeout": "seconds to wait for healthy (default 120)",
    }
)
def check_container(c: Context, mode: str = "validate", image: str | None = None, timeout: float = 120) -> None:
    """Prove the production image starts and serves; removes everything it started."""
    with user_errors():
        facts = load_facts()
        tag = image or f"{facts.image.name}:{images.LOCAL_TAG}"
        if mode == "validate":
            report = containers.check_validate(facts, tag, timeout)
        elif mode == "stack":
            report = containers.check_stack(facts, tag, timeout)
        else:
            raise UserError(f"Unknown mode {mode!r}", "use --mode validate or --mode stack")
        containers.print_report(report)


@task(help={"down": "stop and remove the stack's containers (the database volume is kept)"})
def dev_stack(c: Context, down: bool = False) -> None:
    """Development stack (compose/dev.yaml): backend with the code mounted, PostgreSQL, Redis."""
    with user_errors():
        code = containers.run_dev_stack(load_facts(), down=down)
        if code:
            raise UserError(f"docker compose exited with {code} (its output is above)", "fix what it reported")
