"""Values every page shows: the unread notification count of staff members."""

from __future__ import annotations

from django.http import HttpRequest

from sla.notifications import unread_count
from tickets import access
from tickets.models import User


def pacte(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if isinstance(user, User) and access.is_staff_member(user):
        return {"unread_notifications": unread_count(user)}
    return {}
