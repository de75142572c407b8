"""One type for a problem found in a file, whoever finds it: drift from the facts, GitHub's workflow
parser, and what `invoke ci` would run differently from GitHub (`pipeline.workflow_checks` runs all three).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """`path:line[:column]: message`, and what to do about it."""

    path: str
    line: int
    message: str
    fix: str = ""
    column: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def lines(findings: Iterable[Finding]) -> list[str]:
    """Each finding on its line, its fix on the next unless the finding before it had the same fix."""
    out: list[str] = []
    previous_fix = None
    for finding in sorted(findings):
        out.append(str(finding))
        if finding.fix and finding.fix != previous_fix:
            out.append(f"    fix: {finding.fix}")
        previous_fix = finding.fix
    return out
