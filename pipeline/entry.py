"""The one path by which a user's problem leaves the pipeline: one paragraph with its fix, a non-zero exit.

Tasks, `python -m pipeline.*` programs and the noxfile's top level use
`user_errors()`; a nox session uses `user_errors(session)`, which ends the
session through nox (so the other sessions of the run still report).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import NoReturn, Protocol

from pipeline import console, processes
from pipeline.errors import UserError


class Session(Protocol):
    """What of a nox session ends it: `session.error`."""

    def error(self, *args: object) -> NoReturn: ...


@contextlib.contextmanager
def user_errors(session: Session | None = None) -> Iterator[None]:
    """A UserError becomes one paragraph: the session's error, or stderr and exit 1. Ctrl-C outside a
    session exits 130 (nox handles its own)."""
    try:
        yield
    except UserError as error:
        if session is not None:
            session.error(str(error))
        console.report_user_error(error)
        sys.exit(1)
    except KeyboardInterrupt as interrupt:
        if session is not None:
            raise
        console.failure("interrupted; what this command started has been stopped.")
        sys.exit(processes.interrupted_exit_status(interrupt))
