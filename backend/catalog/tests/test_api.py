from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from catalog.models import Item
from catalog.tests.examples import VALID

pytestmark = pytest.mark.django_db


def post(client: Client, body: Any) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/items/", data=data, content_type="application/json")


def test_create_then_read_back(writer: Client, client: Client) -> None:
    created = post(writer, VALID)
    assert created.status_code == 201
    item_id = created.json()["id"]
    detail = client.get(f"/api/items/{item_id}/")
    assert detail.status_code == 200
    assert {key: detail.json()[key] for key in VALID} == VALID
    assert Item.objects.get(pk=item_id).name == "Lamp"


def test_list_is_ordered_and_limited(writer: Client, client: Client) -> None:
    for name in ("b", "a", "c"):
        post(writer, {**VALID, "name": name})
    response = client.get("/api/items/?limit=2")
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [item["name"] for item in response.json()["results"]] == ["a", "b"]


@pytest.mark.parametrize("limit", ["zero", "0", "-3"])
def test_list_rejects_a_bad_limit(client: Client, limit: str) -> None:
    response = client.get(f"/api/items/?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "name": ""}, "name"),
        ({**VALID, "price_cents": 0}, "price_cents"),
        ({**VALID, "price_cents": "free"}, "price_cents"),
        ({**VALID, "quantity": -1}, "quantity"),
        ({"description": "no name, no price"}, "name"),
    ],
)
def test_create_validates_fields(writer: Client, body: dict[str, Any], field: str) -> None:
    response = post(writer, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Item.objects.count() == 0


def test_create_rejects_a_duplicate_name(writer: Client) -> None:
    assert post(writer, VALID).status_code == 201
    response = post(writer, VALID)
    assert response.status_code == 409
    assert "name" in response.json()["errors"]


@pytest.mark.parametrize("body", ["{not json", b"\xff\xfe", "[1, 2]", ""])
def test_create_rejects_a_body_that_is_not_a_json_object(writer: Client, body: str | bytes) -> None:
    response = post(writer, body)
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_unknown_item_is_404(client: Client) -> None:
    assert client.get("/api/items/999/").status_code == 404


def test_methods_are_restricted(client: Client) -> None:
    assert client.delete("/api/items/").status_code == 405
    item = Item.objects.create(name="x", price_cents=1)
    assert client.post(f"/api/items/{item.pk}/").status_code == 405


def test_str_is_the_name() -> None:
    assert str(Item(name="Chair", price_cents=1)) == "Chair"


def test_admin_lists_items(admin_client: Client) -> None:
    Item.objects.create(name="Visible in admin", price_cents=100)
    response = admin_client.get("/admin/catalog/item/")
    assert response.status_code == 200
    assert b"Visible in admin" in response.content


def test_api_page_documents_the_endpoints(client: Client) -> None:
    content = client.get("/api/").content.decode()
    assert "/api/items/{item_id}/" in content
    assert "/readyz" in content
    assert "Authorization: Bearer &lt;token&gt;" in content
    assert "create_api_token --name NAME" in content
