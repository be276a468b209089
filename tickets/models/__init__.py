"""Who is served and who serves (people: users, organizations, contacts, desks), tickets and
their history (core), the mail that carries them (mail), chat conversations (chat), and what
agents write for reuse (workspace: canned replies, the FAQ, saved views)."""

from tickets.models.accounts import ApiToken, AuditEvent
from tickets.models.backups import BackupRun
from tickets.models.chat import ChatMessageKey, ChatSession
from tickets.models.core import (
    ATTACHMENTS_DIR,
    OPEN_STATUSES,
    REFERENCE_RE,
    Attachment,
    Channel,
    Message,
    Severity,
    Status,
    SystemNote,
    Ticket,
    TicketEvent,
    attachment_path,
    more_urgent,
)
from tickets.models.followers import Follower
from tickets.models.mail import AutoAnswer, InboundMail, Mailbox, MailThreadId, OutboundMail
from tickets.models.people import (
    Contact,
    Desk,
    DeskAddress,
    Language,
    Organization,
    Region,
    User,
)
from tickets.models.satisfaction import SatisfactionRating
from tickets.models.tags import Tag
from tickets.models.triage import (
    CONFIRMED_FIELD,
    SOURCE_FIELD,
    TRIAGE_FIELDS,
    SeverityModel,
    SeveritySource,
    TicketTriage,
)
from tickets.models.workspace import Article, CannedReply, ProductArea, QueueView

__all__ = [
    "ApiToken",
    "AuditEvent",
    "BackupRun",
    "ATTACHMENTS_DIR",
    "OPEN_STATUSES",
    "REFERENCE_RE",
    "Article",
    "Attachment",
    "AutoAnswer",
    "CannedReply",
    "Channel",
    "ChatMessageKey",
    "ChatSession",
    "Contact",
    "Desk",
    "DeskAddress",
    "Follower",
    "InboundMail",
    "Language",
    "Mailbox",
    "MailThreadId",
    "Message",
    "Organization",
    "OutboundMail",
    "ProductArea",
    "SatisfactionRating",
    "Tag",
    "QueueView",
    "SeverityModel",
    "CONFIRMED_FIELD",
    "SOURCE_FIELD",
    "TRIAGE_FIELDS",
    "SeveritySource",
    "TicketTriage",
    "Region",
    "Severity",
    "Status",
    "SystemNote",
    "Ticket",
    "TicketEvent",
    "User",
    "attachment_path",
    "more_urgent",
]
