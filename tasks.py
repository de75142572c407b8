"""Container work: `invoke --list` shows the tasks, `invoke --help TASK` their options.

Each task is a few lines over the `pipeline` package; a UserError becomes one
paragraph and exit status 1, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

from pipeline import bench, console, containers, images, workflows
from pipeline import changes as changes_of
from pipeline import doctor as doctor_checks
from pipeline.actions import local as local_ci
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
        "load": "load the image into the local engine (default on; --no-load)",
        "registry": "registry prefix of the tags, e.g. ghcr.io/org",
        "output": "append image=REF (NAME@DIGEST after a push, else NAME:local), name, digest, sbom to this file "
        "(e.g. $GITHUB_OUTPUT)",
        "attest": "attach an SBOM (the Dockerfile's sbom-generator stage) and mode=max provenance, checked against "
        "uv.lock (default on; --no-attest)",
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
    registry: str | None = None,
    output: str | None = None,
    attest: bool = True,
) -> None:
    """Build the production image with buildx, the right cache backend, its SBOM and provenance."""
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
            registry=registry,
            attest=attest,
            say=console.say,
        )
        images.report(result)
        images.write_output(result, output if push or load else None, pushed=push)


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
        containers.check(facts, image or f"{facts.image.name}:{images.LOCAL_TAG}", mode, timeout)


@task(help={"down": "remove a running stack's containers (the volumes are kept: the database, node_modules)"})
def dev_stack(c: Context, down: bool = False) -> None:
    """Development stack (compose/dev.yaml): backend with the code mounted, Tailwind's watcher, PostgreSQL, Redis."""
    with user_errors():
        code = containers.run_dev_stack(load_facts(), down=down)
        if code:
            raise UserError(f"docker compose exited with {code} (its output is above)", "fix what it reported")


@task(help={"output": "file to append the matrices to (GitHub: $GITHUB_OUTPUT); default: print"})
def ci_matrix(c: Context, output: str | None = None) -> None:
    """The CI job matrices (checks, tests, coverage), from `nox -l --json`."""
    with user_errors():
        lines = workflows.github_output_lines(workflows.matrices(workflows.nox_sessions(load_facts().root)))
        if output:
            with Path(output).open("a", encoding="utf-8") as handle:
                handle.write(lines)
        console.say(lines.rstrip())


@task(help={"output": "file to append `area=true|false` lines to (GitHub: $GITHUB_OUTPUT); default: print only"})
def changes(c: Context, output: str | None = None) -> None:
    """Which areas ([tool.pipeline.areas]) this change touches: their jobs of ci.yml run, the others are skipped."""
    with user_errors():
        facts = load_facts()
        changes_of.announce(facts.root, facts.areas, os.environ, output)


@task
def all_green(c: Context) -> None:
    """Fail unless every job in NEEDS (`${{ toJSON(needs) }}`) succeeded or was skipped by its area rule."""
    with user_errors():
        console.success(changes_of.all_green(os.environ.get("NEEDS", ""), load_facts().areas))


@task
def report_failure(c: Context) -> None:
    """Open (or comment on) the issue for a failed CI run on main; uses gh, NEEDS, RUN_URL, WORKFLOW."""
    with user_errors():
        results = workflows.job_results(os.environ.get("NEEDS", ""))
        done = workflows.report_failure(
            os.environ.get("WORKFLOW", "CI"), results, os.environ.get("RUN_URL", "(run URL unknown)")
        )
        console.success(f"report-failure: {done}")


@task(help={"image": "NAME@sha256:DIGEST to promote", "to": "tag to point at it (default: production)"})
def promote_image(c: Context, image: str, to: str = "production") -> None:
    """Deploy by promotion: tag exactly this pushed digest as `to` in the registry."""
    with user_errors():
        images.promote(image, to)
        console.success(f"promote-image: {image} is now {image.split('@', 1)[0]}:{to}")


@task(
    iterable=["only", "skip", "python", "secret", "var"],
    help={
        "workflow": "the workflow file to rehearse (default .github/workflows/ci.yml)",
        "event": "pull_request (the default, where the workflow has it), push, workflow_dispatch, schedule, ...",
        "ref": "the ref rehearsed (default: refs/pull/1/merge for a pull request, else refs/heads/main)",
        "secret": "a secret the workflow may read, from the environment variable of that name; repeatable",  # nosec B105 -- help text
        "secret-file": "an .env-style file of NAME=VALUE secrets (values are masked as *** in every log)",
        "var": "a repository variable (the `vars` context) as NAME=VALUE; repeatable",
        "all": "every job, whatever the change touches (the variable CI_ALL_AREAS=true, as on GitHub)",
        "event-file": "a real event payload (JSON, as act's -e); default: a same-repository pull request into main",
        "dry-run": "print the plan (every job, matrix entry and step, and why) and run nothing of the workflow",
        "resolve-outputs": "plan like --dry-run, first running exactly the jobs whose outputs the plan reads "
        "(a matrix a job computes), named before they run",
        "only": "run only these jobs (job id or name, e.g. tests-3.12); repeatable",
        "skip": "skip these jobs (e.g. audit where no advisory service is reachable); repeatable",
        "python": "run matrix entries of this Python only; repeatable",
        "fail-fast": "start no new job after the first failure (default: keep going)",
        "jobs": "jobs side by side (default: the number of cores)",
        "failed": "re-run the jobs that failed or were cancelled in the last run of this workflow and event, and "
        "the jobs that need them; the others keep their results and outputs (GitHub's Re-run failed jobs)",
    },
)
def ci(
    c: Context,
    only: list[str],
    skip: list[str],
    python: list[str],
    secret: list[str],
    var: list[str],
    workflow: str = str(local_ci.CI_WORKFLOW),
    event: str = "",
    ref: str = "",
    event_file: str = "",
    secret_file: str = "",  # nosec B107 -- no file unless one is named
    dry_run: bool = False,
    resolve_outputs: bool = False,
    fail_fast: bool = False,
    jobs: int = 0,
    all: bool = False,
    failed: bool = False,
) -> None:
    """Rehearse a GitHub workflow here (ci.yml by default), as GitHub runs it."""
    with user_errors():
        request = local_ci.Request(
            Path(workflow),
            event,
            ref,
            event_file,
            secret,
            secret_file,
            var,
            all,
            dry_run,
            resolve_outputs,
            failed,
            jobs,
        )
        local_ci.main(load_facts(), request, local_ci.Selection(only, skip, python, fail_fast))


@task
def doctor(c: Context) -> None:
    """Preflight: Pythons, nox/uv, Docker, buildx, compose, .env, settings, disk; each with its fix."""
    with user_errors():
        checks = doctor_checks.run_checks(load_facts())
        doctor_checks.show(checks)
        console.success(f"doctor: {doctor_checks.verdict(checks)}")


@task(
    name="bench",
    iterable=["only", "skip"],
    help={
        "only": f"sections to run (default all): {', '.join(bench.SECTIONS)}; repeatable",
        "skip": "ci section: jobs to leave out (e.g. audit where no advisory service is reachable)",
    },
)
def run_benchmarks(c: Context, only: list[str], skip: list[str]) -> None:
    """Benchmarks: figures as ratios to a baseline measured in the same run."""
    with user_errors():
        unknown = sorted(set(only) - set(bench.SECTIONS))
        if unknown:
            raise UserError(f"Unknown bench section(s): {', '.join(unknown)}", f"use {', '.join(bench.SECTIONS)}")
        bench.run(load_facts(), only or bench.SECTIONS, skip)
