"""Every workflow through GitHub's own parser, `@actions/workflow-parser`.

The parser (pinned with integrity hashes in `node/package-lock.json`) is the
code GitHub's editor tooling uses: it knows which contexts each key may use
(`job` only in steps, `secrets` not in a job's `if:`, ...), which a JSON schema
and our own drift rules cannot. `node/validate.mjs` prints one
`file:line:column: message` per error; this module finds Node, composes the
commands and turns that output into findings, which `pipeline.workflow_checks`
reports with the other checks of the workflows (`nox -s workflows`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pipeline import processes
from pipeline.console import plain_env
from pipeline.errors import UserError
from pipeline.findings import Finding

NODE_DIR = Path(__file__).resolve().parent / "node"
LOADER = NODE_DIR / "json-imports.mjs"
VALIDATOR = NODE_DIR / "validate.mjs"
PARSER_PACKAGE = NODE_DIR / "node_modules" / "@actions" / "workflow-parser"
# module.register (the JSON loader hook) exists from Node 20.6; the project's Node is 20.
MINIMUM_NODE = (20, 6)
INSTALL_NODE_FIX = (
    "install Node.js 20 or newer (https://nodejs.org/en/download, or your system's package manager: "
    "nodejs and npm), make sure `node --version` works in this shell, then run `nox -s workflows` again"
)
NPM_CI = ("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
NPM_CI_FIX = f"run `{' '.join(NPM_CI)}` in {NODE_DIR} (`nox -s workflows` does it)"
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


FIX = "GitHub would not run this workflow: correct the key or expression the parser names"


def parse_node_version(text: str) -> tuple[int, int]:
    """(major, minor) from `node --version` ('v20.20.2')."""
    match = re.match(r"^v?(\d+)\.(\d+)", text.strip())
    if not match:
        raise UserError(f"Cannot read Node's version from {text.strip()!r}", INSTALL_NODE_FIX)
    return int(match.group(1)), int(match.group(2))


def find_node(which: Callable[[str], str | None] = shutil.which) -> str:
    """The `node` to run; a missing or too old one is a UserError naming the fix."""
    node = which("node")
    if node is None or which("npm") is None:
        missing = "node" if node is None else "npm"
        raise UserError(f"{missing} is not installed (GitHub's workflow parser runs on Node.js)", INSTALL_NODE_FIX)
    version = processes.run([node, "--version"]).stdout
    if parse_node_version(version) < MINIMUM_NODE:
        wanted = ".".join(map(str, MINIMUM_NODE))
        raise UserError(
            f"Node.js {version.strip()} is too old; GitHub's workflow parser needs {wanted}+", INSTALL_NODE_FIX
        )
    return node


def installed_matches_lock(node_dir: Path = NODE_DIR) -> bool:
    """node_modules holds exactly what package-lock.json pins (npm's own record of the install says so).

    `nox -s workflows` runs `npm ci` only when it does not: npm ci first deletes
    node_modules, which would pull the parser from under a run beside it.
    """
    try:
        locked = json.loads((node_dir / "package-lock.json").read_text(encoding="utf-8"))["packages"]
        installed = json.loads((node_dir / "node_modules" / ".package-lock.json").read_text(encoding="utf-8"))[
            "packages"
        ]
    except (OSError, ValueError, KeyError):
        return False

    def pins(packages: dict[str, dict[str, str]]) -> dict[str, tuple[str | None, str | None]]:
        return {path: (entry.get("version"), entry.get("integrity")) for path, entry in packages.items() if path}

    return bool(pins(locked)) and pins(locked) == pins(installed)


def validate_command(node: str, files: Iterable[Path | str]) -> list[str]:
    """node with the JSON loader hook, the validator, then the workflow files."""
    return [node, "--import", LOADER.as_uri(), str(VALIDATOR), *map(str, files)]


def parse_output(text: str) -> list[Finding]:
    findings = []
    for line in text.splitlines():
        if match := FINDING.match(line.strip()):
            message = match["message"].strip()
            findings.append(Finding(match["path"], int(match["line"]), message, FIX, int(match["column"])))
    return sorted(set(findings))


def validate(files: Sequence[Path | str], *, node: str | None = None, cwd: Path | None = None) -> list[Finding]:
    """GitHub's parser's errors for `files` (paths as given, relative to `cwd`); [] when all are valid."""
    if not PARSER_PACKAGE.is_dir():
        raise UserError(f"GitHub's workflow parser is not installed in {NODE_DIR}", NPM_CI_FIX)
    result = processes.run(validate_command(node or find_node(), files), cwd=cwd, env=plain_env())
    findings = parse_output(result.stdout)
    if result.returncode != 0 and not findings:
        output = (result.stderr or result.stdout).strip()[-1500:]
        raise UserError(f"GitHub's workflow parser could not run (exit {result.returncode}): {output}", NPM_CI_FIX)
    return findings
