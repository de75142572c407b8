"""ASGI entry point, for servers that speak ASGI.

DJANGO_SETTINGS_MODULE comes from the environment, as for wsgi.py beside it.
"""

from django.core.asgi import get_asgi_application

application = get_asgi_application()
