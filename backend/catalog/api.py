"""The JSON API, on django-ninja: typed, strict request and response schemas (pydantic), an OpenAPI
schema served at /api/openapi.json (the API page is drawn from it), and every error as JSON naming the
field at fault: `{"errors": {"field": ["message", ...]}}`.

Reads are public; a write needs a caller we know (`access.decorators.refusal`: an API token, or a
signed-in user with the permission whose request passes CSRF).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from access.decorators import refusal
from django.contrib.auth import get_permission_codename
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja import Path as PathParameter
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, field_validator

from .models import Item

# The app's label names the permission; taken from the model, so a renamed app needs no edit here.
ADD_ITEM = f"{Item._meta.app_label}.{get_permission_codename('add', Item._meta)}"

MAX_PAGE_SIZE = 100
# gunicorn answers a request line over 4,094 bytes with its own 414 page before Django sees the request:
# a response of every operation in production (Schemathesis found it against the stack), documented so.
URI_TOO_LONG: dict[int, None] = {414: None}
LARGEST_INTEGER = 2_147_483_647  # PostgreSQL's integer, which PositiveIntegerField uses
LARGEST_ID = 9_223_372_036_854_775_807  # a BigAutoField
JSON_TYPE = "application/json"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL's text cannot hold NUL; said in the schema, so clients know
ERROR_FIELDS = {400: "body", 401: "authorization", 403: "permission", 404: "path", 405: "method"}


class RefusedError(Exception):
    """A write refused, with the response that says why (401 with a challenge, or 403)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


class WriteAccess(HttpBearer):
    """Bearer tokens for API clients (shown so in the schema), or a signed-in user's session with the
    permission and a CSRF token; the refusal names which (see `access.decorators`)."""

    def __init__(self, permission: str) -> None:
        super().__init__()
        self.permission = permission

    def __call__(self, request: HttpRequest) -> Any:
        refused = refusal(request, self.permission)
        if refused is not None:
            raise RefusedError(refused)
        return request.headers.get("Authorization") or request.user

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover -- __call__ decides
        return None


class StrictJsonParser(Parser):
    """JSON bodies only as UTF-8 JSON: what Python's parser refuses (a number of 4,300+ digits, nesting
    deeper than the interpreter's stack) is a 400, as is any malformed JSON."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body.decode("utf-8"))
        except (ValueError, RecursionError) as error:
            raise ValueError(f"the body is not valid JSON ({type(error).__name__})") from None


def storable(value: str) -> str:
    """Text a database can keep: UTF-8 without lone surrogates, and no NUL (PostgreSQL refuses it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def whole_number(value: object) -> object:
    """JSON Schema's integer: 5 and 5.0 alike (JSON has one number type); never a boolean or a string,
    which strict validation then refuses."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ItemIn(Schema):
    """A new item. Strict: a number is not a name, a string is not a number, no other fields."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=120, pattern=NO_NUL)]
    description: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""
    price_cents: Annotated[int, Field(ge=1, le=LARGEST_INTEGER), BeforeValidator(whole_number)]
    quantity: Annotated[int, Field(ge=0, le=LARGEST_INTEGER), BeforeValidator(whole_number)] = 0

    @field_validator("name", "description")
    @classmethod
    def text_a_database_keeps(cls, value: str) -> str:
        return storable(value)


class ItemOut(Schema):
    id: int
    name: str
    description: str
    price_cents: int
    quantity: int
    created_at: datetime


class Page(Schema):
    count: int
    results: list[ItemOut]


class Errors(Schema):
    """Every error: the fields (or `body`, `path`, `method`, `authorization`, `permission`) and why."""

    errors: dict[str, list[str]]


def errors(field: str, *messages: str) -> dict[str, dict[str, list[str]]]:
    return {"errors": {field: list(messages)}}


def field_of(location: Sequence[Any]) -> str:
    """The field a pydantic error is about: `name` for ("body", "payload", "name"), `body` for the body."""
    parts = [str(part) for part in location[1:] if part != "payload"]
    return parts[0] if parts else str(location[0])


api = NinjaAPI(
    title="Backend API",
    version="1",
    description="Items for sale. JSON in, JSON out; every error is JSON naming the field at fault.",
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
    parser=StrictJsonParser(),
)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for problem in error.errors:
        message = str(problem.get("msg", "is not valid")).removeprefix("Value error, ")
        if problem.get("type") == "string_pattern_mismatch":
            message = "must not contain NUL characters"
        fields.setdefault(field_of(problem.get("loc", ("body",))), []).append(message)
    return api.create_response(request, {"errors": fields}, status=400)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if error.status_code == 400 and request.content_type != JSON_TYPE:
        sent = request.content_type or "untyped"
        return api.create_response(
            request, errors("content_type", f"Send the body as {JSON_TYPE}, not {sent}."), status=415
        )
    field = ERROR_FIELDS.get(error.status_code, "request")
    message = "The body must be a JSON object in UTF-8." if error.status_code == 400 else str(error)
    return api.create_response(request, errors(field, message), status=error.status_code)


@api.exception_handler(RefusedError)
def refused(request: HttpRequest, error: RefusedError) -> HttpResponse:
    return error.response


items = Router(tags=["items"])


@items.get("/", response={200: Page, 400: Errors, **URI_TOO_LONG}, summary="List items by name")
def list_items(
    request: HttpRequest,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=LARGEST_INTEGER)] = 0,
) -> dict[str, Any]:
    """Items in order of name: `limit` (1 to 100) from `offset`, and how many there are."""
    return {"count": Item.objects.count(), "results": list(Item.objects.all()[offset : offset + limit])}


@items.post(
    "/",
    response={201: ItemOut, 400: Errors, 401: Errors, 403: Errors, 409: Errors, **URI_TOO_LONG},
    auth=WriteAccess(ADD_ITEM),
    summary="Create an item",
)
def create_item(request: HttpRequest, payload: ItemIn) -> Status[Any]:
    """A new item from its name, description, price in cents and quantity; a name is unique (a second one is
    409). Needs an API
    token (`Authorization: Bearer ...`) or a signed-in user with the permission and a CSRF token."""
    try:
        with transaction.atomic():
            return Status(201, Item.objects.create(**payload.dict()))
    except IntegrityError:
        return Status(409, errors("name", "An item with this name already exists."))


@items.get("/{item_id}/", response={200: ItemOut, 400: Errors, 404: Errors, **URI_TOO_LONG}, summary="One item")
def get_item(request: HttpRequest, item_id: Annotated[int, PathParameter(ge=1, le=LARGEST_ID)]) -> Item:
    """The item with this id."""
    found = Item.objects.filter(pk=item_id).first()
    if found is None:
        raise HttpError(404, f"No item has the id {item_id}.")
    return found


api.add_router("/items", items)


def operations() -> list[dict[str, str]]:
    """Each operation of the schema (method, path, summary, description), for the API page."""
    schema = api.get_openapi_schema(path_prefix="/api")
    return [
        {
            "method": method.upper(),
            "path": path,
            "summary": str(operation.get("summary", "")),
            "description": str(operation.get("description", "")),
            "auth": "token or session" if operation.get("security") else "public",
        }
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
