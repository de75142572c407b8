"""What sessions take from GitHub's runner image (Chromium, Node.js): named with its install command by
`invoke doctor`, by `invoke ci` before the job starts, and by the session before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import runner_programs
from pipeline.actions.tests.test_local_ci import invoke_ci, write_workflow
from pipeline.conftest import RunNox, invoke, share_tools
from pipeline.errors import UserError

ONLY_NODE = {"node": "/usr/bin/node", "npm": "/usr/bin/npm"}


def test_the_table_names_what_each_session_lacks() -> None:
    which = ONLY_NODE.get
    assert runner_programs.needed_by(["tooling(engine)", "assets", "lint"], which) == {
        "tooling(engine)": [runner_programs.PROGRAMS[0]]
    }
    with pytest.raises(UserError, match=r"Chromium is not installed here, and tooling\(engine\)"):
        runner_programs.require("tooling(engine)", which)
    runner_programs.require("assets", which)  # Node is here
    [warning] = runner_programs.warnings_for(["tooling(engine)"], which)
    assert warning.startswith("Chromium is not installed here, so tooling(engine) will fail")
    assert "sudo apt-get install chromium" in warning
    assert runner_programs.warnings_for(["tooling(engine)"], {**ONLY_NODE, "google-chrome": "/opt/chrome"}.get) == []


def hiding(tmp_path: Path, *names: str) -> str:
    """A PATH with every program of this one but `names`: a machine without them."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else []:
            target = folder / program.name
            if program.name not in names and not target.exists() and os.access(program, os.X_OK):
                target.symlink_to(program)
    return str(folder)


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.mark.tools
def test_doctor_names_a_missing_browser_with_its_fix(project_copy: Path, tmp_path: Path) -> None:
    share_tools(project_copy)
    environ = {"PATH": hiding(tmp_path, *BROWSERS), "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    result = invoke("doctor", cwd=project_copy, env=environ)
    output = result.stdout + result.stderr
    assert "warning  Chromium: missing: the pipeline's browser tests" in output, output[-3000:]
    assert "sudo apt-get install chromium" in output
    assert "Traceback" not in output


@pytest.mark.tools
def test_invoke_ci_says_so_before_the_job_starts(project_copy: Path, tmp_path: Path) -> None:
    workflow = write_workflow(
        project_copy,
        """\
        jobs:
          tooling:
            runs-on: ubuntu-24.04
            strategy:
              matrix:
                session: ["tooling(engine)"]
            steps:
              - run: echo "the session would start here"
        """,
    )
    result = invoke_ci(project_copy, "--workflow", workflow, env={"PATH": hiding(tmp_path, *BROWSERS)})
    output = result.stdout
    warning = "tooling (tooling(engine)): Chromium is not installed here, so tooling(engine) will fail"
    assert warning in output, output[-3000:] + result.stderr[-1500:]
    assert output.index(warning) < output.index("tooling (tooling(engine)): running")


@pytest.mark.tools
def test_a_session_without_node_stops_with_the_install_command(run_nox: RunNox, tmp_path: Path) -> None:
    result = run_nox("-s", "assets", env={"PATH": hiding(tmp_path, "node", "npm")})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Node.js and npm is not installed here, and assets needs it" in output, output[-3000:]
    assert "npm ci" not in output  # before any work
