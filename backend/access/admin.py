from django.contrib import admin
from django.http import HttpRequest

from access.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are listed and revoked (deleted) here; they are made with `manage.py create_api_token`."""

    list_display = ("name", "created_at", "last_used_at")
    search_fields = ("name",)
    readonly_fields = ("name", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
