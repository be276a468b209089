"""Output serializers of the API; input serializers live beside each view."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from sla.models import Clock
from tickets.models import Attachment, Message, Ticket


class ClockOutput(serializers.ModelSerializer):
    class Meta:
        model = Clock
        fields = [
            "metric",
            "round",
            "origin_at",
            "kind",
            "state",
            "target",
            "started_at",
            "due_at",
            "warn_at",
            "stopped_at",
            "outcome",
            "breached_at",
        ]


class AttachmentOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["key", "filename", "content_type", "size", "url"]

    def get_url(self, obj: Attachment) -> str:
        return reverse("api:attachment-download", kwargs={"key": obj.key})


class MessageOutput(serializers.ModelSerializer):
    """A message as its reader may see it. `from_outside` (a mail from someone who is not a
    contact of the organization) and `is_automatic` (an auto-reply, a bounce) tell an
    integration what is not the customer's own reply; customers never get `from_outside`
    messages (tickets.access.visible_messages). `by_mail_from_staff_address`: an internal
    note kept from a mail whose From named staff, which proves nothing — not an agent's note."""

    author = serializers.CharField(source="author_name")
    by_mail_from_staff_address = serializers.BooleanField(read_only=True)
    attachments = AttachmentOutput(many=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "author",
            "from_agent",
            "is_internal",
            "from_outside",
            "is_automatic",
            "by_mail_from_staff_address",
            "channel",
            "body",
            "received_at",
            "attachments",
        ]
        read_only_fields = fields


class TicketOutput(serializers.ModelSerializer):
    reference = serializers.CharField()
    organization = serializers.CharField(source="organization.name")
    requester = serializers.CharField(source="requester.name")
    desk = serializers.CharField(source="desk.slug")
    assignee = serializers.CharField(source="assignee.username", allow_null=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "reference",
            "subject",
            "severity",
            "status",
            "channel",
            "organization",
            "requester",
            "desk",
            "assignee",
            "received_at",
            "updated_at",
            "sla_due_at",
        ]


class TicketDetailOutput(TicketOutput):
    clocks = ClockOutput(many=True)

    class Meta(TicketOutput.Meta):
        fields = [*TicketOutput.Meta.fields, "clocks"]
