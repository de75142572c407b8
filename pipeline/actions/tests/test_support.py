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
    assert found == [
        "w.yml:7: `jobs.build.container` is not something invoke ci runs as GitHub does",
        "w.yml:9: uses: ./.github/actions/local (a local or Docker action) does not run here",
        "w.yml:11: shell pwsh is not available here (use bash, python, sh)",
        "w.yml:13: runs-on windows-latest is not an image invoke ci knows (ubuntu-24.04, ubuntu-latest)",
        "w.yml:16: `jobs.other.steps.0.wibble` is not something invoke ci runs as GitHub does",
    ]


def test_the_projects_workflows_hold_nothing_invoke_ci_would_run_differently() -> None:
    paths = sorted((ROOT / ".github/workflows").glob("*.yml"))
    assert paths
    assert [str(r) for path in paths for r in support.refusals(load(path, ROOT))] == []


def test_main_prints_refusals_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(WORKFLOW)
    assert support.main([str(path)]) == 1
    assert support.main([str(ROOT / ".github/workflows/ci.yml")]) == 0


@pytest.mark.cost(11)
def test_nox_workflows_refuses_each_defect_with_its_line(project_copy: Path, run_nox: RunNox) -> None:
    """The real session on a copy: a context GitHub's parser rejects, then a construct invoke ci
    does not run, each fails `nox -s workflows` naming its file and line."""
    ci = project_copy / ".github/workflows/ci.yml"
    original = ci.read_text()
    lines = original.splitlines(keepends=True)
    image_job = next(number for number, line in enumerate(lines) if line.startswith("  image:"))
    runs_on = next(n for n in range(image_job, len(lines)) if lines[n].strip().startswith("runs-on:"))
    ci.write_text("".join([*lines[: runs_on + 1], "    container: node:22\n", *lines[runs_on + 1 :]]))
    refused = run_nox("-s", "workflows")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-2000:]
    assert f"ci.yml:{runs_on + 2}: `jobs.image.container` is not something invoke ci runs as GitHub does" in output
    env_line = next(n for n in range(image_job, len(lines)) if lines[n].strip().startswith("timeout-minutes:"))
    broken = [*lines[:env_line], "    env:\n", "      WHERE: ${{ steps.x.outputs.y }}\n", *lines[env_line:]]
    ci.write_text("".join(broken))
    rejected = run_nox("-s", "workflows")
    output = rejected.stdout + rejected.stderr
    assert rejected.returncode != 0, output[-2000:]
    assert f"ci.yml:{env_line + 2}" in output
    assert "Unrecognized named-value: 'steps'" in output
