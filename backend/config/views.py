"""The project's own page: the landing page puts the operational checks and the catalog together.

Here, not in an app, because it is where `ops` and `catalog` meet: the project
depends on both, and neither app imports the other.
"""

from __future__ import annotations

from catalog.models import Item
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from ops.views import readiness_checks


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the readiness checks, rendered, and the catalog's size."""
    checks = readiness_checks()
    item_count = Item.objects.count() if checks.get("database") == "ok" else 0
    return render(request, "catalog/home.html", {"checks": checks, "item_count": item_count})
