"""One exception for "the user must do something", carrying the fix."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix. Entry points print it as one paragraph and exit 1."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}."
