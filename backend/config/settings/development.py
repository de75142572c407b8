"""Local development: DEBUG on, `.env` loaded, debug toolbar when installed.

The only settings module that reads `.env` or may import dev-only packages;
both are optional, so this module also works without the dev group.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

try:
    from dotenv import load_dotenv
except ImportError:  # the dev group is not installed: the environment alone counts
    pass
else:
    # Loaded before base reads the environment; real variables win over .env.
    load_dotenv(Path(__file__).resolve().parents[3] / ".env")

from ops import env

from .base import *  # noqa: F403
from .base import ENVIRONMENT, INSTALLED_APPS, MIDDLEWARE

DEBUG = True
SECRET_KEY = ENVIRONMENT.text("DJANGO_SECRET_KEY") or "development-only-key-never-used-in-production-0123456789"
ALLOWED_HOSTS = ENVIRONMENT.listing("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
INTERNAL_IPS = ["127.0.0.1"]

DEBUG_TOOLBAR_ENABLED = ENVIRONMENT.boolean("DJANGO_DEBUG_TOOLBAR", True) and (
    importlib.util.find_spec("debug_toolbar") is not None
)
if DEBUG_TOOLBAR_ENABLED:
    INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
    MIDDLEWARE = [*MIDDLEWARE, "debug_toolbar.middleware.DebugToolbarMiddleware"]

env.fail_on_problems(ENVIRONMENT, __name__)
