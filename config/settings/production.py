"""Settings for production: every secret comes from the environment, HTTPS everywhere."""

from .base import *  # noqa: F403
from .base import STORAGES, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
PACTE_ENCRYPTION_KEYS = env.list("PACTE_ENCRYPTION_KEYS")  # newest first; see README
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Links in mail: the public address, for every process that writes mail (web, worker, and the
# MTA's `ingest_email` pipe alike); no default, as a guessed one would mail dead links.
PACTE_BASE_URL = env("PACTE_BASE_URL").rstrip("/")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
