"""The admin lists and revokes tokens; it cannot make or change one (only the command shows a token)."""

from __future__ import annotations

import pytest
from django.test import Client

from access.models import ApiToken

pytestmark = pytest.mark.django_db


def test_admin_lists_tokens_without_their_hash(admin_client: Client) -> None:
    row, _ = ApiToken.issue("listed")
    response = admin_client.get("/admin/access/apitoken/")
    assert response.status_code == 200
    assert b"listed" in response.content
    assert row.digest.encode() not in response.content
    assert admin_client.get("/admin/access/apitoken/add/").status_code == 403


def test_admin_revokes_a_token(admin_client: Client) -> None:
    row, token = ApiToken.issue("revoke-me")
    response = admin_client.post(f"/admin/access/apitoken/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert ApiToken.authenticate(token) is None
