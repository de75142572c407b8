"""How entry points (tasks.py, nox sessions) end: one paragraph, an exit status."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from pipeline import console
from pipeline.errors import UserError

INTERRUPTED_EXIT = 130


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into one paragraph on stderr and exit 1; Ctrl-C into exit 130."""
    try:
        yield
    except UserError as error:
        console.report_user_error(error)
        sys.exit(1)
    except KeyboardInterrupt:
        console.failure("interrupted; what this command started has been stopped.")
        sys.exit(INTERRUPTED_EXIT)
