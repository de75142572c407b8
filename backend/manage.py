#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

The settings module comes from DJANGO_SETTINGS_MODULE, which nox, invoke and the
image set from [tool.pipeline.settings] in pyproject.toml; there is no default here.
"""

import os
import sys


def main() -> None:
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").strip():
        sys.exit(
            "manage.py: DJANGO_SETTINGS_MODULE is not set. Fix: export it (the modules are named in "
            "[tool.pipeline.settings] of pyproject.toml; `cp .env.example .env` then `set -a; . ./.env; set +a` "
            "exports the development one), or run through nox or invoke, which set it."
        )
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:  # settings that cannot start (ops.env lists every variable): no traceback
        sys.exit(f"manage.py: {error}")


if __name__ == "__main__":
    main()
