"""Reads are public; writes need a caller we know: a token, or a signed-in user with the permission and CSRF."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from access.models import ApiToken
from django.contrib.auth.models import Permission, User
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client

from catalog.models import Item

pytestmark = pytest.mark.django_db

BODY = json.dumps({"name": "Lamp", "price_cents": 2500, "quantity": 3})


def post(client: Client, **headers: str) -> Any:
    return client.post("/api/items/", data=BODY, content_type="application/json", headers=headers)


def assert_unauthorized(response: Any, error: str | None) -> None:
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    assert "authorization" in response.json()["errors"]
    assert Item.objects.count() == 0


def test_a_write_without_credentials_is_401_with_a_challenge(client: Client) -> None:
    assert_unauthorized(post(client), None)


def test_an_unknown_token_is_401(client: Client) -> None:
    ApiToken.issue("someone")
    assert_unauthorized(post(client, Authorization=f"Bearer {secrets.token_urlsafe(32)}"), "invalid_token")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"])
def test_a_malformed_authorization_header_is_401(client: Client, header: str) -> None:
    assert_unauthorized(post(client, Authorization=header), "invalid_request")


def test_a_revoked_token_is_401(client: Client) -> None:
    row, token = ApiToken.issue("revoked")
    row.delete()
    assert_unauthorized(post(client, Authorization=f"Bearer {token}"), "invalid_token")


def test_a_token_may_write_without_csrf_and_its_use_is_recorded() -> None:
    row, token = ApiToken.issue("client")
    assert row.last_used_at is None
    response = post(Client(enforce_csrf_checks=True), Authorization=f"bearer {token}")
    assert response.status_code == 201
    assert Item.objects.get().name == "Lamp"
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_reads_stay_public_even_with_a_wrong_token(client: Client) -> None:
    Item.objects.create(name="x", price_cents=1)
    assert client.get("/api/items/").status_code == 200
    assert client.get("/api/items/", headers={"Authorization": "Bearer nope"}).status_code == 200


def signed_in(*, may_add_items: bool) -> Client:
    user = User.objects.create_user("clerk", password="unused-in-this-test")
    if may_add_items:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="catalog", codename="add_item"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def with_csrf(client: Client) -> dict[str, str]:
    """The double-submit pair a page's JavaScript sends: the csrftoken cookie and the same value in a header."""
    secret = "".join(secrets.choice(CSRF_ALLOWED_CHARS) for _ in range(CSRF_SECRET_LENGTH))
    client.cookies["csrftoken"] = secret
    return {"X-CSRFToken": secret}


def test_a_signed_in_user_with_the_permission_and_csrf_may_write() -> None:
    client = signed_in(may_add_items=True)
    assert post(client, **with_csrf(client)).status_code == 201
    assert Item.objects.count() == 1


def test_a_signed_in_user_without_csrf_is_403() -> None:
    response = post(signed_in(may_add_items=True))
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"]["permission"][0]
    assert Item.objects.count() == 0


def test_a_signed_in_user_without_the_permission_is_403() -> None:
    client = signed_in(may_add_items=False)
    response = post(client, **with_csrf(client))
    assert response.status_code == 403
    assert response.json()["errors"]["permission"] == ["Your account lacks the permission catalog.add_item."]
    assert Item.objects.count() == 0
