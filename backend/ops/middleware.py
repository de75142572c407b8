"""Liveness answered before host validation and SSL redirect.

A container's HEALTHCHECK calls http://127.0.0.1:8000/healthz: that host is
rarely in ALLOWED_HOSTS and the call is plain HTTP, so answering it first keeps
the probe independent of both, without weakening them for any other URL.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

LIVENESS_PATH = "/healthz"


class LivenessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == LIVENESS_PATH and request.method in {"GET", "HEAD"}:
            return JsonResponse({"status": "ok"})
        return self.get_response(request)
