"""Signed-in sessions: each user sees theirs (device, address, last seen) and signs any of
them out; a staff session idle for PACTE_STAFF_IDLE_MINUTES ends.

The rows are django-allauth's `UserSession` (made at each sign-in). Pacte notes activity itself,
in the cache (Redis), at most once a minute per session and never for the pages' own automatic
refreshes (the queue and the waiting chats poll every few seconds: an open tab is not a person
at work). Nothing is written to the database or the session on a read: a page never waits for
SQLite's write lock, nor changes when its session expires, because someone clicked."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from ua_parser import parse as parse_user_agent

from tickets import access
from tickets.accounts.audit import audit_record
from tickets.models import AuditEvent, User

SEEN_STEP = 60  # activity is written at most this often
SEEN_KEEP = 60 * 60 * 24 * 30  # how long the cache keeps a session's last activity
logger = logging.getLogger(__name__)
POLL_HEADER = "X-Pacte-Poll"  # sent by the pages' automatic refreshes


def _seen_key(session_key: str) -> str:
    return f"pacte:seen:{session_key}"


def last_activity(session_key: str) -> float | None:
    """When the session was last used (seconds since the epoch), None if unknown."""
    try:
        return cache.get(_seen_key(session_key))
    except Exception:  # the cache is down: the session goes on, untracked
        logger.warning("cache unavailable: session activity not read", exc_info=True)
        return None


def _note_activity(session_key: str, now: float) -> None:
    try:
        cache.set(_seen_key(session_key), now, timeout=SEEN_KEEP)
    except Exception:
        logger.warning("cache unavailable: session activity not noted", exc_info=True)


@dataclass(frozen=True)
class SessionRow:
    session: UserSession
    device: str
    current: bool
    last_seen: datetime


def describe_device(user_agent: str) -> str:
    """ "Chrome on Linux", "Mobile Safari on iOS (iPhone)"; the raw string when unknown."""
    if not user_agent:
        return _("Unknown device")
    parsed = parse_user_agent(user_agent)
    known = [
        part.family if part and part.family != "Other" else ""
        for part in (parsed.user_agent, parsed.os, parsed.device)
    ]
    browser, system, device = known
    if not browser and not system:
        return user_agent[:80]
    text = browser or system
    if browser and system:
        text = _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return f"{text} ({device})" if device else text


def sessions_of(user: User, request: HttpRequest) -> list[SessionRow]:
    """The user's sessions that still exist, the most recently seen first."""
    current = request.session.session_key
    rows = []
    for session in UserSession.objects.purge_and_list(user):
        seen = last_activity(session.session_key)
        last_seen = (
            datetime.fromtimestamp(seen, tz=UTC) if seen is not None else session.last_seen_at
        )
        rows.append(
            SessionRow(
                session,
                describe_device(session.user_agent),
                session.session_key == current,
                max(last_seen, session.created_at),
            )  # fmt: skip
        )
    return sorted(rows, key=lambda row: row.last_seen, reverse=True)


def user_session_key(*, user: User, pk: int) -> str | None:
    """The session key of one of the user's sessions, None if they have none by that id."""
    keys = UserSession.objects.filter(user=user, pk=pk).values_list("session_key", flat=True)
    return keys.first()


def session_end(*, user: User, pk: int, ip: str | None = None) -> bool:
    """Sign one of the user's sessions out (its session is deleted); False if none by that id."""
    found = UserSession.objects.filter(user=user, pk=pk).first()
    if found is None:
        return False
    found.end()
    audit_record(
        AuditEvent.Kind.SESSION_ENDED,
        actor=user,
        target=describe_device(found.user_agent),
        ip=ip,
        detail={"session address": found.ip},
    )
    return True


def _is_staff(user: object) -> bool:
    return isinstance(user, User) and access.must_pass_second_factor(user)


class SessionActivityMiddleware:
    """Ends an idle staff session, and notes a session's activity for its owner's list."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        key = request.session.session_key
        if user.is_authenticated and key:
            now = time.time()
            seen = last_activity(key)
            idle = settings.PACTE_STAFF_IDLE_MINUTES * 60
            if seen is not None and now - seen > idle and _is_staff(user):
                return self._ended(request)
            polled = request.headers.get(POLL_HEADER) is not None
            if not polled and (seen is None or now - seen > SEEN_STEP):
                _note_activity(key, now)
        return self.get_response(request)

    def _ended(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.info(
            request,
            _("Your session ended after %(n)d minutes without activity: sign in again.")
            % {"n": settings.PACTE_STAFF_IDLE_MINUTES},
        )
        target = reverse("account_login")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
