"""`manage.py wait_for_db --timeout N`: wait for the database, with backoff."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 5.0


def backoff_delays(first: float = FIRST_DELAY_SECONDS, ceiling: float = MAX_DELAY_SECONDS) -> Any:
    """0.25, 0.5, 1, 2, 4, 5, 5, ... seconds."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, ceiling)


class Command(BaseCommand):
    help = "Wait until the database accepts connections, or fail after --timeout seconds."

    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        timeout: float = options["timeout"]
        alias: str = options["database"]
        connection = connections[alias]
        deadline = time.monotonic() + timeout
        attempts = 0
        last_error = ""
        for delay in backoff_delays():
            attempts += 1
            try:
                connection.ensure_connection()
            except OperationalError as error:
                last_error = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                connection.close()
            else:
                self.stdout.write(f"Database '{alias}' is available (attempt {attempts}).")
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(delay, remaining))
        raise CommandError(
            f"Database '{alias}' was not reachable within {timeout:g}s after {attempts} attempts "
            f"(last error: {last_error}). Check DATABASE_URL and that the server is running."
        )
