"""Real runs of `invoke ci` on copies of the project: GitHub's semantics, honoured here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from pipeline import facts, processes
from pipeline.actions import services
from pipeline.conftest import copy_env, docker, invoke, share_tools
from pipeline.facts import ROOT
from pipeline.tests import browser

HEADER = """\
name: Rehearsal
on: [pull_request, push]
permissions: {}
"""


def write_workflow(root: Path, body: str) -> str:
    path = root / ".github/workflows/rehearsal.yml"
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path.relative_to(root))


def invoke_ci(
    root: Path, *args: str, timeout: float = 600, env: Mapping[str, str] | None = None
) -> processes.Completed:
    share_tools(root)
    return invoke("ci", *args, cwd=root, timeout=timeout, env=env)


def log_of(root: Path, key: str) -> str:
    return (root / ".cache/ci-logs" / f"{key}.log").read_text()


def test_step_if_job_if_and_continue_on_error(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          first:
            runs-on: ubuntu-24.04
            outputs:
              flavour: ${{ steps.pick.outputs.flavour }}
            steps:
              - id: pick
                run: echo "flavour=Vanilla" >> "$GITHUB_OUTPUT"
              - if: github.event_name == 'push'
                run: echo "NOT-ON-A-PULL-REQUEST"
              - run: exit 3
                continue-on-error: true
              - if: steps.pick.outputs.flavour == 'vanilla'
                run: echo "case-insensitive $FLAVOUR"
                env:
                  FLAVOUR: ${{ steps.pick.outputs.flavour }}
          grouped:
            needs: first
            if: >-
              (github.event_name == 'push' || needs.first.outputs.flavour == 'VANILLA')
              && !(github.ref == 'refs/heads/main')
            runs-on: ubuntu-24.04
            steps:
              - run: echo "grouped ran"
          never:
            needs: first
            if: github.event_name == 'push' || (github.ref == 'refs/heads/main' && success())
            runs-on: ubuntu-24.04
            steps:
              - run: echo "never ran"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    first = log_of(project_copy, "first")
    assert "NOT-ON-A-PULL-REQUEST" not in first.replace('echo "NOT-ON-A-PULL-REQUEST"', "")
    assert 'skipped: Run echo "NOT-ON-A-PULL-REQUEST"' in first
    assert "exited 3 (continue-on-error)" in first
    assert "case-insensitive Vanilla" in first
    assert "job=grouped  result=success" in output
    assert "job=never  result=skipped" in output
    assert "grouped ran" in log_of(project_copy, "grouped")


def test_job_continue_on_error_and_runs_on_per_matrix_entry(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          flaky:
            runs-on: ${{ matrix.os }}
            continue-on-error: ${{ matrix.experimental }}
            strategy:
              matrix:
                os: [ubuntu-24.04]
                experimental: [true, false]
                exclude:
                  - experimental: false
            steps:
              - run: exit 1
          after:
            needs: flaky
            runs-on: ubuntu-latest
            steps:
              - run: echo "flaky was ${{ needs.flaky.result }}"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "[continue-on-error: the run passes]" in output
    assert "flaky was success" in log_of(project_copy, "after")  # as needs reports it on GitHub


def test_matrix_exclude_and_include_run_the_right_entries(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          grid:
            runs-on: ubuntu-24.04
            strategy:
              matrix:
                letter: [a, b]
                number: [1, 2]
                exclude:
                  - letter: b
                    number: 2
                include:
                  - letter: c
            steps:
              - run: echo "entry ${{ matrix.letter }}${{ matrix.number }}"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for entry in ("grid (a, 1)", "grid (a, 2)", "grid (b, 1)", "grid (c)"):
        assert f"job={entry}  result=success" in output
    assert "grid (b, 2)" not in output
    assert "entry b2" not in output
    assert "entry c" in log_of(project_copy, "grid_c")


@pytest.mark.cost(17)
def test_a_hanging_step_fails_its_job_at_timeout_minutes_while_others_finish(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          hangs:
            runs-on: ubuntu-24.04
            timeout-minutes: 0.25  # a number of minutes, as on GitHub: 15 seconds
            steps:
              - run: python3 -c "import time; time.sleep(900)"
          finishes:
            runs-on: ubuntu-24.04
            steps:
              - run: sleep 5 && echo "finished"
        """,
    )
    started = time.monotonic()
    result = invoke_ci(project_copy, "--workflow", workflow, timeout=300)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "job=hangs  result=failure (timed out (timeout-minutes: 0.25))" in output
    assert "job=finishes  result=success" in output
    assert 15 <= elapsed < 55, elapsed


