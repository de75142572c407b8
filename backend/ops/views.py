"""Readiness: does every dependency the service needs answer? Liveness is `ops.middleware`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("value written to the cache could not be read back")
    cache.delete(key)


READINESS_PROBES = {"database": check_database, "cache": check_cache}


def readiness_checks() -> dict[str, str]:
    """{dependency: "ok" | "error: <kind>"} for every dependency the service needs."""
    checks: dict[str, str] = {}
    for name in settings.READINESS_CHECKS:
        try:
            READINESS_PROBES[name]()
        except Exception as error:  # noqa: BLE001 (any failure means "not ready")
            checks[name] = f"error: {type(error).__name__}"
        else:
            checks[name] = "ok"
    return checks


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, else 503 naming the ones that did not."""
    checks = readiness_checks()
    failed = sorted(name for name, result in checks.items() if result != "ok")
    body: dict[str, object] = {"status": "ready" if not failed else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
