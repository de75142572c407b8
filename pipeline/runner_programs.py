"""The programs some sessions take from the machine, as GitHub's runner image has them.

One table: `invoke doctor` names each one that is missing with its install command,
`invoke ci` says so before the jobs that need it start, and the session itself
stops with the same paragraph before it does any work.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipeline.errors import UserError

Which = Callable[[str], str | None]

INSTALL_CHROMIUM = (
    "install Chromium or Google Chrome (Debian/Ubuntu: sudo apt-get install chromium; Fedora: sudo dnf install "
    "chromium; macOS: brew install --cask chromium), so that `chromium` or `google-chrome` is on PATH"
)
INSTALL_NODE = (
    "install Node.js 20 or newer with npm (https://nodejs.org/en/download, or your system's packages: nodejs "
    "and npm), so that `node --version` and `npm --version` work in this shell"
)


@dataclass(frozen=True)
class Program:
    name: str
    commands: tuple[str, ...]  # every group must be on PATH; within a group, any one of its names
    sessions: tuple[str, ...]  # the nox sessions that need it
    why: str
    fix: str
    blocking: bool  # a default session needs it (else only CI's full run does: `invoke doctor` warns)

    def found(self, which: Which = shutil.which) -> bool:
        return all(any(which(name) for name in group.split("|")) for group in self.commands)

    def missing_error(self, session: str) -> UserError:
        return UserError(f"{self.name} is not installed here, and {session} needs it ({self.why})", self.fix)


PROGRAMS = (
    Program(
        "Chromium",
        ("chromium|chromium-browser|google-chrome|google-chrome-stable",),
        ("tooling(engine)",),
        "the pipeline's browser tests look at the stacks' pages; GitHub's runner has Chrome",
        INSTALL_CHROMIUM,
        blocking=False,
    ),
    Program(
        "Node.js and npm",
        ("node", "npm"),
        ("assets", "build", "workflows"),
        "the Tailwind build and GitHub's own workflow parser run on Node.js; GitHub's runner has Node 20",
        INSTALL_NODE,
        blocking=True,
    ),
)


def missing(which: Which = shutil.which) -> list[Program]:
    return [program for program in PROGRAMS if not program.found(which)]


def needed_by(sessions: Iterable[str], which: Which = shutil.which) -> dict[str, list[Program]]:
    """{session: the missing programs it needs} for those of `sessions` that need one."""
    gaps = missing(which)
    found = {session: [program for program in gaps if session in program.sessions] for session in sessions}
    return {session: programs for session, programs in found.items() if programs}


def require(session: str, which: Which = shutil.which) -> None:
    """A session's first step: its programs are here, or one paragraph naming the first missing one."""
    for program in PROGRAMS:
        if session in program.sessions and not program.found(which):
            raise program.missing_error(session)


def warnings_for(sessions: Sequence[str], which: Which = shutil.which) -> list[str]:
    """One line per missing program, naming the jobs that will fail for it, for `invoke ci` before they start."""
    by_program: dict[Program, list[str]] = {}
    for session, programs in needed_by(sessions, which).items():
        for program in programs:
            by_program.setdefault(program, []).append(session)
    return [
        f"{program.name} is not installed here, so {', '.join(names)} will fail ({program.why}). Fix: {program.fix}."
        for program, names in by_program.items()
    ]