def test_unknown_job_names_are_refused_with_the_jobs_that_exist(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          only-job:
            runs-on: ubuntu-24.04
            steps:
              - run: echo hi
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow, "--only", "no-such-job")
    assert result.returncode == 1
    assert "no job is called no-such-job. Fix: use one of the jobs that exist: only-job." in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_plans_every_job_and_step(project_copy: Path) -> None:
    result = invoke_ci(project_copy, "--resolve-outputs", "--event", "push", "--ref", "refs/heads/main")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "--resolve-outputs: running sessions (their outputs shape the plan), nothing else" in output
    assert "tests (tests-3.12): runs here" in output
    assert "  - uses actions/setup-python: GitHub only (runner setup; here the job's PATH holds" in output
    # deploy.yml is a local reusable workflow: its jobs are planned here, each as GitHub runs it.
    assert "Deploy / Deploy readiness: runs here" in output
    assert "Deploy / Build, attest and push to GHCR: GitHub only (docker/login-action" in output
    assert "Deploy: runs here (calls ./.github/workflows/deploy.yml: the jobs above)" in output
    pull = invoke_ci(project_copy, "--dry-run")
    assert "report-failure: skipped (if: failure() && github.event_name == 'push'" in pull.stdout
    assert "tests: decided at run time (its matrix depends on `needs.sessions.outputs.tests`" in pull.stdout


WRITES_FILES = """\
    jobs:
      produce:
        runs-on: ubuntu-24.04
        outputs:
          matrix: ${{ steps.m.outputs.matrix }}
        steps:
          - run: touch produce-ran
          - id: m
            run: echo 'matrix=[{"flavour":"vanilla"},{"flavour":"mint"}]' >> "$GITHUB_OUTPUT"
      unrelated:
        runs-on: ubuntu-24.04
        outputs:
          note: ${{ steps.n.outputs.note }}
        steps:
          - id: n
            run: touch unrelated-ran
      consume:
        needs: produce
        runs-on: ubuntu-24.04
        strategy:
          matrix:
            include: ${{ fromJSON(needs.produce.outputs.matrix) }}
        steps:
          - run: touch "consume-${{ matrix.flavour }}-ran"
      windows:
        runs-on: windows-latest
        steps:
          - run: touch windows-ran
    """


