"""The contexts a local run offers its expressions, shaped as GitHub's.

`invoke ci --event pull_request|push --ref REF` chooses what is rehearsed;
the default is a pull request, what a developer is about to open.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline import processes
from pipeline.errors import UserError

Event = Literal["pull_request", "push", "workflow_dispatch", "schedule", "workflow_call"]
EVENTS: tuple[Event, ...] = ("pull_request", "push", "workflow_dispatch", "schedule", "workflow_call")
DEFAULT_REF = {"pull_request": "refs/pull/1/merge"}


@dataclass(frozen=True)
class Trigger:
    """What the rehearsed run was triggered by."""

    event: Event = "pull_request"
    ref: str = ""

    @property
    def resolved_ref(self) -> str:
        return self.ref or DEFAULT_REF.get(self.event, "refs/heads/main")


def _git(root: Path, *args: str) -> str:
    try:
        done = processes.run(["git", *args], cwd=root, timeout=10)
    except UserError:  # no git, or it hung
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def github_context(root: Path, trigger: Trigger, workflow_name: str, run_id: str) -> dict[str, Any]:
    ref = trigger.resolved_ref
    ref_name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    event: dict[str, Any] = {}
    if trigger.event == "pull_request":
        ref_name = ref.removeprefix("refs/")
        event = {"pull_request": {"number": 1, "head": {"ref": _git(root, "branch", "--show-current") or "local"}}}
    owner = "local"
    return {
        "event_name": trigger.event,
        "event": event,
        "ref": ref,
        "ref_name": ref_name,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "base_ref": "main" if trigger.event == "pull_request" else "",
        "head_ref": event.get("pull_request", {}).get("head", {}).get("ref", ""),
        "sha": _git(root, "rev-parse", "HEAD") or "0" * 40,
        "repository": f"{owner}/{root.name}",
        "repository_owner": owner,
        "workflow": workflow_name,
        "run_id": run_id,
        "run_number": "1",
        "run_attempt": "1",
        "actor": os.environ.get("USER", "local"),
        "triggering_actor": os.environ.get("USER", "local"),
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "workspace": str(root),
        "token": "",  # nosec B105 -- no GitHub token exists in a local run
        "action": "",
        "job": "",
    }


def runner_context(temp: Path) -> dict[str, Any]:
    return {
        "os": "Linux",
        "arch": {"x86_64": "X64", "aarch64": "ARM64"}.get(platform.machine(), platform.machine()),
        "name": "invoke-ci",
        "environment": "self-hosted",
        "temp": str(temp),
        "tool_cache": str(temp / "toolcache"),
        "debug": "",
    }


def needs_context(results: Mapping[str, Mapping[str, Any]], needs: tuple[str, ...]) -> dict[str, Any]:
    return {need: {"result": results[need]["result"], "outputs": dict(results[need]["outputs"])} for need in needs}
