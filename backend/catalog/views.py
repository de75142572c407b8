"""The catalog's pages: the API's documentation, drawn from the API's OpenAPI schema."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .api import operations


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/api.html", {"operations": operations()})
