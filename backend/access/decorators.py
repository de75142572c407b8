"""`write_access`: reads pass, writes need a caller we know.

A write (any method but GET, HEAD, OPTIONS) is let through for
- an API client sending `Authorization: Bearer <token>` with a token of
  `manage.py create_api_token` (no CSRF check: a header is not sent by a browser on its own), or
- a signed-in user (the browser's session) who holds the view's permission and whose
  request passes Django's CSRF check.
No credentials, or a token that is malformed or unknown: 401 with `WWW-Authenticate`.
A signed-in user without the permission, or failing the CSRF check: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from access.models import ApiToken

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="api"'
HOW_TO_AUTHENTICATE = "Send Authorization: Bearer <token> (a token from `manage.py create_api_token --name NAME`)."

View = Callable[..., HttpResponse]


def unauthorized(message: str, error: str | None = None) -> JsonResponse:
    response = JsonResponse({"errors": {"authorization": [message]}}, status=401)
    response["WWW-Authenticate"] = CHALLENGE + (f', error="{error}"' if error else "")
    return response


def forbidden(message: str) -> JsonResponse:
    return JsonResponse({"errors": {"permission": [message]}}, status=403)


def csrf_refused(request: HttpRequest) -> bool:
    """Django's own CSRF check, for the session callers of a view that is otherwise exempt from it."""

    def protected(_: HttpRequest) -> HttpResponse:  # a view the middleware does not exempt
        return HttpResponse()

    return CsrfViewMiddleware(protected).process_view(request, protected, (), {}) is not None


def token_refusal(header: str) -> JsonResponse | None:
    """An API client's `Authorization` header: None when it carries a token we issued."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized(f"Malformed Authorization header. {HOW_TO_AUTHENTICATE}", "invalid_request")
    if ApiToken.authenticate(token.strip()) is None:
        return unauthorized("The token is unknown or was revoked.", "invalid_token")
    return None


def session_refusal(request: HttpRequest, permission: str) -> JsonResponse | None:
    """A browser's session: None for a signed-in user holding `permission` whose request passes CSRF."""
    if not request.user.is_authenticated:
        return unauthorized(f"Writes need credentials. {HOW_TO_AUTHENTICATE}")
    if csrf_refused(request):
        return forbidden("CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header.")
    if not request.user.has_perm(permission):
        return forbidden(f"Your account lacks the permission {permission}.")
    return None


def refusal(request: HttpRequest, permission: str) -> JsonResponse | None:
    """Why this write is refused, as a response; None when the caller may write. A token, when sent, decides."""
    header = request.headers.get("Authorization", "")
    return token_refusal(header) if header else session_refusal(request, permission)


def write_access(permission: str) -> Callable[[View], View]:
    """Let reads through; let a write through only for a known caller (see the module's docstring)."""

    def decorator(view: View) -> View:
        # Exempt from the CSRF middleware because the check above applies it to session callers only.
        @csrf_exempt
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                refused = refusal(request, permission)
                if refused is not None:
                    return refused
            return view(request, *args, **kwargs)

        return guarded

    return decorator
