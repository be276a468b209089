"""Every write to tickets, one module per capability. Views, the API, the mail and chat
channels, commands and tasks all call these functions; the public ones are re-exported here
so that callers write ``services.ticket_create(...)``. The map, and why the cut, is in
docs/ARCHITECTURE.md. The history writer is `tickets.history` (sla writes through it too)."""

from tickets.services.account import available_time_zones, user_set_language, user_set_preferences
from tickets.services.attachments import (
    ALLOWED_EXTENSIONS,
    ORPHAN_GRACE,
    MailFile,
    attachments_sweep,
)
from tickets.services.intake import (
    default_desk_for,
    desk_to_open_on,
    phone_call_log,
    ticket_create,
    ticket_open_by,
)
from tickets.services.lifecycle import (
    ticket_acknowledge,
    ticket_assign,
    ticket_change_status,
    ticket_reclassify,
    tickets_bulk_update,
)
from tickets.services.merge import ticket_merge
from tickets.services.preview import DeadlinePreview, ticket_reclassify_preview
from tickets.services.reopening import ticket_reopen, tickets_close_resolved
from tickets.services.replies import MailContent, ticket_receive_mail, ticket_reply
from tickets.services.satisfaction import satisfaction_rate
from tickets.services.workspace import (
    QUEUE_VIEW_KEYS,
    QUEUE_VIEWS_PER_USER,
    article_delete,
    article_save,
    canned_reply_delete,
    canned_reply_save,
    queue_view_delete,
    queue_view_save,
)

__all__ = [
    "ALLOWED_EXTENSIONS",
    "ORPHAN_GRACE",
    "QUEUE_VIEWS_PER_USER",
    "QUEUE_VIEW_KEYS",
    "DeadlinePreview",
    "MailContent",
    "MailFile",
    "article_delete",
    "article_save",
    "attachments_sweep",
    "available_time_zones",
    "canned_reply_delete",
    "canned_reply_save",
    "default_desk_for",
    "desk_to_open_on",
    "phone_call_log",
    "queue_view_delete",
    "queue_view_save",
    "ticket_acknowledge",
    "ticket_assign",
    "ticket_change_status",
    "ticket_create",
    "ticket_merge",
    "ticket_open_by",
    "ticket_receive_mail",
    "ticket_reclassify",
    "ticket_reclassify_preview",
    "satisfaction_rate",
    "ticket_reopen",
    "ticket_reply",
    "tickets_close_resolved",
    "tickets_bulk_update",
    "user_set_language",
    "user_set_preferences",
]
