"""Make it yours: README's rename block, run as written on a copy, leaves a project whose gates and image pass.

The block is read from README.md (the first ```sh block of its "Make it yours" section), so the documented
steps and the tested ones cannot drift apart. The copy is made a git repository, as a team's clone is (the
block uses `git mv` and `git grep`); what git then sees changed is the size of the rename, printed.
"""

from __future__ import annotations

import re
import sys
import time
import uuid
from pathlib import Path

import pytest

from pipeline import images, processes
from pipeline.conftest import RunNox
from pipeline.console import plain_env
from pipeline.facts import ROOT

SECTION = "## Make it yours"
# The names README's block sets: its example is the rename tested here.
NAMES = {"project": "orders-service", "package": "orders_service", "app": "orders"}
# Files the rename may edit (moved files that keep their content are not counted). A rename that needs more
# usually means a name is written twice somewhere: take it from the facts (or the settings) instead.
EDIT_BUDGET = 18


def rename_block(readme: str) -> str:
    """The first ```sh block of README's "Make it yours" section."""
    _, found, rest = readme.partition(f"\n{SECTION}\n")
    match = re.search(r"^```sh\n(.*?)^```$", rest.split("\n## ", 1)[0], re.MULTILINE | re.DOTALL)
    if not found or not match:
        pytest.fail(f"README.md has no ```sh block under {SECTION!r}")
    return match.group(1)


def test_the_readme_block_renames_to_the_tested_names() -> None:
    block = rename_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assigned = dict(re.findall(r"^(\w+)=(\S+)", block, re.MULTILINE))
    assert {key: assigned.get(key) for key in NAMES} == NAMES
    assert block.rstrip().endswith("python3 bootstrap.py nox -s lock fix")


def git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=rename test", "-c", "user.email=rename-test@example.invalid"]
    done = processes.run(["git", *identity, *args], cwd=root)
    done.check_returncode()
    return done.stdout


def changed_files(root: Path) -> tuple[list[str], list[str]]:
    """(edited, moved unchanged) since the clone's commit, as git sees them (renames detected)."""
    git(root, "add", "--all")
    edited: list[str] = []
    moved: list[str] = []
    for line in git(root, "diff", "--cached", "--find-renames", "--name-status", "HEAD").splitlines():
        status, *paths = line.split("\t")
        (moved if status == "R100" else edited).append(paths[-1])
    return edited, moved


OLD_NAMES = re.compile(r"\bcatalog\b|\bconfig\.(?:settings|urls|wsgi|asgi)\b|backend/config\b")


def old_names_left(root: Path) -> list[str]:
    """`file:line` of every old name outside what the block leaves alone (pipeline/, README.md)."""
    return [
        f"{relative}:{number}"
        for relative in git(root, "ls-files").splitlines()
        if not relative.startswith(("pipeline/", "README.md")) and (root / relative).is_file()
        for number, line in enumerate((root / relative).read_text(errors="replace").splitlines(), start=1)
        if OLD_NAMES.search(line)
    ]


def run(root: Path, command: list[str], timeout: float) -> processes.Completed:
    env = plain_env()
    env.pop("GITHUB_STEP_SUMMARY", None)
    return processes.run(command, cwd=root, env=env, timeout=timeout)


def tail(result: processes.Completed) -> str:
    return (result.stdout + result.stderr)[-4000:]


@pytest.mark.cost(75)
def test_a_renamed_copy_passes_its_gates_and_builds(
    project_copy: Path, run_nox: RunNox, docker_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy
    git(root, "init", "--quiet")
    (root / ".git" / "info" / "exclude").write_text(".tools\n")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--no-verify", "--message", "as cloned")
    if (ROOT / ".tools").is_dir():  # bootstrap's tools, shared rather than installed again
        (root / ".tools").symlink_to(ROOT / ".tools")

    started = time.monotonic()
    block = rename_block((root / "README.md").read_text(encoding="utf-8"))
    renamed = run(root, ["bash", "-euo", "pipefail", "-c", block], timeout=900)
    assert renamed.returncode == 0, tail(renamed)
    edited, moved = changed_files(root)
    rename_seconds = time.monotonic() - started
    assert (root / "backend" / NAMES["package"] / "settings").is_dir()
    assert (root / "backend" / NAMES["app"] / "templates" / NAMES["app"]).is_dir()
    assert old_names_left(root) == []

    started = time.monotonic()
    gates = run_nox("-s", "workflows", "build", "tests-3.12", timeout=1200)
    assert gates.returncode == 0, tail(gates)
    gates_seconds = time.monotonic() - started

    # A registry prefix of its own keeps the tags apart from any other build of an `orders-service`; --output is
    # how a workflow step learns the image's name (security.yml's scan), so it must be the new one.
    prefix = f"rename-test-{uuid.uuid4().hex[:8]}"
    output = root.parent / "github-output"
    started = time.monotonic()
    try:
        command = [sys.executable, "-m", "invoke", "build-image", "--registry", prefix, "--output", str(output)]
        built = run(root, command, timeout=1200)
        assert built.returncode == 0, tail(built)
        written = dict(line.split("=", 1) for line in output.read_text().splitlines())
        assert written["image"] == f"{prefix}/{NAMES['project']}:local"
        assert Path(written["sbom"]).is_file(), "the renamed image's SBOM was made and checked against its uv.lock"
    finally:
        images.remove_local_images(f"{prefix}/{NAMES['project']}")
    build_seconds = time.monotonic() - started

    with capsys.disabled():
        print(
            f"\nrename to {', '.join(NAMES.values())}: {len(edited)} files edited, {len(moved)} moved unchanged "
            f"({rename_seconds:.0f} s); nox -s workflows build tests-3.12 {gates_seconds:.0f} s; "
            f"invoke build-image {build_seconds:.0f} s\n  edited: {' '.join(sorted(edited))}"
        )
    assert len(edited) <= EDIT_BUDGET, sorted(edited)
