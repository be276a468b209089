"""Output serializers of the API; input serializers live beside each view."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
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


# A message as its reader may see it: customers never get `from_outside` messages
# (tickets.access.visible_messages). What each flag means is said to integrators in its help
# text, which the schema shows in their language.
class MessageOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name")
    by_mail_from_staff_address = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "An internal note kept from a mail whose From named support staff: a From proves "
            "nothing, so it is not an agent's note."
        ),
    )
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
        extra_kwargs = {
            "from_outside": {
                "help_text": _(
                    "A mail from someone who is not a contact of the organization (support "
                    "staff only)."
                )
            },
            "is_automatic": {"help_text": _("An automatic reply or a bounce, not a person.")},
        }


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
