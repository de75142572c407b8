"""WSGI entry point used by gunicorn in the production image."""

import os

from django.core.wsgi import get_wsgi_application

# Must equal [tool.pipeline.settings].production (checked by `nox -s drift`).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
