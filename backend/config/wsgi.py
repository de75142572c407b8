"""WSGI entry point used by gunicorn in the production image.

DJANGO_SETTINGS_MODULE comes from the environment: the image sets it from its
build argument, which `invoke build-image` passes from [tool.pipeline.settings].
"""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
