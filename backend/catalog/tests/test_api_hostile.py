"""Hostile requests against the API: wrong types, sizes, nesting, encodings, methods and content types are
each a 4xx JSON answer naming what is wrong, and none of them writes anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from catalog.models import Item
from catalog.tests.examples import VALID

pytestmark = pytest.mark.django_db


def send(client: Client, body: bytes | str, content_type: str = "application/json", method: str = "post") -> Any:
    return getattr(client, method)("/api/items/", data=body, content_type=content_type)


def assert_refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json()["errors"], response.json()
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": 12345}, "name"),  # a number is not a name
        ({"name": ["Lamp"]}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"description": {"text": "nested"}}, "description"),
        ({"price_cents": "2500"}, "price_cents"),  # a string is not a number
        ({"price_cents": True}, "price_cents"),
        ({"price_cents": 12.5}, "price_cents"),
        ({"price_cents": 2**31}, "price_cents"),
        ({"quantity": -1}, "quantity"),
        ({"colour": "red"}, "colour"),  # no other fields
    ],
)
def test_a_field_of_the_wrong_type_or_size_is_400_naming_it(writer: Client, change: dict[str, Any], field: str) -> None:
    assert_refused(send(writer, json.dumps({**VALID, **change})), 400, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "\\ud800", "price_cents": 1}', "name"),  # a lone surrogate, escaped: valid JSON, not storable
        ('{"name": "nul\\u0000", "price_cents": 1}', "name"),  # PostgreSQL cannot keep NUL
        ('{"name": "Lamp", "price_cents": ' + "9" * 5000 + "}", "body"),  # past Python's 4,300 digits
        ("[" * 20_000 + "]" * 20_000, "body"),  # deeper than the parser's stack
        (b'{"name": "\xff\xfe", "price_cents": 1}', "body"),  # not UTF-8
        ('{"name": "Lamp", "price_cents": 1'.encode("utf-16"), "body"),
        ("null", "body"),
        ('"a string"', "body"),
    ],
)
def test_a_hostile_body_is_400(writer: Client, body: bytes | str, field: str) -> None:
    assert_refused(send(writer, body), 400, field)


def test_a_body_over_the_limit_is_413_before_it_is_read(writer: Client) -> None:
    with override_settings(API_MAX_BODY_BYTES=2048):
        padding = "x" * 4096
        assert_refused(send(writer, json.dumps({**VALID, "description": padding})), 413, "body")
        assert send(writer, json.dumps(VALID)).status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_415(writer: Client, content_type: str) -> None:
    assert_refused(send(writer, "name=Lamp&price_cents=1", content_type), 415, "content_type")


def test_json_with_a_charset_is_json(writer: Client) -> None:
    assert send(writer, json.dumps(VALID), "application/json; charset=utf-8").status_code == 201


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_unsupported_method_is_405_json_with_allow(writer: Client, method: str) -> None:
    response = send(writer, json.dumps(VALID), method=method)
    assert_refused(response, 405, "method")
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/nothing-here/", 404, "path"),
        ("/api/items/999/", 404, "path"),
        ("/api/items/not-a-number/", 400, "item_id"),
        ("/api/items/99999999999999999999999/", 400, "item_id"),
        ("/api/items/?limit=101", 400, "limit"),
        ("/api/items/?limit=0", 400, "limit"),
        ("/api/items/?limit=" + "9" * 5000, 400, "limit"),
        ("/api/items/?offset=-1", 400, "offset"),
    ],
)
def test_every_api_path_answers_json(client: Client, path: str, status: int, field: str) -> None:
    assert_refused(client.get(path), status, field)


def test_a_duplicate_name_is_409_naming_it(writer: Client) -> None:
    assert send(writer, json.dumps(VALID)).status_code == 201
    response = send(writer, json.dumps(VALID))
    assert response.status_code == 409
    assert "name" in response.json()["errors"]
    assert Item.objects.count() == 1


def test_pages_follow_limit_and_offset(writer: Client, client: Client) -> None:
    for name in ("c", "a", "b"):
        assert send(writer, json.dumps({**VALID, "name": name})).status_code == 201
    page = client.get("/api/items/?limit=2&offset=1").json()
    assert page["count"] == 3
    assert [item["name"] for item in page["results"]] == ["b", "c"]


def test_the_schema_is_served_and_strict(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/items/", "/api/items/{item_id}/"} <= set(schema["paths"])
    item_in = schema["components"]["schemas"]["ItemIn"]
    assert item_in["additionalProperties"] is False
    assert item_in["properties"]["price_cents"]["type"] == "integer"
    assert schema["paths"]["/api/items/"]["post"]["security"]


def test_a_whole_number_written_with_a_fraction_is_a_number(writer: Client) -> None:
    """JSON Schema's integer, as the schema says: 2500.0 is 2500 (JSON has one number type)."""
    response = send(writer, json.dumps({**VALID, "price_cents": 2500.0}))
    assert response.status_code == 201, response.content
    assert response.json()["price_cents"] == 2500
