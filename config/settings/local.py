"""Settings for one machine: `make run` and development. Embedded defaults for every service."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="pacte-local-development-key-not-for-production")
# A fixed, public development key (base64 of "pacte-local-development-key-0001").
PACTE_ENCRYPTION_KEYS = env.list(
    "PACTE_ENCRYPTION_KEYS", default=["cGFjdGUtbG9jYWwtZGV2ZWxvcG1lbnQta2V5LTAwMDE="]
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
