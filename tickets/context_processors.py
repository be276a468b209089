"""Values every page shows staff members: unread notifications, mail waiting for review."""

from __future__ import annotations

from django.http import HttpRequest

from sla.notifications.selectors import unread_count
from tickets import access
from tickets.models import InboundMail, User


def pacte(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if isinstance(user, User) and access.is_staff_member(user):
        return {
            "unread_notifications": unread_count(user),
            "mail_to_review": access.visible_inbound_mail(user)
            .filter(status__in=[InboundMail.Status.REVIEW, InboundMail.Status.QUARANTINED])
            .count(),
        }
    return {}
