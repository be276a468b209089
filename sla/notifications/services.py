"""Writes of notifications besides their creation (by sla.clocks.escalation) and their mail
(sla.notifications.delivery): read marks, and warnings made pointless by a stopped clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sla.models import Clock, Notification
from tickets.models import User


def notification_mark_read(*, user: User, ids: Iterable[int] | None, now: datetime) -> int:
    """Mark some (or all, with None) of the user's notifications read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now)


def notifications_cancel_warnings(*, clock: Clock) -> int:
    """Cancel the mail of the clock's warnings not mailed yet (the clock stopped: they no
    longer warn of anything); they stay listed in the app."""
    return Notification.objects.filter(
        clock=clock, kind=Notification.Kind.WARNING, email=Notification.Email.PENDING
    ).update(email=Notification.Email.CANCELLED)
