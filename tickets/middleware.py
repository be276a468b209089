"""Request-wide middleware: the user's language and time zone; on SQLite, reads without the
write lock."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Protocol, cast

from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

# The methods that change nothing (RFC 9110 §9.2.1): Django's CSRF check spares them too.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Pages of django-allauth that write on GET (the recovery codes record that they were shown):
# few requests, outside Pacte's hands, so they keep the usual write transaction.
WRITING_GET_PREFIXES = ("/accounts/",)


class UserPreferencesMiddleware:
    """Activates the signed-in user's language and time zone for the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if user.time_zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class _SqliteConnection(Protocol):
    """What this middleware uses of the SQLite wrapper, whose `transaction_mode` (Django 5.1)
    django-stubs does not know."""

    transaction_mode: str | None


class SqliteReadRequestsMiddleware:
    """On SQLite, the view of a safe request (GET, HEAD, OPTIONS, TRACE) reads without taking
    the write lock.

    ``ATOMIC_REQUESTS`` puts every view in one transaction, and on SQLite transactions begin
    ``IMMEDIATE``: the one write lock is taken up front, so that a write never fails half-way
    with "database is locked" when it would upgrade a read lock. For a safe request this
    middleware makes that transaction ``DEFERRED`` and the connection query-only while the
    view runs: in WAL mode such a reader takes no lock, sees one snapshot of the database, and
    neither waits for a writer nor makes one wait. A safe request that tries to write fails at
    once, in the tests as in production ("attempt to write a readonly database"), rather than
    failing now and then under load. Unsafe requests keep their ``IMMEDIATE`` transaction;
    the session, saved after the view, writes in its own. Not used on other databases, whose
    transactions take no lock to read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if connection.vendor != "sqlite":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in SAFE_METHODS
            or request.path.startswith(WRITING_GET_PREFIXES)
            or "Authorization" in request.headers  # an API token notes when it was last used
        ):
            return self.get_response(request)
        # The mode is read when a transaction begins; connecting would reset it.
        connection.ensure_connection()
        sqlite = cast(_SqliteConnection, connection)  # on SQLite only: see __init__
        mode = sqlite.transaction_mode
        sqlite.transaction_mode = "DEFERRED"
        _query_only(on=True)
        request.sqlite_transaction_mode = mode  # type: ignore[attr-defined]  # for process_view
        try:
            return self.get_response(request)
        finally:
            sqlite.transaction_mode = mode
            _query_only(on=False)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object
    ) -> None:
        """A view marked `writes_on_get` (an export that records itself in the audit log)
        keeps the usual write transaction, which begins after this."""
        if getattr(view, "writes_on_get", False) and hasattr(request, "sqlite_transaction_mode"):
            sqlite = cast(_SqliteConnection, connection)
            sqlite.transaction_mode = request.sqlite_transaction_mode
            _query_only(on=False)


def writes_on_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose GET writes (on SQLite, it then takes the write lock like a POST)."""
    view.writes_on_get = True  # type: ignore[attr-defined]  # read by process_view
    return view


def _query_only(*, on: bool) -> None:
    if connection.connection is not None:  # closed by an error while the view ran
        connection.connection.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")
