"""Honoured or refused: what invoke ci does not implement is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.actions import support
from pipeline.actions.workflow import load
from pipeline.conftest import RunNox
from pipeline.facts import ROOT

WORKFLOW = """\
name: t
on: [push]
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    container: node:20
    steps:
      - uses: ./.github/actions/local
      - run: echo hi
        shell: pwsh
  other:
    runs-on: windows-latest
    steps:
      - run: echo hi
        wibble: 1
"""


def test_each_unimplemented_construct_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(WORKFLOW)
    found = [str(refusal) for refusal in support.refusals(load(path, tmp_path))]
    # A container job, a local action and a Windows runner are GitHub-only in the plan, said there: no refusal.
    assert found == [
        "w.yml:11: shell pwsh is not available here (use bash, python, sh)",
        "w.yml:16: `jobs.other.steps.0.wibble` is not something invoke ci runs as GitHub does",
    ]


def test_the_projects_workflows_hold_nothing_invoke_ci_would_run_differently() -> None:
    paths = sorted((ROOT / ".github/workflows").glob("*.yml"))
    assert paths
    assert [str(r) for path in paths for r in support.refusals(load(path, ROOT))] == []


@pytest.mark.cost(11)
def test_nox_workflows_lists_every_kind_of_finding_in_one_run(project_copy: Path, run_nox: RunNox) -> None:
    """The real session on a copy with three defects: a construct invoke ci does not run, a context GitHub's
    parser rejects and a settings module that does not exist (the `config.settings.test` incident). One run
    lists all three, each at its file and line, each with its fix."""
    ci = project_copy / ".github/workflows/ci.yml"
    lines = ci.read_text().splitlines(keepends=True)
    image_job = next(number for number, line in enumerate(lines) if line.startswith("  image:"))
    runs_on = next(n for n in range(image_job, len(lines)) if lines[n].strip().startswith("runs-on:"))
    timeout = next(n for n in range(image_job, len(lines)) if lines[n].strip().startswith("timeout-minutes:"))
    env = [
        "    env:\n",
        "      WHERE: ${{ steps.x.outputs.y }}\n",
        "      DJANGO_SETTINGS_MODULE: config.settings.test\n",
    ]
    shell = ["    defaults: {run: {shell: pwsh}}\n"]
    ci.write_text("".join([*lines[: runs_on + 1], *shell, *lines[runs_on + 1 : timeout], *env, *lines[timeout:]]))
    result = run_nox("-s", "workflows")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    refused = f"ci.yml:{runs_on + 2}: shell pwsh is not available here (use bash, python, sh)\n    fix: invoke ci"
    assert refused in output, output[-3000:]
    assert f"ci.yml:{timeout + 3}:" in output
    assert "Unrecognized named-value: 'steps'" in output
    assert "fix: GitHub would not run this workflow" in output
    assert f"ci.yml:{timeout + 4}: settings module config.settings.test is not one of" in output
    assert "workflows: 3 problem(s); fix each file:line above." in output, output[-3000:]
    assert "Traceback" not in output


CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2"
TEAM_WORKFLOW = f"""\
name: Team
on: [pull_request]
permissions: {{}}
concurrency:
  group: team-${{{{ github.ref }}}}
  cancel-in-progress: true
jobs:
  lint:
    runs-on: ${{{{ matrix.os }}}}
    timeout-minutes: 10
    permissions:
      contents: read
    strategy:
      matrix:
        os: [ubuntu-24.04, windows-latest]
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: ./.github/actions/greet  # zizmor: ignore[self-repository]
        with:
          who: team
  in-container:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions: {{}}
    container:
      image: python:3.12-slim@sha256:{"0" * 64}
    steps:
      - parallel:
          - run: python3 bootstrap.py invoke doctor
          - run: python3 bootstrap.py invoke doctor
  reuse:
    permissions: {{}}
    uses: ./.github/workflows/reusable.yaml  # zizmor: ignore[self-repository]
"""
REUSABLE = """\
name: Reusable
on:
  workflow_call:
permissions: {}
jobs:
  called:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions: {}
    steps:
      - run: python3 bootstrap.py invoke doctor
"""
GREET_ACTION = """\
name: Greet
description: a local composite action
inputs:
  who:
    description: whom to greet
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      env:
        WHO: ${{ inputs.who }}
      run: echo "hello $WHO"
"""


@pytest.mark.cost(11)
def test_nox_workflows_accepts_what_invoke_ci_reports_as_github_only(project_copy: Path, run_nox: RunNox) -> None:
    """A container job, a local composite action, parallel steps, a local reusable workflow in a `.yaml` file and
    a Windows matrix entry: GitHub accepts them and the plan says which are GitHub-only, so nothing is refused."""
    workflows = project_copy / ".github/workflows"
    (workflows / "team.yaml").write_text(TEAM_WORKFLOW)
    (workflows / "reusable.yaml").write_text(REUSABLE)
    action = project_copy / ".github/actions/greet/action.yml"
    action.parent.mkdir(parents=True)
    action.write_text(GREET_ACTION)
    result = run_nox("-s", "workflows")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "team.yaml" in output  # GitHub's parser and the schema read the .yaml files too
