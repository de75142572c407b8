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


API_PREFIX = "/api/"
JSON_TYPE = "application/json"


def api_error(status: int, field: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": {field: [message]}}, status=status)


class ApiErrorsMiddleware:
    """Every answer under /api/ is JSON: a body larger than API_MAX_BODY_BYTES is 413 before anything reads
    it, and a 404 or 405 of Django's own becomes JSON naming the path or the method (the Allow header
    kept). A body that is not JSON is the API's 415, where an operation reads one (after 404 and 405)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        refused = self.refusal(request)
        response = refused or self.get_response(request)
        if response.status_code in {404, 405} and not response.get("Content-Type", "").startswith(JSON_TYPE):
            allowed = response.get("Allow")
            if response.status_code == 404:
                response = api_error(404, "path", f"Nothing is at {request.path}.")
            else:
                response = api_error(405, "method", f"{request.method} is not allowed here; use {allowed}.")
                response["Allow"] = allowed or ""
        return response

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        from django.conf import settings  # noqa: PLC0415 -- read per request: tests change it

        limit = int(getattr(settings, "API_MAX_BODY_BYTES", 65_536))
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            return api_error(400, "body", "The Content-Length header must be a number.")
        if int(declared) > limit:
            return api_error(413, "body", f"The body is larger than {limit} bytes.")
        return None