def test_a_dry_run_runs_nothing_and_resolve_outputs_runs_exactly_the_producers(project_copy: Path) -> None:
    workflow = write_workflow(project_copy, WRITES_FILES)
    dry = invoke_ci(project_copy, "--workflow", workflow, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert sorted(project_copy.glob("*-ran")) == []
    assert "consume: decided at run time (its matrix depends on `needs.produce.outputs.matrix`" in dry.stdout
    assert "windows: GitHub only (runs-on windows-latest is Windows" in dry.stdout
    resolved = invoke_ci(project_copy, "--workflow", workflow, "--resolve-outputs")
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    # Only the job whose outputs the plan reads ran; `unrelated` has outputs too, but nothing reads them.
    assert [path.name for path in project_copy.glob("*-ran")] == ["produce-ran"]
    assert "consume (vanilla): runs here" in resolved.stdout
    assert "consume (mint): runs here" in resolved.stdout


def labelled(job: str) -> set[tuple[str, str]]:
    """The containers and networks invoke ci starts for a job of this name, as (kind, id): never those of
    another run's jobs on the same engine (the invoke ci rehearsing this repository runs beside us)."""
    found: set[tuple[str, str]] = set()
    for kind, listing in (("container", ["ps", "--all"]), ("network", ["network", "ls"])):
        ids = docker(*listing, "--quiet", "--filter", f"label={services.JOB_LABEL}={job}").stdout.split()
        found.update((kind, identifier) for identifier in ids)
    return found


@pytest.mark.cost(6)
@pytest.mark.usefixtures("docker_engine")
@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGTERM"])
def test_ctrl_c_stops_the_run_and_its_service_containers_within_10_seconds(project_copy: Path, stop: str) -> None:
    """Ctrl-C reaches the terminal's whole process group; SIGTERM (`timeout`, a cancelled CI job) only invoke
    ci itself, which must stop the step's group and remove the service all the same."""
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          with-database:
            runs-on: ubuntu-24.04
            services:
              postgres:
                image: postgres:16-bookworm
                env:
                  POSTGRES_PASSWORD: only-for-this-test
                ports:
                  - 5432/tcp
                options: >-
                  --health-cmd "pg_isready -h 127.0.0.1" --health-interval 1s --health-retries 60
            steps:
              - run: echo "database at ${{ job.services.postgres.ports['5432'] }}" && sleep 600
        """,
    )
    share_tools(project_copy)
    before = labelled("with-database")
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "ci", "--workflow", workflow],
        cwd=project_copy,
        env=copy_env(project_copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log = project_copy / ".cache/ci-logs/with-database.log"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and "database at" not in (log.read_text() if log.exists() else ""):
        if process.poll() is not None:
            break
        time.sleep(0.5)
    assert "database at" in log.read_text(), f"the step never started: {log.read_text()}"
    started = labelled("with-database") - before
    assert any(kind == "container" for kind, _ in started), "the service container should be running"
    interrupted = time.monotonic()
    if stop == "Ctrl-C":
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    else:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert time.monotonic() - interrupted < 10, output
    assert process.returncode == (130 if stop == "Ctrl-C" else 143), output
    assert labelled("with-database") - before == set(), "the run's containers or networks are left behind"


GREET = """\
name: Greet
description: says hello, and hands back what it said
inputs:
  who:
    description: whom to greet
    required: true
  punctuation:
    description: how to end
    default: "!"
  mood:
    description: left out by the caller, and required
    required: true
outputs:
  said:
    description: the greeting
    value: ${{ steps.say.outputs.said }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env:
        WHO: ${{ inputs.who }}
      run: |
        echo "said=hello $WHO${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
        echo "action path $GITHUB_ACTION_PATH = ${{ github.action_path }}"
        echo "caller env $FROM_CALLER"
        echo "GREETED=yes" >> "$GITHUB_ENV"
    - if: inputs.who == 'nobody'
      shell: bash
      run: echo "$((40 + 2))-NOT-FOR-NOBODY"
    - shell: bash
      working-directory: ${{ github.action_path }}
      run: echo "in $(basename "$PWD")"
    - uses: ./.github/actions/inner
      with:
        level: two
"""
INNER = """\
name: Inner
inputs:
  level: {description: nesting level}
runs:
  using: composite
  steps:
    - shell: sh
      run: echo "nested ${{ inputs.level }} steps-context-empty=${{ steps.say.outputs.said == '' }}"
"""
BROKEN = """\
name: Broken
runs:
  using: composite
  steps:
    - shell: bash
      run: exit 4
    - shell: bash
      run: echo "$((40 + 2))-AFTER-THE-FAILURE"
"""


def test_a_local_composite_action_runs_with_githubs_semantics(project_copy: Path) -> None:
    for name, text in (("greet", GREET), ("inner", INNER), ("broken", BROKEN)):
        folder = project_copy / ".github/actions" / name
        folder.mkdir(parents=True)
        (folder / "action.yml").write_text(text)
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          greets:
            runs-on: ubuntu-24.04
            defaults:
              run:
                working-directory: backend
            steps:
              - id: greet
                uses: ./.github/actions/greet
                env:
                  FROM_CALLER: passed-down
                with:
                  who: team
              - run: echo "output ${{ steps.greet.outputs.said }} env $GREETED outside=${{ steps.say.outputs.said }}"
          breaks:
            runs-on: ubuntu-24.04
            steps:
              - uses: ./.github/actions/broken
              - if: failure()
                run: echo "the job saw the failure"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "job=greets  result=success" in output
    assert "job=breaks  result=failure" in output
    log = log_of(project_copy, "greets")
    action_path = project_copy / ".github/actions/greet"
    assert f"action path {action_path} = {action_path}" in log
    assert "caller env passed-down" in log
    assert "42-NOT-FOR-NOBODY" not in log
    assert "in greet" in log  # the job's defaults.run does not reach the action's steps
    assert "nested two steps-context-empty=true" in log  # an action's steps context is its own
    assert "warning: ./.github/actions/greet: Input required and not supplied: mood" in log
    assert "output hello team! env yes outside=" in log
    broken = log_of(project_copy, "breaks")
    assert "42-AFTER-THE-FAILURE" not in broken
    assert "the job saw the failure" in broken


CALLED = """\
name: Called
on:
  workflow_call:
    inputs:
      flavour: {type: string, required: true}
      strict: {type: boolean, default: false}
      scoops: {type: number, default: 2}
    outputs:
      served:
        value: ${{ jobs.serve.outputs.served }}
env:
  FROM_CALLED_WORKFLOW: called-env
jobs:
  serve:
    runs-on: ubuntu-24.04
    outputs:
      served: ${{ steps.s.outputs.served }}
    steps:
      - id: s
        run: |
          echo "served=${{ inputs.flavour }} x${{ inputs.scoops }}" >> "$GITHUB_OUTPUT"
          echo "strict is boolean: ${{ inputs.strict == true }}; env $FROM_CALLED_WORKFLOW; caller env [$FROM_CALLER]"
  deeper:
    needs: serve
    uses: ./.github/workflows/nested.yml
    with:
      topping: ${{ inputs.flavour }}-sprinkles
"""
NESTED = """\
name: Nested
on:
  workflow_call:
    inputs:
      topping: {type: string}
jobs:
  top:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "nested topping ${{ inputs.topping }}"
"""


def test_a_local_reusable_workflow_runs_with_inputs_outputs_and_nesting(project_copy: Path) -> None:
    workflows = project_copy / ".github/workflows"
    (workflows / "called.yml").write_text(CALLED)
    (workflows / "nested.yml").write_text(NESTED)
    workflow = write_workflow(
        project_copy,
        """\
        env:
          FROM_CALLER: caller-env
        jobs:
          order:
            strategy:
              matrix:
                flavour: [vanilla, mint]
            uses: ./.github/workflows/called.yml
            with:
              flavour: ${{ matrix.flavour }}
              strict: true
          gated:
            if: github.event_name == 'push'
            uses: ./.github/workflows/nested.yml
            with:
              topping: never
          receipt:
            needs: [order, gated]
            if: always() && needs.order.result == 'success'
            runs-on: ubuntu-24.04
            steps:
              - run: echo "receipt ${{ needs.order.outputs.served }} gated=${{ needs.gated.result }}"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for key in ("order (vanilla) / serve", "order (mint) / serve", "order (mint) / deeper / top", "receipt"):
        assert f"job={key}  result=success" in output, key
    assert "job=gated / top  result=skipped" in output
    serve = log_of(project_copy, "order_vanilla_serve")
    assert "strict is boolean: true; env called-env; caller env []" in serve  # the caller's env stays there
    assert "nested topping mint-sprinkles" in log_of(project_copy, "order_mint_deeper_top")
    assert "receipt mint x2 gated=skipped" in log_of(project_copy, "receipt") or "receipt vanilla x2" in log_of(
        project_copy, "receipt"
    )


def test_parallel_steps_run_side_by_side_with_their_logs_apart(project_copy: Path) -> None:
    """Two steps that each wait for the other's file can only both finish side by side; a background
    service is cancelled (which does not fail the job); a failed background step fails the job once waited."""
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          side-by-side:
            runs-on: ubuntu-24.04
            steps:
              - parallel:
                  - run: touch "$RUNNER_TEMP/l" && until [ -e "$RUNNER_TEMP/r" ]; do sleep 0.1; done; echo left-done
                  - run: touch "$RUNNER_TEMP/r" && until [ -e "$RUNNER_TEMP/l" ]; do sleep 0.1; done; echo right-done
              - id: service
                background: true
                run: echo "service up" && sleep 600
              - id: probe
                background: true
                run: echo "result=probed" >> "$GITHUB_OUTPUT"
              - wait: probe
              - run: echo "after wait ${{ steps.probe.outputs.result }}"
              - cancel: service
              - run: echo "service cancelled ${{ steps.service.outcome }}"
          background-failure:
            runs-on: ubuntu-24.04
            steps:
              - id: doomed
                background: true
                run: exit 3
              - wait-all: true
              - if: failure()
                run: echo "the job saw it"
        """,
    )
    started = time.monotonic()
    result = invoke_ci(project_copy, "--workflow", workflow, timeout=120)
    output = result.stdout + result.stderr
    assert time.monotonic() - started < 60, "the cancelled service step ran on"
    assert result.returncode == 1, output[-3000:]
    assert "job=side-by-side  result=success" in output
    assert "job=background-failure  result=failure" in output
    log = log_of(project_copy, "side-by-side")
    assert "left-done" in log
    assert "right-done" in log
    assert "after wait probed" in log
    assert "service cancelled cancelled" in log
    logs = project_copy / ".cache/ci-logs"
    assert "service up" in (logs / "side-by-side.step-service.log").read_text()  # its own log, kept apart
    assert "the job saw it" in log_of(project_copy, "background-failure")


def concurrent_workflow(cancel_in_progress: bool) -> str:
    return f"""\
    concurrency:
      group: rehearsal-${{{{ github.ref }}}}
      cancel-in-progress: {str(cancel_in_progress).lower()}
    jobs:
      slow:
        runs-on: ubuntu-24.04
        steps:
          - run: |
              echo "start-$WHICH" >> "$GITHUB_WORKSPACE/order"
              sleep "$SECONDS_TO_SLEEP"
              echo "end-$WHICH" >> "$GITHUB_WORKSPACE/order"
    """


def start_ci(root: Path, workflow: str, which: str, seconds: int) -> subprocess.Popen[str]:
    env = {**copy_env(root), "WHICH": which, "SECONDS_TO_SLEEP": str(seconds)}
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", "ci", "--workflow", workflow],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(path: Path, line: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text().split():
            return
        time.sleep(0.1)
    raise AssertionError(f"{line} never appeared in {path}")


@pytest.mark.parametrize("cancel_in_progress", [False, True])
def test_a_second_run_of_a_concurrency_group_waits_or_cancels_the_first(
    project_copy: Path, cancel_in_progress: bool
) -> None:
    workflow = write_workflow(project_copy, concurrent_workflow(cancel_in_progress))
    share_tools(project_copy)
    order = project_copy / "order"
    first = start_ci(project_copy, workflow, "first", 600 if cancel_in_progress else 4)
    wait_for_line(order, "start-first")
    second = start_ci(project_copy, workflow, "second", 1)
    second_output, _ = second.communicate(timeout=120)
    first_output, _ = first.communicate(timeout=60)
    assert second.returncode == 0, second_output
    if cancel_in_progress:
        assert "concurrency: cancelling the run in progress of group 'rehearsal-refs/pull/1/merge'" in second_output
        assert first.returncode == 143, first_output  # stopped as SIGTERM stops it
        assert order.read_text().split() == ["start-first", "start-second", "end-second"]
    else:
        assert "concurrency: waiting for the run in progress of group 'rehearsal-refs/pull/1/merge'" in second_output
        assert first.returncode == 0, first_output
        assert order.read_text().split() == ["start-first", "end-first", "start-second", "end-second"]


SHOWS_SECRETS = """\
name: Shows secrets
on: workflow_call
jobs:
  show:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "called sees [${{ secrets.API_KEY }}] [${{ secrets.RENAMED }}] [${{ secrets.OTHER_SECRET }}]"
"""


def test_secrets_reach_the_workflow_and_its_calls_and_are_masked_in_every_log(project_copy: Path) -> None:
    (project_copy / ".github/workflows/shows-secrets.yml").write_text(SHOWS_SECRETS)
    secret_file = project_copy.parent / "secrets.env"
    secret_file.write_text("# local secrets\nexport API_KEY='s3cr3t-from-file'\n")
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          direct:
            runs-on: ubuntu-24.04
            steps:
              - run: echo "direct sees ${{ secrets.API_KEY }} and ${{ secrets.OTHER_SECRET }}; ${{ !secrets.NONE }}"
          inherits:
            uses: ./.github/workflows/shows-secrets.yml
            secrets: inherit
          maps:
            uses: ./.github/workflows/shows-secrets.yml
            secrets:
              RENAMED: ${{ secrets.API_KEY }}
        """,
    )
    share_tools(project_copy)
    env = {**copy_env(project_copy), "OTHER_SECRET": "another-s3cr3t"}
    args = ["ci", "--workflow", workflow, "--secret-file", str(secret_file), "--secret", "OTHER_SECRET"]
    result = processes.run([sys.executable, "-m", "invoke", *args], cwd=project_copy, env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    logs = "".join(path.read_text() for path in (project_copy / ".cache/ci-logs").glob("*.log"))
    assert "s3cr3t" not in logs + output
    assert "direct sees *** and ***; true" in log_of(project_copy, "direct")
    assert "called sees [***] [] [***]" in log_of(project_copy, "inherits_show")
    assert "called sees [] [***] []" in log_of(project_copy, "maps_show")
    missing = processes.run(
        [sys.executable, "-m", "invoke", "ci", "--workflow", workflow, "--secret", "NOT_EXPORTED"],
        cwd=project_copy,
        env=copy_env(project_copy),
    )
    assert missing.returncode == 1
    assert "--secret NOT_EXPORTED: no such environment variable" in missing.stdout + missing.stderr
    assert "Traceback" not in missing.stderr


HANGS = """\
    jobs:
      hangs:
        runs-on: ubuntu-24.04
        steps:
          - run: echo $$ > "$GITHUB_WORKSPACE/step.pid" && sleep 600
    """


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop", ["timeout -s TERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_run_like_ctrl_c(project_copy: Path, stop: str) -> None:
    """`timeout` and a cancelled CI job send SIGTERM, a closed terminal SIGHUP, to invoke ci alone: the step,
    in a process group of its own, must be stopped all the same."""
    workflow = write_workflow(project_copy, HANGS)
    share_tools(project_copy)
    command = [sys.executable, "-m", "invoke", "ci", "--workflow", workflow]
    if stop.startswith("timeout"):
        command = ["timeout", "-s", "TERM", "10", *command]
    process = subprocess.Popen(
        command,
        cwd=project_copy,
        env=copy_env(project_copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pid_file = project_copy / "step.pid"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (pid_file.exists() and pid_file.read_text().strip()):
        time.sleep(0.2)
    step = int(pid_file.read_text())
    assert running(step)
    if stop == "SIGHUP":
        process.send_signal(signal.SIGHUP)
    output, _ = process.communicate(timeout=40)
    assert process.returncode == (124 if stop.startswith("timeout") else 129), output
    assert "Traceback" not in output
    assert "interrupted" in output
    gone = time.monotonic() + 10
    while running(step) and time.monotonic() < gone:
        time.sleep(0.2)
    assert not running(step), "the step's process outlived invoke ci"


@pytest.mark.cost(5)
@pytest.mark.usefixtures("docker_engine")
def test_a_container_job_runs_its_steps_in_the_container_beside_its_service(project_copy: Path) -> None:
    image = facts.dockerfile_images(ROOT / "backend/Dockerfile")["python-image"]
    workflow = write_workflow(
        project_copy,
        f"""\
        jobs:
          in-container:
            runs-on: ubuntu-24.04
            container:
              image: {image}
              env:
                FROM_CONTAINER_ENV: set
            services:
              postgres:
                image: postgres:16-bookworm
                env:
                  POSTGRES_PASSWORD: only-for-this-test
                options: >-
                  --health-cmd "pg_isready -h 127.0.0.1" --health-interval 1s --health-retries 60
            steps:
              - id: where
                env:
                  PROBE: import socket; socket.create_connection(('postgres', 5432), 10); print('reached postgres')
                run: |
                  grep PRETTY_NAME /etc/os-release
                  python3 -c "$PROBE"
                  echo "env $FROM_CONTAINER_ENV in $PWD" && touch made-in-container
                  echo "python=$(python3 -c 'import sys; print(sys.version_info[:2])')" >> "$GITHUB_OUTPUT"
              - run: echo "output ${{{{ steps.where.outputs.python }}}} container ${{{{ job.container.id != '' }}}}"
        """,
    )
    before = labelled("in-container")
    result = invoke_ci(project_copy, "--workflow", workflow)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:] + log_of(project_copy, "in-container")[-3000:]
    log = log_of(project_copy, "in-container")
    assert "Debian GNU/Linux 12 (bookworm)" in log  # the container's system, not this machine's
    assert "reached postgres" in log
    assert f"env set in {project_copy}" in log
    assert (project_copy / "made-in-container").exists()  # the checkout is mounted at the same path
    assert "output (3, 12) container true" in log
    assert labelled("in-container") - before == set(), "the job container or its network is left behind"


OLD_SECURITY_WORKFLOW = "616d44c"  # the commit before security.yml's jobs got setup-python


def git_show(revision: str, path: str) -> str:
    shown = processes.run(["git", "show", f"{revision}:{path}"], cwd=ROOT)
    shown.check_returncode()
    return shown.stdout


@pytest.mark.cost(9)
def test_the_runner_world_fails_a_job_without_setup_python_as_github_would(project_copy: Path) -> None:
    """security.yml's bandit job had no setup-python: on a hosted runner its session's Python (3.13)
    is missing. invoke ci gives the job only the runner image's Python, so it fails here too; the
    fixed workflow passes."""
    security = project_copy / ".github/workflows/security.yml"
    fixed = security.read_text()
    security.write_text(git_show(OLD_SECURITY_WORKFLOW, ".github/workflows/security.yml"))
    before = invoke_ci(project_copy, "--workflow", ".github/workflows/security.yml", "--only", "bandit")
    assert before.returncode == 1, before.stdout[-2000:]
    assert (
        "Bandit: runs here (ubuntu-24.04, Python 3.12)"
        in invoke_ci(project_copy, "--workflow", ".github/workflows/security.yml", "--dry-run").stdout
    )
    assert "3.13" in log_of(project_copy, "Bandit")
    security.write_text(fixed)
    after = invoke_ci(project_copy, "--workflow", ".github/workflows/security.yml", "--only", "bandit")
    assert after.returncode == 0, after.stdout[-3000:] + log_of(project_copy, "Bandit")[-3000:]
    assert "job=Bandit  result=success" in after.stdout
    assert "Image vulnerability scan (GitHub only)  result=skipped (not selected)" in after.stdout


def test_the_tooling_check_gets_every_supported_python(project_copy: Path) -> None:
    """The doctor test in the tooling check needs 3.11-3.13; before ci.yml's checks job installed
    them all, a hosted runner (and invoke ci) gave it only 3.12 and matrix.python."""
    ci = project_copy / ".github/workflows/ci.yml"
    ci.write_text(git_show(OLD_SECURITY_WORKFLOW, ".github/workflows/ci.yml"))
    old = invoke_ci(project_copy, "--resolve-outputs").stdout
    assert "checks (bandit): runs here (ubuntu-24.04, Python 3.12, 3.13)" in old
    # Now the tooling sessions have a job of their own (run when the pipeline changed), with every Python.
    ci.write_text((ROOT / ".github/workflows/ci.yml").read_text())
    new = invoke_ci(project_copy, "--resolve-outputs").stdout
    assert "tooling (tooling(tools-1)): runs here (ubuntu-24.04, Python 3.11, 3.12, 3.13)" in new


def test_job_logs_carry_no_colour_codes_off_a_terminal(project_copy: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          colourful:
            runs-on: ubuntu-24.04
            steps:
              - run: printf '\\033[1;31mred alert\\033[0m and '
              - run: printf '\\033]8;;https://example.com\\033\\\\a link\\033]8;;\\033\\\\\\n'
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    log = log_of(project_copy, "colourful")
    assert "red alert and " in log
    assert "a link\n" in log
    assert "\x1b" not in log


RERUN_WORKFLOW = """\
jobs:
  produce:
    runs-on: ubuntu-24.04
    outputs:
      token: ${{ steps.make.outputs.token }}
    steps:
      - id: make
        run: python3 -c "import uuid; print('token=' + uuid.uuid4().hex)" >> "$GITHUB_OUTPUT"
  steady:
    needs: produce
    runs-on: ubuntu-24.04
    steps:
      - run: echo "steady token=${{ needs.produce.outputs.token }}"
  flaky:
    needs: produce
    runs-on: ubuntu-24.04
    strategy:
      fail-fast: false
      matrix:
        part: [one, two]
    steps:
      - run: echo "flaky ${{ matrix.part }} token=${{ needs.produce.outputs.token }}"
      - if: matrix.part == 'two'
        run: test ! -e .cache/broken  # a file git ignores: broken by the machine, not by the tree
      - run: python3 -c "import signal, sys; sys.exit(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
  after:
    needs: [steady, flaky]
    runs-on: ubuntu-24.04
    steps:
      - run: echo "after ran"
"""


def git_repository(root: Path) -> None:
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        processes.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=root).check_returncode()


def test_failed_reruns_exactly_what_failed_and_what_needs_it_keeping_the_rest(project_copy: Path) -> None:
    """GitHub's Re-run failed jobs: the failed matrix entry and the job after it run again; the producer, its
    output, the job beside and the entry that passed are kept from the first run. Started as a background job
    of a non-interactive shell (SIGINT ignored), the steps still take SIGINT, as on GitHub's runner."""
    workflow = write_workflow(project_copy, RERUN_WORKFLOW)
    share_tools(project_copy)
    git_repository(project_copy)
    refused = invoke_ci(project_copy, "--workflow", workflow, "--failed")
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr, refused.stderr
    assert "no earlier run of .github/workflows/rehearsal.yml on pull_request is recorded here" in refused.stderr

    (project_copy / ".cache").mkdir(exist_ok=True)
    (project_copy / ".cache/broken").write_text("")
    ignoring_sigint = subprocess.run(
        ["sh", "-c", f'trap "" INT; {sys.executable} -m invoke ci --workflow {workflow} & wait $!'],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ignoring_sigint.returncode == 1, ignoring_sigint.stdout[-3000:]
    assert "CI failed here: flaky (two) (logs" in ignoring_sigint.stderr, ignoring_sigint.stderr
    first_token = log_of(project_copy, "steady").split("steady token=")[-1].split()[0]
    steady_log = log_of(project_copy, "steady")

    (project_copy / ".cache/broken").unlink()  # the machine repaired; the tree as it was
    rerun = invoke_ci(project_copy, "--workflow", workflow, "--failed")
    output = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, output[-3000:]
    assert "--failed: 3 job(s) kept from run" in output
    for kept in ("produce", "steady", "flaky (one)"):
        assert f"{kept}: success [kept from run" in output, output[-3000:]
    assert f"flaky two token={first_token}" in log_of(project_copy, "flaky_two")  # the kept output
    assert log_of(project_copy, "steady") == steady_log  # not run again
    assert "after ran" in log_of(project_copy, "after")

    nothing = invoke_ci(project_copy, "--workflow", workflow, "--failed")
    assert nothing.returncode == 1, nothing.stderr
    assert "nothing failed in the last run" in nothing.stderr, nothing.stderr

    (project_copy / ".cache/broken").write_text("")
    assert invoke_ci(project_copy, "--workflow", workflow).returncode == 1
    (project_copy / "backend/manage.py").write_text((project_copy / "backend/manage.py").read_text() + "\n# edited\n")
    changed = invoke_ci(project_copy, "--workflow", workflow, "--failed")
    assert changed.returncode == 1, changed.stderr
    assert "Traceback" not in changed.stderr, changed.stderr
    assert "1 file(s) changed since the last run" in changed.stderr
    assert "backend/manage.py" in changed.stderr


# What a person sees of the report: boxes where they are drawn, styles as computed, text as rendered.
REPORT_VIEW = """(() => {
    const box = (element) => {
        if (!element) return null;
        const rect = element.getBoundingClientRect();
        return {left: rect.left, right: rect.right, width: rect.width, height: rect.height};
    };
    const nodes = Object.fromEntries([...document.querySelectorAll("g.node")].map((node) => [node.dataset.job, {
        critical: node.classList.contains("critical"),
        stroke: getComputedStyle(node.querySelector("rect")).stroke,
        text: node.textContent,
        box: box(node),
    }]));
    const edges = [...document.querySelectorAll("path.edge")].map((edge) => [edge.dataset.from, edge.dataset.to]);
    const rows = Object.fromEntries([...document.querySelectorAll(".timeline .row[data-key]")].map((row) => [
        row.dataset.key, {run: box(row.querySelector(".run")), critical: row.classList.contains("critical")},
    ]));
    const logs = Object.fromEntries([...document.querySelectorAll("details.job")].map((details) => [
        details.querySelector("summary b").textContent,
        {open: details.open, text: details.querySelector("pre") ? details.querySelector("pre").innerText : ""},
    ]));
    return {
        title: document.title, verdict: document.querySelector(".verdict").innerText,
        path: document.querySelector(".path").innerText, nodes, edges, rows, logs,
        scripts: document.scripts.length, fetched: performance.getEntriesByType("resource").length,
    };
})()"""


def test_the_run_report_shows_the_graph_timeline_critical_path_and_logs_in_chromium(
    project_copy: Path, chromium_binary: str
) -> None:
    """A failed run's report, opened from disk in a real headless Chromium: every job and need drawn, the
    path through the failed entry marked, each bar after the bars of what it needs, the failed log open, a
    click on a job's box opening its log; nothing fetched, no script."""
    workflow = write_workflow(project_copy, RERUN_WORKFLOW.replace('echo "steady', 'sleep 2; echo "steady'))
    share_tools(project_copy)
    git_repository(project_copy)
    (project_copy / ".cache").mkdir(exist_ok=True)
    (project_copy / ".cache/broken").write_text("")
    failed = invoke_ci(project_copy, "--workflow", workflow)
    assert failed.returncode == 1, failed.stdout[-3000:]
    page = project_copy / ".cache/ci-logs/.github_workflows_rehearsal.yml.pull_request.html"
    assert f"run report (graph, timeline, logs): {page.relative_to(project_copy)}" in failed.stdout

    with browser.chromium(chromium_binary, timeout=60) as tab:
        tab.open(page.as_uri())
        seen = tab.evaluate(REPORT_VIEW)
        tab.evaluate(
            'document.querySelector("g.node[data-job=steady]").closest("a").dispatchEvent('
            'new MouseEvent("click", {bubbles: true}))'
        )
        time.sleep(0.5)
        clicked = tab.evaluate('[location.hash, document.getElementById("job-steady").closest("details").open]')

    assert seen["title"] == "invoke ci: .github/workflows/rehearsal.yml on pull_request", seen
    assert seen["verdict"] == "failed"
    assert (seen["scripts"], seen["fetched"]) == (0, 0), seen
    assert set(seen["nodes"]) == {"produce", "steady", "flaky", "after"}, seen["nodes"]
    assert sorted(map(tuple, seen["edges"])) == [
        ("flaky", "after"),
        ("produce", "flaky"),
        ("produce", "steady"),
        ("steady", "after"),
    ], seen["edges"]
    assert seen["path"].endswith(": produce → steady"), seen["path"]  # after, skipped, decided nothing
    critical = {job for job, node in seen["nodes"].items() if node["critical"]}
    assert critical == {"produce", "steady"}, seen["nodes"]
    assert "skipped" in seen["nodes"]["after"]["text"]
    assert "failure" in seen["nodes"]["flaky"]["text"]
    drawn = {node["stroke"] for node in seen["nodes"].values() if node["critical"]}
    assert drawn.isdisjoint(node["stroke"] for node in seen["nodes"].values() if not node["critical"]), seen
    for key in ("steady", "flaky (one)", "flaky (two)"):
        assert seen["rows"][key]["run"]["left"] >= seen["rows"]["produce"]["run"]["right"] - 1, seen["rows"]
        assert seen["rows"][key]["critical"] == (key == "steady"), seen["rows"]
    assert seen["rows"]["steady"]["run"]["width"] > seen["rows"]["flaky (one)"]["run"]["width"], seen["rows"]
    assert seen["logs"]["flaky (two)"]["open"], seen["logs"]
    assert not seen["logs"]["steady"]["open"], seen["logs"]
    assert "flaky two token=" in seen["logs"]["flaky (two)"]["text"]
    assert clicked == ["#job-steady", True], clicked
