"""The start-up checks' pure decisions (the checks themselves run against the real engine: test_containers)."""

from __future__ import annotations

from pipeline import containers


def test_dependency_names_are_the_normalised_distribution_names() -> None:
    requirements = [
        "Django>=5.2,<6",
        "psycopg[binary]>=3.2",
        "django_debug_toolbar ; python_version >= '3.11'",
        "Zope.Interface==7.0",
        "coverage[toml]>=7.6",
    ]
    assert containers.dependency_names(requirements) == [
        "django",
        "psycopg",
        "django-debug-toolbar",
        "zope-interface",
        "coverage",
    ]
