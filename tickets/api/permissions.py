"""Who may call an API endpoint at all, before any ticket is looked up; which tickets each
caller sees stays with tickets.access (a ticket outside them answers 404)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tickets import access
from tickets.models import User


class WorksTickets(BasePermission):
    """Support staff only: the endpoints that work a ticket (acknowledge, assign, reclassify).
    A customer is refused the same way whatever the reference, so nothing is told of a ticket
    they do not see; and the API's documentation lists these endpoints to staff only."""

    message = _("Only support staff may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and access.is_staff_member(user)
