"""API tokens: only a hash of each token is stored; the token itself is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

TOKEN_BYTES = 32


def token_digest(token: str) -> str:
    """SHA-256 of a token, hex. Tokens are 256 random bits, so a fast hash is enough (no salt, no stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A credential for API clients: `Authorization: Bearer <token>` may write through the API."""

    name = models.CharField(max_length=100, unique=True, help_text="Who or what uses the token.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, name: str) -> tuple[ApiToken, str]:
        """A new token named `name`: the stored row and the token, which nothing keeps."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return cls.objects.create(name=name, digest=token_digest(token)), token

    @classmethod
    def authenticate(cls, token: str) -> ApiToken | None:
        """The token's row, its use recorded; None for a token that is unknown or was deleted."""
        found = cls.objects.filter(digest=token_digest(token)).first()
        if found is not None:
            found.last_used_at = timezone.now()
            cls.objects.filter(pk=found.pk).update(last_used_at=found.last_used_at)
        return found
