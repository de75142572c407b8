"""ASGI entry point, for servers that speak ASGI.

DJANGO_SETTINGS_MODULE comes from the environment, as for `config.wsgi`.
"""

from django.core.asgi import get_asgi_application

application = get_asgi_application()
