from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from tickets.models import Channel, Severity, Status, Ticket


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, turned to UTC here: PostgreSQL takes UTC offsets up to ±15:59 only,
    ISO 8601 up to ±23:59, and an instant at the edge of year 1 or 9999 may have no UTC time."""

    def to_python(self, value: Any) -> datetime | None:
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                _("Enter a date and time within years 1 to 9999."), "invalid"
            ) from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantField


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, help_text=_("One or more statuses (repeat the parameter).")
    )
    severity = django_filters.MultipleChoiceFilter(
        choices=Severity.choices, help_text=_("One or more severities (repeat the parameter).")
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, help_text=_("How the incident was reported.")
    )
    desk = django_filters.CharFilter(field_name="desk__slug", help_text=_("A desk's short name."))
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text=_("An organization's short name.")
    )
    assignee = django_filters.CharFilter(
        field_name="assignee__username", help_text=_("The assigned agent's username.")
    )
    received_after = InstantFilter(
        field_name="received_at",
        lookup_expr="gte",
        help_text=_("Received at or after this instant (ISO 8601, with its offset)."),
    )
    received_before = InstantFilter(
        field_name="received_at",
        lookup_expr="lt",
        help_text=_("Received before this instant (ISO 8601, with its offset)."),
    )

    class Meta:
        model = Ticket
        fields = ["status", "severity", "channel", "desk", "organization", "assignee"]
