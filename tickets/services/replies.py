"""Messages on an open ticket: replies and internal notes from any channel, and mail that
threads into a ticket; what a public message does to the status and clocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.services import ClockChange
from sla.models import StopReason
from tickets import access
from tickets.exceptions import InvalidTransition, PermissionDeniedError, TicketError
from tickets.history import ticket_event_record
from tickets.models import (
    Channel,
    Contact,
    MailThreadId,
    Message,
    Status,
    SystemNote,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services import customer_mail
from tickets.services.attachments import (
    MailFile,
    files_removed_on_failure,
    save_files,
    validate_files,
)
from tickets.services.followers import mail_staff_followers
from tickets.services.lifecycle import apply_clocks, set_status, ticket_assign
from tickets.services.reopening import closed_to_customer, reopen_refusal
from tickets.workflow import REPLY_THEN, can_transition


@dataclass(frozen=True)
class MailContent:
    """What a received mail adds to a message besides its text (vetted by the email channel,
    tickets.channels.email)."""

    body_html: str = ""
    quoted: str = ""
    files: Sequence[MailFile] = ()
    sender: str = ""  # the address, when the sender is not a contact
    mail_id: str = ""  # its Message-ID (thread key): answers to it find the ticket


def remember_mail_id(message: Message, mail: MailContent) -> None:
    if mail.mail_id:
        MailThreadId.objects.get_or_create(
            key=mail.mail_id, defaults={"ticket_id": message.ticket_id, "message": message}
        )


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    channel: str = Channel.WEB,
    files: Sequence[File[bytes]] = (),
    received_at: datetime | None = None,
    automatic: bool = False,
    then_status: str = "",
) -> Message:
    """Add a public reply or an internal note; move the ticket and its clocks accordingly.

    A public reply of support on any channel (a logged phone call included) acknowledges a
    new ticket; an internal note or an automatic reply never does. ``then_status`` (waiting
    on customer, resolved): support's reply also sets that status, all or nothing, and the
    customer gets one mail, the reply, saying the new status.
    """
    _refuse_bad_reply(body=body, channel=channel, internal=internal, then_status=then_status)
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    from_agent = access.can_work(author, ticket)
    if not from_agent and not access.can_reply_as_customer(author, ticket):
        raise PermissionDeniedError(_("You may not reply to this ticket."))
    if (internal or then_status) and not from_agent:
        raise PermissionDeniedError(_("Only support staff write internal notes or set a status."))
    if ticket.status == Status.CLOSED and not internal and from_agent:
        raise InvalidTransition(
            _("This ticket is closed. Reopen it or open a new ticket."), field="body"
        )
    if not from_agent and closed_to_customer(ticket):
        raise InvalidTransition(reopen_refusal(ticket), field="body")
    validate_files(files)
    now = min(received_at or timezone.now(), timezone.now())
    if now < ticket.received_at:
        raise TicketError(_("A message cannot predate its ticket."), field="called_at")
    message = Message(
        ticket=ticket,
        author=author,
        author_contact=None if from_agent else access.contact_of(author),
        is_internal=internal,
        from_agent=from_agent,
        is_automatic=automatic,
        channel=channel,
        body=body.strip(),
        received_at=now,
    )
    with files_removed_on_failure() as stored:
        message.full_clean()
        message.save()
        save_files(message, files, stored)
        _after_reply(ticket, message, author=author, now=now, then_status=then_status)
    return message


def _refuse_bad_reply(*, body: str, channel: str, internal: bool, then_status: str) -> None:
    if not body.strip():
        raise TicketError(_("The message is empty."), field="body")
    if then_status and then_status not in REPLY_THEN:
        raise TicketError(_("A reply can mark a ticket waiting or resolved."), field="then")
    if then_status and internal:
        raise TicketError(
            _("An internal note does not change the status: send it, then change the status."),
            field="then",
        )
    if channel not in Channel.values:
        raise TicketError(_("Unknown channel: %(value)s.") % {"value": channel}, field="channel")


def _after_reply(
    ticket: Ticket,
    message: Message,
    *,
    author: User | None,
    now: datetime,
    then_status: str = "",
) -> None:
    """History, and the status and clock changes a public reply brings (then the status the
    agent chose with it)."""
    kind = TicketEvent.Kind.NOTE if message.is_internal else TicketEvent.Kind.MESSAGE
    ticket_event_record(
        ticket_id=ticket.pk, actor=author, kind=kind, at=now, note=f"message:{message.pk}"
    )
    ticket.updated_at = now
    ticket.save(update_fields=["updated_at"])
    from_agent, channel = message.from_agent, message.channel
    if message.is_internal or message.is_automatic or message.from_outside:
        return
    if from_agent and ticket.status == Status.NEW:
        qualifier = (
            SystemNote.PHONE_CALL if channel == Channel.PHONE else SystemNote.FIRST_PUBLIC_REPLY
        )
        set_status(
            ticket, Status.ACKNOWLEDGED, actor=author, at=now, note=qualifier, message=message
        )
    elif not from_agent and ticket.status == Status.WAITING_ON_CUSTOMER:
        set_status(
            ticket, Status.IN_PROGRESS, actor=author, at=now, note=SystemNote.CUSTOMER_ANSWERED
        )
    elif not from_agent and ticket.status == Status.RESOLVED:
        set_status(
            ticket, Status.IN_PROGRESS, actor=author, at=now, note=SystemNote.REOPENED_BY_REPLY
        )
    if from_agent and author is not None and ticket.assignee_id is None:
        _assign_to_first_replier(ticket, author)
    # After the status it brought: the promises a message starts or keeps (next reply, update).
    apply_clocks(
        ticket=ticket,
        change=ClockChange.SUPPORT_REPLIED if from_agent else ClockChange.CUSTOMER_WROTE,
        at=now,
        actor=author,
        reason=StopReason.PHONE_CALL if channel == Channel.PHONE else StopReason.PUBLIC_REPLY,
        message=message,
    )
    if then_status and ticket.status != then_status:
        if not can_transition(ticket.status, then_status):
            raise InvalidTransition(
                _("A ticket that is %(before)s cannot become %(after)s.")
                % {"before": Status(ticket.status).label, "after": Status(then_status).label},
                field="then",
            )
        set_status(ticket, Status(then_status), actor=author, at=now, message=message)
    if from_agent and channel not in (Channel.PHONE, Channel.CHAT):
        # After the status it brought, which the mail shows. A call or a live chat line is
        # not mailed: the customer heard or read it already.
        customer_mail.mail_agent_reply(ticket=ticket, message=message)
    if channel != Channel.CHAT:  # a chat's lines reach its followers in its transcript
        mail_staff_followers(ticket=ticket, message=message)


def _assign_to_first_replier(ticket: Ticket, author: User) -> None:
    """PACTE_ASSIGN_ON_FIRST_REPLY: an unassigned ticket goes to the agent who first answers
    the customer, when that agent works its desk (a manager passing by is not made owner)."""
    if settings.PACTE_ASSIGN_ON_FIRST_REPLY and (
        access.assignable_agents(ticket).filter(pk=author.pk, desks=ticket.desk_id).exists()
    ):
        ticket_assign(ticket=ticket, actor=author, assignee=author)


@transaction.atomic
def ticket_receive_mail(
    *,
    ticket: Ticket,
    contact: Contact | None,
    body: str,
    mail: MailContent,
    received_at: datetime,
    automatic: bool = False,
    outside: bool = False,
    internal: bool = False,
) -> Message:
    """A mail that threads into a ticket: the customer's answer (or a machine's, or one from
    outside the organization, or an internal note from a staff address, which change
    nothing). Threading headers, or a reference from the ticket's organization, are what
    authorizes it (tickets.channels.email decides); there is no signed-in user, so a note has
    no author: its From proves nothing."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    if not (automatic or outside or internal) and closed_to_customer(ticket, received_at):
        raise InvalidTransition(_("This ticket is closed."))
    if internal and contact is not None:
        raise ValueError("an internal note by mail has no contact for author")
    message = Message(
        ticket=ticket,
        author=contact.user if contact is not None else None,
        author_contact=contact,
        sender="" if contact is not None else mail.sender,
        is_internal=internal,
        from_agent=internal,  # support's side of the ticket (notes are); no author is claimed
        is_automatic=automatic,
        from_outside=outside,
        channel=Channel.EMAIL,
        body=body.strip() or _("(no text)"),
        body_html=mail.body_html,
        quoted=mail.quoted,
        received_at=received_at,
    )
    with files_removed_on_failure() as stored:
        message.full_clean(exclude=["ticket", "author", "author_contact"])
        message.save()
        save_files(message, mail.files, stored)
        remember_mail_id(message, mail)
        _after_reply(ticket, message, author=message.author, now=received_at)
    return message
