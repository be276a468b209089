"""API tokens: created from a signed-in session (staff: one that passed its second factor),
shown once, kept as a SHA-256, expiring, revocable; and how the API reads them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.accounts.audit import audit_record
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import ApiToken, AuditEvent, User

TOKENS_PER_USER = 20
LAST_USED_STEP = timedelta(minutes=5)  # last use is written at most this often


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    days: int,
    now: datetime,
    ip: str | None = None,
    make_room: bool = False,
) -> tuple[ApiToken, str]:
    """A new token for the user; the key is returned here and never again. With `make_room`
    (the password endpoint, which scripts call on each run), the oldest token of that name is
    revoked when the user has as many as they may."""
    name = " ".join(name.split())[:100]
    if not name:
        raise TicketError(_("Give the token a name, to know later what uses it."), field="name")
    if not 1 <= days <= settings.PACTE_API_TOKEN_MAX_DAYS:
        raise TicketError(
            _("A token lasts from 1 to %(n)d days.") % {"n": settings.PACTE_API_TOKEN_MAX_DAYS},
            field="days",
        )
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if make_room and live.count() >= TOKENS_PER_USER:
        oldest = live.filter(name=name).order_by("created_at", "pk").first()
        if oldest is not None:
            ApiToken.objects.filter(pk=oldest.pk).update(revoked_at=now)
    if live.count() >= TOKENS_PER_USER:
        raise TicketError(
            _("You have %(n)d tokens in use already; revoke one first.") % {"n": TOKENS_PER_USER}
        )
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        digest=_digest(key),
        prefix=key[:8],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit_record(
        AuditEvent.Kind.TOKEN_CREATED,
        actor=user,
        target=str(token),
        ip=ip,
        at=now,
        detail={"expires": token.expires_at.isoformat()},
    )
    return token, key


def api_token_revoke(*, token: ApiToken, actor: User, now: datetime, ip: str | None = None) -> None:
    """Stop a token at once; its owner revokes their own."""
    if token.user_id != actor.pk:
        raise PermissionDeniedError(_("This token is not yours."))
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        audit_record(AuditEvent.Kind.TOKEN_REVOKED, actor=actor, target=str(token), ip=ip, at=now)


def api_token_user(key: str, *, now: datetime | None = None) -> User | None:
    """The active user a usable key belongs to, or None; notes when the key was used."""
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(key), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    user = token.user
    if not access.must_pass_second_factor(user) and not access.customer_may_sign_in(user):
        return None  # a customer whose organization's contract ended
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
