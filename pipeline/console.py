"""Output for people: rich in a terminal, plain lines otherwise, markdown on GitHub."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from pipeline.errors import UserError

COLOR_FORCING = ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS")


def plain_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child whose output we parse: colour forced off.

    Workflows set FORCE_COLOR for readable logs; tools then colour even piped
    output (and nox refuses FORCE_COLOR together with NO_COLOR).
    """
    env = {
        key: value for key, value in (os.environ if environ is None else environ).items() if key not in COLOR_FORCING
    }
    env["NO_COLOR"] = "1"
    return env


def on_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a CI service runs us (CI=true/1/yes: GitHub, GitLab, `invoke ci`): nothing is downloaded,
    nothing is skipped for want of a tool, and the output is for a log."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").lower() in {"1", "true", "yes"}


def console(stream: TextIO | None = None) -> Console:
    """A rich console; colours and boxes only when the stream is a terminal."""
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


def say(message: str, *, style: str = "", stream: TextIO | None = None) -> None:
    console(stream).print(message, style=style or None, markup=False)


def success(message: str) -> None:
    say(f"✔ {message}", style="bold green")


def failure(message: str, stream: TextIO | None = None) -> None:
    say(f"✘ {message}", style="bold red", stream=stream or sys.stderr)


def report_user_error(error: UserError) -> None:
    """One paragraph on stderr: the problem, then the fix."""
    failure(str(error))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    out = console()
    if not out.is_terminal:
        out.print(title, markup=False)
        for row in rows:
            out.print(
                "  " + "  ".join(f"{column}={value}" for column, value in zip(columns, row, strict=True)), markup=False
            )
        return
    rich_table = Table(title=title)
    for column in columns:
        rich_table.add_column(column, overflow="fold")  # a path or a reference whole, over two lines if it must
    for row in rows:
        rich_table.add_row(*row)
    out.print(rich_table)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> bool:
    """Append a markdown section to the GitHub job summary; False when not on GitHub."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip() + "\n\n")
    return True
