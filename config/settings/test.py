"""Settings for the test suite. DATABASE_URL and REDIS_URL, when set, point at real servers."""

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "pacte-test-key"
PACTE_ENCRYPTION_KEYS = ["cGFjdGUtdGVzdC1zdWl0ZS1vbmx5LWtleS0wMDAwMDE="]  # public, tests only
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if env("PACTE_TEST_EMAIL_DIR", default=""):
    # A worker process started by a test writes its mail where the test can read it.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("PACTE_TEST_EMAIL_DIR")
if env.float("PACTE_TEST_SLOW_ESCALATION", default=0):
    CELERY_IMPORTS = ["tests.fault_injection"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if not env.bool("PACTE_TEST_REDIS_CHANNEL_LAYER", default=False):
    # One process: the in-memory layer (bench/chat.py measures through Redis instead).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
WHITENOISE_USE_FINDERS = True
CELERY_TASK_ALWAYS_EAGER = env.bool("PACTE_TEST_CELERY_EAGER", default=True)
LOGGING = {"version": 1, "disable_existing_loggers": False}
PACTE_QUEUE_REFRESH_SECONDS = 2  # the browser test watches a badge change without a reload

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so that a real Celery worker process can open the test database.
    # One file per test process, so that two runs on one machine do not share it.
    VAR_DIR.mkdir(exist_ok=True)  # noqa: F405  # a fresh clone has no var/ yet
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-pacte-{os.getpid()}.sqlite3")  # noqa: F405
    }
