"""`manage.py check_config`: validate the production environment, all at once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops import env
from ops.production_config import read_production_config


class Command(BaseCommand):
    help = "Validate the production configuration; list every missing or invalid variable."

    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        _, problems = read_production_config()
        # What the settings modules read besides (DATABASE_CONN_MAX_AGE, ...), each problem once.
        read_by_settings = [str(problem) for problem in getattr(settings, "ENVIRONMENT", env.Reader()).problems]
        problems = list(dict.fromkeys([*problems, *read_by_settings]))
        if problems:
            lines = "\n".join(f"  - {problem}" for problem in problems)
            raise CommandError(
                f"The production configuration has {len(problems)} problem(s); "
                f"set or correct these variables (see .env.example):\n{lines}"
            )
        self.stdout.write(self.style.SUCCESS("Production configuration is complete."))
