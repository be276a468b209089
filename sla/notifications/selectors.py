"""Reads of a staff member's notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from sla.models import Notification
from tickets import access
from tickets.models import User


def notifications_of(user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first, with their tickets, clocks and messages; only
    of the tickets they may still see (someone moved off a desk no longer reads its tickets'
    subjects and messages here)."""
    return (
        # The desks as a subquery: the navigation counts these in its one query.
        Notification.objects.filter(recipient=user, ticket__desk__in=access.desks_worked_by(user))
        .select_related("ticket", "clock", "message__author", "message__author_contact")
        .order_by("-created_at", "-pk")
    )
