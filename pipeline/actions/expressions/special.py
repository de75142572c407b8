"""The runner's functions: the status checks (success, failure, cancelled, always) and hashFiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .functions import Arity, Function
from .hashfiles import hash_files
from .values import Value, coerce_string


@dataclass(frozen=True)
class Status:
    """What the status functions read.

    As on the runner, cancellation overrides failure: once the run is being cancelled, success() and
    failure() are both false and cancelled() is true.
    """

    failed: bool = False  # an earlier step of the job (or, for a job's `if`, an ancestor job) failed
    cancelled: bool = False  # the run is being cancelled
    # For a job's `if`: every ancestor job succeeded (a skipped one counts against it). None: `not failed`.
    succeeded: bool | None = None


# Names as GitHub spells them; arities as the workflow schema gives them for a step's `if`.
SPECIAL_FUNCTIONS: dict[str, Arity] = {
    "always": Arity(0, 0),
    "cancelled": Arity(0, 0),
    "failure": Arity(0, 0),
    "success": Arity(0, 0),
    "hashFiles": Arity(1, 255),
}


def special_functions(status: Status, workspace: Path | None) -> dict[str, Function]:
    """The implementations, by lower-case name, for one evaluation."""

    def hash_files_call(args: Sequence[Value]) -> Value:
        return hash_files(workspace or Path.cwd(), [coerce_string(arg) for arg in args])

    return {
        "always": lambda _: True,
        "cancelled": lambda _: status.cancelled,
        "failure": lambda _: status.failed and not status.cancelled,
        "success": lambda _: (
            (not status.failed if status.succeeded is None else status.succeeded) and not status.cancelled
        ),
        "hashfiles": hash_files_call,
    }
