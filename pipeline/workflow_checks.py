"""`nox -s workflows` in one process: the files that repeat the facts agree with them (`pipeline.drift`),
GitHub's own parser accepts every workflow (`pipeline.actions.validate`), and nothing in them is something
`invoke ci` would run differently from GitHub (`pipeline.actions.support`). Every finding is one
`pipeline.findings.Finding`, listed together, sorted by file and line, with its fix.

    python -m pipeline.workflow_checks [ROOT]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import drift, findings, workflows
from pipeline.actions import support, validate
from pipeline.actions.workflow import load
from pipeline.entry import user_errors
from pipeline.findings import Finding


def find_all(root: Path, node: str | None = None) -> list[Finding]:
    files = [str(path.relative_to(root)) for path in workflows.workflow_files(root)]
    refused = [finding for name in files for finding in support.refusals(load(root / name, root))]
    parsed = validate.validate(files, node=node, cwd=root)
    return sorted({*drift.find_all(root), *parsed, *refused})


def main(argv: Sequence[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    with user_errors():  # no Node, a file it cannot read: one paragraph, not a traceback
        found = find_all(root)
    for line in findings.lines(found):
        print(line)
    if found:
        print(f"workflows: {len(found)} problem(s); fix each file:line above.", file=sys.stderr)
        return 1
    print(
        "workflows: no drift from the facts; GitHub's parser accepts every workflow; nothing invoke ci would run "
        "differently from GitHub"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
