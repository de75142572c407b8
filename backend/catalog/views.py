"""The catalog's pages and JSON API: the API's documentation and the items."""

from __future__ import annotations

import json

from access.decorators import write_access
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from .forms import ItemForm
from .models import Item

MAX_PAGE_SIZE = 100


API_ENDPOINTS = [
    {"method": "GET", "path": "/api/items/?limit=N", "description": "List items by name (at most 100)."},
    {
        "method": "POST",
        "path": "/api/items/",
        "description": "Create an item: name, price_cents, quantity. Needs a known caller (see above).",
    },
    {"method": "GET", "path": "/api/items/<id>/", "description": "One item."},
    {"method": "GET", "path": "/readyz", "description": "Readiness: database and cache; 503 names what failed."},
    {"method": "GET", "path": "/healthz", "description": "Liveness: no database or cache access."},
]


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/api.html", {"endpoints": API_ENDPOINTS})


@require_http_methods(["GET", "POST"])
@write_access("catalog.add_item")
def item_collection(request: HttpRequest) -> JsonResponse:
    """GET (anyone): list items (?limit=N, at most 100). POST (a known caller): create one from a JSON object."""
    if request.method == "POST":
        return create_item(request)
    try:
        limit = min(int(request.GET.get("limit", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)
    except ValueError:
        return JsonResponse({"errors": {"limit": ["Must be an integer."]}}, status=400)
    if limit < 1:
        return JsonResponse({"errors": {"limit": ["Must be at least 1."]}}, status=400)
    items = [item.as_dict() for item in Item.objects.all()[:limit]]
    return JsonResponse({"count": Item.objects.count(), "results": items})


def create_item(request: HttpRequest) -> JsonResponse:
    try:
        payload = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"errors": {"body": ["Body must be valid JSON."]}}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"errors": {"body": ["Body must be a JSON object."]}}, status=400)
    form = ItemForm(data=payload)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    item = form.save()
    return JsonResponse(item.as_dict(), status=201)


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> JsonResponse:
    item = get_object_or_404(Item, pk=item_id)
    return JsonResponse(item.as_dict())
