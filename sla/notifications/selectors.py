"""Reads of a staff member's notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from sla.models import Notification
from tickets.models import User


def notifications_of(user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first, with their tickets, clocks and messages."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("ticket", "clock", "message__author", "message__author_contact")
        .order_by("-created_at", "-pk")
    )
