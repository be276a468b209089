from __future__ import annotations

import django_filters

from tickets.models import Channel, Severity, Status, Ticket


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    desk = django_filters.CharFilter(field_name="desk__slug")
    organization = django_filters.CharFilter(field_name="organization__slug")
    assignee = django_filters.CharFilter(field_name="assignee__username")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = ["status", "severity", "channel", "desk", "organization", "assignee"]
