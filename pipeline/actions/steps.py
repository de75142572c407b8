"""One step, run as GitHub's runner runs it: its shell, directory, environment and files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.actions.model import Result, StepKind
from pipeline.actions.support import SETUP_ACTIONS

# GitHub's shells on Linux: {0} is the script file.
SHELLS = {
    None: ["bash", "-e", "{0}"],
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    "python": ["python", "{0}"],
}
SUFFIX = {"python": ".py"}


def shell_argv(shell: str | None, script: Path) -> list[str]:
    template = SHELLS[shell] if shell in SHELLS else str(shell).split()
    return [str(script) if part == "{0}" else part for part in template]


def write_script(folder: Path, shell: str | None, body: str) -> Path:
    script = folder / f"{uuid.uuid4().hex}{SUFFIX.get(shell or '', '.sh')}"
    script.write_text(body, encoding="utf-8")
    return script


def github_only_reason(step: Mapping[str, Any]) -> str:
    """Why a `uses:` step does not run here."""
    action = str(step.get("uses", "")).split("@")[0]
    if action in SETUP_ACTIONS:
        return f"runner setup; here {SETUP_ACTIONS[action]}"
    return "it needs GitHub's own services"


def step_label(step: Mapping[str, Any], index: int) -> str:
    if step.get("name"):
        return str(step["name"])
    if "run" in step:
        return "Run " + str(step["run"]).strip().splitlines()[0]
    if "uses" in step:
        return f"uses {str(step.get('uses', '')).split('@')[0]}"
    if "parallel" in step:
        return f"parallel: {len(step['parallel'] or [])} steps side by side"
    for key in ("wait", "wait-all", "cancel"):
        if key in step:
            return f"{key}: {step[key]}"
    return f"step {index + 1}"


@dataclass
class StepRecord:
    """What the `steps` context and the plan say about one step."""

    label: str
    kind: StepKind
    outcome: Result = Result.SKIPPED
    conclusion: Result = Result.SKIPPED
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def context(self) -> dict[str, Any]:
        return {"outputs": self.outputs, "outcome": self.outcome.value, "conclusion": self.conclusion.value}


def merged_path(base: str, additions: list[str]) -> str:
    """GITHUB_PATH entries go in front of PATH, the latest first."""
    return os.pathsep.join([*reversed(additions), base])
