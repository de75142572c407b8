"""URL configuration. The debug toolbar is mounted only when its app is installed."""

from catalog import views as catalog
from catalog.api import api
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from ops import views as ops

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("readyz", ops.readyz, name="readyz"),
    path("api/", catalog.api_docs, name="api-docs"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

if apps.is_installed("debug_toolbar"):
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
