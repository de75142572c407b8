"""GitHub's own workflow parser over the workflows: real Node, the pinned parser.

Each defect is written into a copy of the workflows and must be reported at
exactly its line. Skipped where Node is missing; on CI (CI=true) that is a
failure instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import processes
from pipeline.actions import validate
from pipeline.errors import UserError
from pipeline.facts import ROOT

WORKFLOWS = Path(".github/workflows")


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run GitHub's workflow parser, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    """node, with the locked parser installed in pipeline/actions/node/ (npm ci when it is not)."""
    try:
        found = validate.find_node()
    except UserError as error:
        unavailable(str(error))
        raise
    if not validate.installed_matches_lock():
        installed = processes.run(validate.NPM_CI, cwd=validate.NODE_DIR)
        if installed.returncode != 0:
            unavailable(f"npm ci failed in {validate.NODE_DIR}: {installed.stderr.strip()[-500:]}")
    return found


@pytest.fixture
def workflows_copy(tmp_path: Path) -> Path:
    """The project's workflow files in a temporary folder with the same layout."""
    shutil.copytree(ROOT / WORKFLOWS, tmp_path / WORKFLOWS)
    return tmp_path


def relative_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in (root / WORKFLOWS).glob("*.yml"))


def insert_after(relative: str, anchor: str, text: str) -> Callable[[Path], int]:
    """Insert `text` after the first line equal to `anchor`; returns the line of the expression."""

    def inject(root: Path) -> int:
        path = root / relative
        lines = path.read_text().splitlines(keepends=True)
        index = next(number for number, line in enumerate(lines) if line.rstrip("\n") == anchor)
        lines[index + 1 : index + 1] = [text]
        path.write_text("".join(lines))
        return index + 1 + next(number for number, line in enumerate(text.splitlines(), 1) if "${{" in line)

    return inject


def replace_after(relative: str, anchor: str, old: str, new: str) -> Callable[[Path], int]:
    """Replace the first line equal to `old` after the line equal to `anchor`; returns its line."""

    def inject(root: Path) -> int:
        path = root / relative
        lines = path.read_text().splitlines(keepends=True)
        start = next(number for number, line in enumerate(lines) if line.rstrip("\n") == anchor)
        index = next(number for number in range(start, len(lines)) if lines[number].rstrip("\n") == old)
        lines[index] = new + "\n"
        path.write_text("".join(lines))
        return index + 1

    return inject


CI = ".github/workflows/ci.yml"
DEPLOY = ".github/workflows/deploy.yml"
SECURITY = ".github/workflows/security.yml"

DEFECTS = [
    pytest.param(
        insert_after(
            CI,
            "    name: Image build and start-up checks",
            "    env:\n      DATABASE_PORT: ${{ job.services.postgres.ports['5432'] }}\n",
        ),
        CI,
        "Unrecognized named-value: 'job'",
        id="job-context-in-job-level-env",
    ),
    pytest.param(
        insert_after(DEPLOY, "    name: Build, attest and push to GHCR", "    if: ${{ secrets.GHCR_TOKEN != '' }}\n"),
        DEPLOY,
        "Unrecognized named-value: 'secrets'",
        id="secrets-in-job-if",
    ),
    pytest.param(
        insert_after(SECURITY, "  UV_PYTHON_DOWNLOADS: never", "  PYTHON: ${{ matrix.python }}\n"),
        SECURITY,
        "Unrecognized named-value: 'matrix'",
        id="matrix-in-workflow-env",
    ),
    pytest.param(
        replace_after(
            CI, "    name: All green", "    runs-on: ubuntu-24.04", "    runs-on: ${{ steps.pick.outputs.os }}"
        ),
        CI,
        "Unrecognized named-value: 'steps'",
        id="steps-in-runs-on",
    ),
]


@pytest.mark.tools
def test_the_workflows_as_they_stand_are_accepted(node: str) -> None:
    assert validate.validate(relative_files(ROOT), node=node, cwd=ROOT) == []


@pytest.mark.tools
@pytest.mark.parametrize(("inject", "relative", "message"), DEFECTS)
def test_a_context_misuse_is_reported_at_its_line(
    node: str, workflows_copy: Path, *, inject: Callable[[Path], int], relative: str, message: str
) -> None:
    line = inject(workflows_copy)
    findings = validate.validate(relative_files(workflows_copy), node=node, cwd=workflows_copy)
    assert [(finding.path, finding.line, finding.message) for finding in findings] == [(relative, line, message)]


@pytest.mark.tools
def test_the_job_context_is_accepted_in_a_step_env(node: str, workflows_copy: Path) -> None:
    """Where ci.yml now reads the service port: a step's env, which has the job context."""
    text = (ROOT / CI).read_text()
    assert "job.services.postgres.ports['5432']" in text
    findings = validate.validate([CI], node=node, cwd=ROOT)
    assert findings == []


# --- the Python side, without Node ---------------------------------------------


def test_output_becomes_findings_sorted_and_unique() -> None:
    output = (
        ".github/workflows/ci.yml:86:66: Unrecognized named-value: 'job'\n"
        "some warning line\n"
        ".github/workflows/a.yml:5:6: Unrecognized named-value: 'matrix'\n"
        ".github/workflows/ci.yml:86:66: Unrecognized named-value: 'job'\n"
    )
    assert [str(finding) for finding in validate.parse_output(output)] == [
        ".github/workflows/a.yml:5:6: Unrecognized named-value: 'matrix'",
        ".github/workflows/ci.yml:86:66: Unrecognized named-value: 'job'",
    ]


def test_the_command_loads_the_json_hook_then_the_validator() -> None:
    command = validate.validate_command("/usr/bin/node", [Path("a.yml"), "b.yml"])
    assert command[:3] == ["/usr/bin/node", "--import", validate.LOADER.as_uri()]
    assert command[3:] == [str(validate.VALIDATOR), "a.yml", "b.yml"]


def test_a_missing_node_is_an_error_that_says_how_to_install_it() -> None:
    with pytest.raises(UserError) as raised:
        validate.find_node(which=lambda _name: None)
    message = str(raised.value)
    assert message.startswith("node is not installed")
    assert "install Node.js 20 or newer" in message
    assert "nodejs.org" in message


def test_node_versions_are_read_and_compared() -> None:
    assert validate.parse_node_version("v20.20.2\n") == (20, 20)
    assert validate.parse_node_version("v22.1.0") >= validate.MINIMUM_NODE
    assert validate.parse_node_version("v20.5.1") < validate.MINIMUM_NODE
    with pytest.raises(UserError, match="Cannot read Node's version"):
        validate.parse_node_version("not node")


def test_the_install_is_checked_against_the_lock(tmp_path: Path) -> None:
    lock = (validate.NODE_DIR / "package-lock.json").read_text()
    (tmp_path / "package-lock.json").write_text(lock)
    assert not validate.installed_matches_lock(tmp_path)  # nothing installed
    (tmp_path / "node_modules").mkdir()
    hidden = tmp_path / "node_modules" / ".package-lock.json"
    hidden.write_text(lock)
    assert validate.installed_matches_lock(tmp_path)
    hidden.write_text(lock.replace('"version": "0.3.61"', '"version": "0.3.60"', 1))
    assert not validate.installed_matches_lock(tmp_path)
