"""URL configuration. The debug toolbar is mounted only when its app is installed."""

from catalog import views
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("readyz", views.readyz, name="readyz"),
    path("api/", views.api_docs, name="api-docs"),
    path("api/items/", views.item_collection, name="item-collection"),
    path("api/items/<int:item_id>/", views.item_detail, name="item-detail"),
    path("admin/", admin.site.urls),
]

if apps.is_installed("debug_toolbar"):
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
