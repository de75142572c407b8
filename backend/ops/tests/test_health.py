from __future__ import annotations

import pytest
from django.db.utils import OperationalError
from django.test import Client
from django.test.utils import override_settings

from ops import views


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client: Client, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@override_settings(ALLOWED_HOSTS=["api.example.com"], SECURE_SSL_REDIRECT=True)
def test_healthz_ignores_unknown_host_and_ssl_redirect(client: Client) -> None:
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200


@override_settings(ALLOWED_HOSTS=["api.example.com"])
def test_other_urls_still_validate_the_host(client: Client) -> None:
    assert client.get("/readyz", HTTP_HOST="evil.example.org").status_code == 400


@pytest.mark.django_db
def test_readyz_reports_database_and_cache_up(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}
)
def test_readyz_names_an_unreachable_cache(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("error:")


@pytest.mark.django_db
def test_readyz_names_a_failing_database(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setitem(views.READINESS_PROBES, "database", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_readyz_flags_a_cache_that_loses_writes(client: Client) -> None:
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
