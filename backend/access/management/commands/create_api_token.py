"""`manage.py create_api_token --name NAME`: a token for API writes, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from access.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for writes and print it once on stdout (only its hash is stored). "
        "Clients send it as `Authorization: Bearer <token>`; delete it in the admin to revoke it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="who or what uses the token (unique)")

    def handle(self, *args: Any, **options: Any) -> None:
        name = str(options["name"]).strip()
        limit = ApiToken._meta.get_field("name").max_length or 0
        if not name or len(name) > limit:
            raise CommandError(f"--name must be 1 to {limit} characters.")
        try:
            with transaction.atomic():
                _, token = ApiToken.issue(name)
        except IntegrityError:
            raise CommandError(
                f"A token named {name!r} exists; choose another name, or delete that token in the admin first."
            ) from None
        self.stderr.write(f"API token {name!r} created. It is shown once, below; only its hash is stored.")
        self.stdout.write(token)
