"""The contexts a local run offers its expressions, shaped as GitHub's.

`invoke ci --event pull_request|push --ref REF` chooses what is rehearsed;
the default is a pull request, what a developer is about to open.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline import changes, processes
from pipeline.actions import expressions
from pipeline.errors import UserError

Event = Literal["pull_request", "push", "workflow_dispatch", "schedule", "workflow_call"]
EVENTS: tuple[Event, ...] = ("pull_request", "push", "workflow_dispatch", "schedule", "workflow_call")
DEFAULT_REF = {"pull_request": "refs/pull/1/merge"}
PR_BASE = "main"  # the branch a rehearsed pull request targets


@dataclass(frozen=True)
class Trigger:
    """What the rehearsed run was triggered by; `payload` is a real event's JSON (as act's -e), or made up."""

    event: Event = "pull_request"
    ref: str = ""
    payload: Mapping[str, Any] | None = None

    @property
    def resolved_ref(self) -> str:
        return self.ref or DEFAULT_REF.get(self.event, "refs/heads/main")


def read_payload(path: Path) -> dict[str, Any]:
    """An event payload file (the JSON GitHub sends, as `act -e` takes it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read the event file {path}: {error.strerror}", "pass an existing JSON file") from None
    except json.JSONDecodeError as error:
        raise UserError(
            f"the event file {path} is not JSON ({error.msg}, line {error.lineno})", "pass the JSON of a GitHub event"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"the event file {path} is not a JSON object", "pass the JSON of a GitHub event (an object)")
    return data


def read_secrets(names: Sequence[str], secret_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The `secrets` a run may read: each name given with --secret from this environment, and an .env-style
    file's KEY=VALUE lines (comments, blank lines, `export ` and quotes allowed)."""
    secrets: dict[str, str] = {}
    if secret_file is not None:
        try:
            lines = secret_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UserError(
                f"cannot read the secret file {secret_file}: {error.strerror}", "pass an existing file"
            ) from None
        for number, line in enumerate(lines, 1):
            text = line.strip().removeprefix("export ").strip()
            if not text or text.startswith("#"):
                continue
            if "=" not in text:
                raise UserError(f"{secret_file}:{number} is not NAME=VALUE", "write one secret per line as NAME=VALUE")
            name, value = (part.strip() for part in text.split("=", 1))
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            secrets[name] = value
    missing = [name for name in names if name not in environ]
    if missing:
        raise UserError(
            f"--secret {', '.join(missing)}: no such environment variable", "export it first, or use --secret-file"
        )
    secrets.update({name: environ[name] for name in names})
    return secrets


VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_variables(assignments: Sequence[str]) -> dict[str, str]:
    """The `vars` context (a repository's configuration variables) from --var NAME=VALUE; GitHub compares
    `vars` names case-insensitively, and so do expressions here."""
    variables: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not VARIABLE_NAME.match(name.strip()):
            raise UserError(
                f"--var {assignment!r} is not NAME=VALUE", "write --var NAME=VALUE, e.g. --var DEPLOY=false"
            )
        variables[name.strip()] = value
    return variables


def _git(root: Path, *args: str) -> str:
    try:
        done = processes.run(["git", *args], cwd=root, timeout=10)
    except UserError:  # no git, or it hung
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


REMOTE = re.compile(r"(?:github\.com[:/])(?P<name>[^/\s]+/[^/\s]+?)(?:\.git)?/?$")


def repository_name(root: Path) -> str:
    """owner/name as GitHub would say it: from the `origin` remote's URL, else local/<folder>."""
    match = REMOTE.search(_git(root, "remote", "get-url", "origin"))
    return match["name"] if match else f"local/{root.name}"


def made_up_payload(root: Path, trigger: Trigger, repository: str, sha: str) -> dict[str, Any]:
    """The event GitHub would send for this trigger: a same-repository pull request into main, a push of HEAD."""
    owner, name = repository.split("/", 1)
    repo = {"full_name": repository, "name": name, "owner": {"login": owner}, "default_branch": PR_BASE, "fork": False}
    user = {"login": os.environ.get("USER", "local")}
    if trigger.event == "pull_request":
        base_sha = changes.default_branch_base(root) or sha  # what `invoke changes` compares with, run by hand
        head = _git(root, "branch", "--show-current") or "local"
        pull_request = {
            "number": 1,
            "title": _git(root, "log", "-1", "--format=%s") or "local change",
            "draft": False,
            "state": "open",
            "labels": [],
            "user": user,
            "head": {"ref": head, "sha": sha, "repo": repo, "label": f"{owner}:{head}"},
            "base": {"ref": PR_BASE, "sha": base_sha, "repo": repo, "label": f"{owner}:{PR_BASE}"},
        }
        return {"action": "synchronize", "number": 1, "pull_request": pull_request, "repository": repo, "sender": user}
    if trigger.event == "push":
        commit = {"id": sha, "message": _git(root, "log", "-1", "--format=%B")}
        pushed = {"ref": trigger.resolved_ref, "before": "0" * 40, "after": sha, "head_commit": commit}
        return {**pushed, "repository": repo, "sender": user}
    return {"repository": repo, "sender": user, **({"inputs": {}} if trigger.event == "workflow_dispatch" else {})}


def github_context(root: Path, trigger: Trigger, workflow_name: str, run_id: str) -> dict[str, Any]:
    ref = trigger.resolved_ref
    ref_name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    sha = _git(root, "rev-parse", "HEAD") or "0" * 40
    repository = repository_name(root)
    event = dict(trigger.payload) if trigger.payload is not None else made_up_payload(root, trigger, repository, sha)
    pull_request: Mapping[str, Any] = event["pull_request"] if isinstance(event.get("pull_request"), Mapping) else {}
    if trigger.event == "pull_request":
        ref_name = ref.removeprefix("refs/")
    owner = repository.split("/", 1)[0]
    return {
        "event_name": trigger.event,
        "event": event,
        "ref": ref,
        "ref_name": ref_name,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "base_ref": str((pull_request.get("base") or {}).get("ref", "")) if trigger.event == "pull_request" else "",
        "head_ref": str((pull_request.get("head") or {}).get("ref", "")) if trigger.event == "pull_request" else "",
        "sha": sha,
        "repository": repository,
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


def typed_input(value: Any, spec: Mapping[str, Any]) -> Any:
    """An input as the `inputs` context holds it: `type: boolean` a boolean, `number` a number, else a string."""
    kind = spec.get("type", "string")
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "number" and not isinstance(value, bool):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return expressions.to_string(value)


def dispatch_inputs(on: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The `inputs` context of a workflow_dispatch run: each input's default, typed, under the payload's values."""
    config = on.get("workflow_dispatch") if isinstance(on, Mapping) else None
    declared: Mapping[str, Any] = (config.get("inputs") or {}) if isinstance(config, Mapping) else {}
    given: Mapping[str, Any] = payload["inputs"] if isinstance(payload.get("inputs"), Mapping) else {}
    inputs: dict[str, Any] = {}
    for name, declaration in declared.items():
        spec: Mapping[str, Any] = declaration if isinstance(declaration, Mapping) else {}
        inputs[name] = typed_input(given.get(name, spec.get("default", "")), spec)
    return inputs


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
