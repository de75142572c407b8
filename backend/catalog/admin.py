from django.contrib import admin

from .models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    list_display = ("name", "price_cents", "quantity", "created_at")
    search_fields = ("name", "description")
    ordering = ("name",)
