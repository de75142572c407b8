"""The landing page: the operational checks and the catalog, together."""

from __future__ import annotations

import pytest
from catalog.models import Item
from django.test import Client
from ops import views

pytestmark = pytest.mark.django_db


def test_home_page_shows_the_readiness_checks(client: Client) -> None:
    Item.objects.create(name="one", price_cents=1)
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Service status" in content
    assert content.count(">up<") == 2
    assert "1 item in the catalog" in content
    assert "/static/app.css" in content


def test_home_page_shows_a_failed_check(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise ConnectionError

    monkeypatch.setitem(views.READINESS_PROBES, "database", refuse)
    content = client.get("/").content.decode()
    assert ">down<" in content
    assert "error: ConnectionError" in content
    assert "0 items" in content
