"""Every write of a live chat. A conversation is a ticket on the chat channel from its first
message; each line is a Message of that ticket, so the transcript is the ticket's history.
An organization's chat widget secret is rotated here too (the admin's action calls it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.calendar import is_open
from sla.clocks.selectors import calendar_snapshot_for_ticket
from tickets import access, services
from tickets.channels.email.content import severity_tag
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import (
    Channel,
    ChatMessageKey,
    ChatSession,
    Contact,
    Message,
    Organization,
    SeveritySource,
    Ticket,
    User,
)
from tickets.services import customer_mail

MAX_CHARS = 4000
HISTORY_LIMIT = 500  # lines a page or a reconnection is given at most
KEY_CHARS = 64


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise TicketError(_("The message is empty."), field="text")
    if len(text) > MAX_CHARS:
        raise TicketError(
            _("A message holds at most %(n)d characters.") % {"n": MAX_CHARS}, field="text"
        )
    return text


@transaction.atomic
def chat_start(*, contact: Contact, actor: User | None, text: str, severity: str) -> ChatSession:
    """Open a conversation: a ticket (clocks running) waiting for an agent, or, outside the
    desk's support hours, a ticket whose chat is already over (the message is kept).
    ``severity`` "": the customer left it to the desk (tickets.triage)."""
    text = _text(text)
    subject = text.splitlines()[0][:80]
    ticket = services.ticket_create(
        requester=contact,
        subject=subject,
        description=text,
        # The customer's choice, else a tag in the first line, else the text decides.
        severity=severity or severity_tag(subject),
        severity_source=SeveritySource.CUSTOMER if severity else SeveritySource.TAG,
        channel=Channel.CHAT,
        actor=actor,
    )
    now = timezone.now()
    open_now = is_open(calendar_snapshot_for_ticket(ticket), now)
    return ChatSession.objects.create(
        ticket=ticket,
        state=ChatSession.State.WAITING if open_now else ChatSession.State.ENDED,
        started_at=now,
        ended_at=None if open_now else now,
    )


@dataclass(frozen=True)
class Posted:
    message: Message
    new: bool  # False: the same client key was posted before (a resend after a reconnect)


@transaction.atomic
def chat_post(*, session: ChatSession, author: User, text: str, key: str = "") -> Posted:
    """Add a line to a live conversation; an agent's first line accepts a waiting chat."""
    key = key[:KEY_CHARS]
    if key:
        known = (
            ChatMessageKey.objects.filter(ticket_id=session.ticket_id, key=key)
            .select_related("message")
            .first()
        )
        if known is not None:
            return Posted(known.message, new=False)
    text = _text(text)
    session = ChatSession.objects.select_for_update().select_related("ticket").get(pk=session.pk)
    if session.state == ChatSession.State.ENDED:
        raise TicketError(_("This chat has ended; answer on the ticket or by email."), field="text")
    if access.can_work(author, session.ticket) and session.state == ChatSession.State.WAITING:
        _accept(session, author)
    message = services.ticket_reply(
        ticket=session.ticket, author=author, body=text, channel=Channel.CHAT
    )
    if key:
        try:
            with transaction.atomic():
                ChatMessageKey.objects.create(message=message, ticket=session.ticket, key=key)
        except IntegrityError:  # the same key posted at the same instant on two connections
            raise TicketError(_("This message was already sent."), field="text") from None
    return Posted(message, new=True)


def _accept(session: ChatSession, agent: User) -> None:
    session.state = ChatSession.State.ACTIVE
    session.agent = agent
    session.accepted_at = timezone.now()
    session.save(update_fields=["state", "agent", "accepted_at"])
    if session.ticket.assignee_id != agent.pk:
        services.ticket_assign(ticket=session.ticket, actor=agent, assignee=agent)


@transaction.atomic
def chat_accept(*, session: ChatSession, agent: User) -> ChatSession:
    session = ChatSession.objects.select_for_update().select_related("ticket").get(pk=session.pk)
    if not access.can_work(agent, session.ticket):
        raise PermissionDeniedError(_("You may not answer this chat."))
    if session.state == ChatSession.State.ENDED:
        raise TicketError(_("This chat has ended."))
    if session.state == ChatSession.State.ACTIVE and session.agent_id not in (None, agent.pk):
        raise TicketError(_("Another agent answers this chat."))
    if session.state == ChatSession.State.WAITING:
        _accept(session, agent)
    return session


@transaction.atomic
def chat_end(*, session: ChatSession, actor: User) -> ChatSession:
    session = ChatSession.objects.select_for_update().select_related("ticket").get(pk=session.pk)
    may = access.can_work(actor, session.ticket) or access.can_reply_as_customer(
        actor, session.ticket
    )
    if not may:
        raise PermissionDeniedError(_("You may not end this chat."))
    if session.state != ChatSession.State.ENDED:
        session.state = ChatSession.State.ENDED
        session.ended_at = timezone.now()
        session.save(update_fields=["state", "ended_at"])
        # The customer's copy of the conversation (read again whenever they need it).
        customer_mail.mail_chat_transcript(ticket=session.ticket, started_at=session.started_at)
    return session


@transaction.atomic
def organization_chat_secret_rotate(*, organization: Organization) -> Organization:
    """A new random chat secret: every widget signed in with the old one is signed out."""
    organization.chat_secret = secrets.token_urlsafe(32)
    organization.full_clean()
    organization.save(update_fields=["chat_secret"])
    return organization


def chat_history(user: User, ticket: Ticket, *, after: int = 0) -> list[Message]:
    """The chat's lines this reader may see, oldest first: what tickets.access lets them read
    of the ticket, less internal notes (the chat shows none, to anyone). The page opens on
    the last HISTORY_LIMIT; a reconnection after line ``after`` catches up HISTORY_LIMIT at a
    time, in order."""
    messages = (
        access.visible_messages(user, ticket)
        .filter(pk__gt=after, is_internal=False)
        .select_related("author", "author_contact", "chat_key")
    )
    if after:
        return list(messages.order_by("pk")[:HISTORY_LIMIT])
    return list(reversed(messages.order_by("-pk")[:HISTORY_LIMIT]))


def line_side(message: Message) -> str:
    """Who wrote a chat line, as the page and the WebSocket name it: agent, customer, or
    someone outside the organization (agents only see those)."""
    if message.from_agent:
        return "agent"
    return "outside" if message.from_outside else "customer"
