"""Received mail → tickets: one service behind the pipe command, the IMAP poller and the
webhook.

`mail_receive` stores the raw bytes first (its own transaction: once it returns, the mail
is safe, whatever happens next), a second delivery of the same Message-ID stopping there;
then `mail_process` decides in one transaction what the mail is:

- a reply: it threads into its ticket (the one that goes on, for a merged duplicate) through
  In-Reply-To/References against every Message-ID Pacte sent or received for it, or through
  a [PAC-000123] reference in the subject when the sender belongs to that ticket's
  organization, and belongs to that ticket's desk. Only a contact of that organization moves
  the ticket. A reply from anyone else is kept on an open ticket for agents: marked as from
  outside the organization, or, when its From names staff (which anyone can write), an
  internal note without author; it changes no status nor clock and the customer does not see
  it. On a resolved or closed ticket it waits for review, linked to the ticket;
- a machine's mail (auto-reply, bounce, list): never a ticket, never answered; added to its
  ticket as an automatic message when it threads into one (hidden from the customer like any
  mail from outside, unless a contact of the organization sent it), else ignored;
- from a contact of an organization under contract: a new ticket on the desk the recipient
  address names;
- anything else waits for review, and its sender gets one polite answer a day.

A mail that cannot be handled is quarantined with the error, kept whole, and can be retried;
so is a mail whose sender is not one address in one From header: several From headers or
addresses (RFC 5322 allows one: a second one is how a forged sender slips past DMARC, which
checks only one of them), or none.

This module owns every write of a received mail (`InboundMail`), the staff's review of held
mail included; `routing` reads where a mail belongs (its ticket, its sender's standing, its
desk) and `content` makes the message a mail adds.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import access, services
from tickets.channels.email.content import mail_content, severity_tag
from tickets.channels.email.parsing import MailParseError, ParsedMail, header_key, parse
from tickets.channels.email.routing import (
    Standing,
    continuing,
    desk_for,
    sender_standing,
    thread_ticket,
)
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import (
    Channel,
    Contact,
    Desk,
    InboundMail,
    Message,
    Severity,
    SeveritySource,
    Status,
    Ticket,
    User,
)
from tickets.services import customer_mail
from tickets.services.followers import followers_from_cc
from tickets.services.reopening import closed_to_customer

logger = logging.getLogger(__name__)

# Why a mail waits for review (stored in English, shown translated: REASON_LABELS).
UNKNOWN_SENDER = "unknown sender"
NOT_UNDER_CONTRACT = "organization not under contract"
FROM_OUTSIDE = "from outside the organization"
FROM_STAFF_ADDRESS = "by mail from a staff address"
REASON_LABELS = {
    UNKNOWN_SENDER: gettext_lazy("unknown sender"),
    NOT_UNDER_CONTRACT: gettext_lazy("organization not under contract"),
    FROM_OUTSIDE: gettext_lazy("from outside the organization"),
    FROM_STAFF_ADDRESS: gettext_lazy("by mail from a staff address"),
}
# Why a mail was quarantined, when Pacte refused it on purpose (stored in English too).
SEVERAL_FROM = "several From headers"
SEVERAL_FROM_ADDRESSES = "several From addresses"
NO_FROM = "no From address"
MALFORMED_FROM = "malformed From"
ERROR_LABELS = {
    SEVERAL_FROM: gettext_lazy("several From headers"),
    SEVERAL_FROM_ADDRESSES: gettext_lazy("several From addresses"),
    NO_FROM: gettext_lazy("no From address"),
    MALFORMED_FROM: gettext_lazy("malformed From"),
}
# Temporary failures: the sender (MTA, poller, webhook client) should try again later.
TEMPORARY_ERRORS = (OperationalError, InterfaceError, OSError)


# What handling changes on the row (everything but the raw bytes, which stay as received).
REFRESHED_FIELDS = [
    "mail_id", "desk", "sender", "sender_name", "subject", "status", "reason", "error",
    "attempts", "processed_at", "ticket", "message",
]  # fmt: skip


class MailTooLarge(ValueError):
    pass


class EmptyMail(ValueError):
    pass


@dataclass(frozen=True)
class Received:
    inbound: InboundMail
    duplicate: bool


# --- intake ------------------------------------------------------------------------------------


def mail_receive(
    *, raw: bytes, source: str, recipient: str = "", desk: Desk | None = None
) -> Received:
    """Store a received message, then handle it. Safe to call twice with the same mail.

    Raises MailTooLarge or EmptyMail for what no retry can fix, and lets the database's
    temporary errors through (nothing was stored: the caller must ask for a retry).
    """
    if not raw.strip():
        raise EmptyMail("empty message")
    if len(raw) > settings.PACTE_MAIL_MAX_BYTES:
        raise MailTooLarge(
            f"message of {len(raw)} bytes; the limit is {settings.PACTE_MAIL_MAX_BYTES}"
        )
    key = header_key(raw)
    existing = InboundMail.objects.filter(key=key).only("pk", "status").first()
    if existing is not None:
        return Received(existing, duplicate=True)
    try:
        with transaction.atomic():
            inbound = InboundMail.objects.create(
                key=key,
                mail_id=key if not key.startswith("sha256:") else "",
                source=source,
                recipient=recipient.strip().lower()[:254],
                desk=desk,
                raw=raw,
                size=len(raw),
            )
    except IntegrityError:  # the same message delivered at the same moment by another path
        return Received(InboundMail.objects.only("pk", "status").get(key=key), duplicate=True)
    try:
        mail_process(inbound_id=inbound.pk)
    except TEMPORARY_ERRORS:
        # Stored, not yet handled: the mail sweep handles it once the database is back.
        logger.warning("mail %s stored; handling postponed", inbound.pk, exc_info=True)
    inbound.refresh_from_db(fields=REFRESHED_FIELDS)
    return Received(inbound, duplicate=False)


def mail_process(*, inbound_id: int) -> InboundMail:
    """Handle a stored mail (again, for a quarantined one). Idempotent."""
    with transaction.atomic():
        inbound = InboundMail.objects.select_for_update().get(pk=inbound_id)
        if inbound.status not in (InboundMail.Status.RECEIVED, InboundMail.Status.QUARANTINED):
            return inbound
        inbound.attempts += 1
        try:
            with transaction.atomic():  # a savepoint: a failure undoes every row it wrote
                _handle(inbound)
        except TEMPORARY_ERRORS:
            raise
        except Exception as exc:  # anything else: keep the mail, say why, let staff retry
            _quarantine(inbound, exc)
        inbound.processed_at = timezone.now()
        inbound.save()
    return inbound


def _quarantine(inbound: InboundMail, exc: Exception) -> None:
    inbound.status = InboundMail.Status.QUARANTINED
    inbound.ticket = None
    inbound.message = None
    if isinstance(exc, MailParseError | TicketError):
        inbound.error = str(exc)
    else:
        inbound.error = "".join(traceback.format_exception_only(exc)).strip()
        logger.exception("mail %s quarantined", inbound.pk, exc_info=exc)
    inbound.reason = ""


# --- deciding ----------------------------------------------------------------------------------


def _handle(inbound: InboundMail) -> None:
    parsed = parse(bytes(inbound.raw))
    inbound.sender = parsed.sender[:254]
    inbound.sender_name = parsed.sender_name[:200]
    inbound.subject = parsed.subject[:255]
    inbound.mail_id = parsed.message_id
    inbound.error = ""
    _check_sender(parsed)
    contact = (
        Contact.objects.select_related("organization", "user")
        .filter(email__iexact=parsed.sender)
        .first()
    )
    ticket = thread_ticket(parsed, contact)
    if ticket is not None:
        # A reply belongs to its ticket's desk, whatever address it was sent to.
        inbound.desk = ticket.desk
        if _handle_reply(inbound, parsed, ticket, contact):
            return
    desk = desk_for(inbound, parsed, contact)
    inbound.desk = desk
    if parsed.auto_reason:
        inbound.reason = parsed.auto_reason
        inbound.status = InboundMail.Status.IGNORED
        return
    if contact is not None and contact.organization.under_contract:
        _open(inbound, parsed, desk, contact)
        return
    inbound.status = InboundMail.Status.REVIEW
    inbound.reason = NOT_UNDER_CONTRACT if contact is not None else UNKNOWN_SENDER
    customer_mail.mail_unknown_sender(inbound=inbound, desk=desk, now=timezone.now())


def _handle_reply(
    inbound: InboundMail, parsed: ParsedMail, ticket: Ticket, contact: Contact | None
) -> bool:
    """A mail that threads into a ticket; False when it is the customer's to a closed ticket
    (which opens a new one).

    The sender's standing comes first, for machines too: an auto-reply is kept as an
    automatic message, but a stranger's (or a bounce from the customer's mail server) stays
    hidden from the customer like any mail from outside. Only the customer's own reply moves
    the ticket: one from outside, or from a staff address (anyone can write that From), is
    kept for agents and changes nothing; on a resolved or closed ticket it waits for review.
    """
    standing = sender_standing(ticket, contact, parsed.sender)
    if parsed.auto_reason:
        inbound.reason = parsed.auto_reason
        _append(inbound, parsed, ticket, contact, standing=standing, automatic=True)
        return True
    if standing is Standing.CUSTOMER:
        if closed_to_customer(ticket, inbound.received_at):  # past reopening: a new ticket
            return False
        _append(inbound, parsed, ticket, contact, standing=standing, automatic=False)
        followers_from_cc(ticket, parsed.cc + parsed.to, sender=contact)  # colleagues copied
        return True
    inbound.reason = FROM_STAFF_ADDRESS if standing is Standing.STAFF_ADDRESS else FROM_OUTSIDE
    inbound.ticket = ticket
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        inbound.status = InboundMail.Status.REVIEW
    else:
        _append(inbound, parsed, ticket, contact, standing=standing, automatic=False)
    return True


def _check_sender(parsed: ParsedMail) -> None:
    """Exactly one From header naming exactly one address, or the mail is refused.

    Which From is the sender? DMARC checks one of them, and the first may name a customer.
    Reply-To and Sender never stand in for a missing From: they are the sender's own claims.
    """
    if parsed.from_headers > 1:
        raise MailParseError(SEVERAL_FROM)
    if parsed.from_malformed:
        raise MailParseError(MALFORMED_FROM)
    if not parsed.sender:
        raise MailParseError(NO_FROM)
    if parsed.from_addresses > 1 or parsed.from_group:
        raise MailParseError(SEVERAL_FROM_ADDRESSES)


def _open(inbound: InboundMail, parsed: ParsedMail, desk: Desk, contact: Contact) -> None:
    body, content = mail_content(parsed, whole=True)
    ticket = services.ticket_create(
        requester=contact,
        subject=parsed.subject[:200] or _("(no subject)"),
        description=body,
        severity=severity_tag(parsed.subject),
        severity_source=SeveritySource.TAG,
        channel=Channel.EMAIL,
        actor=None,
        desk=desk,
        received_at=inbound.received_at,
        mail=content,
    )
    inbound.status = InboundMail.Status.TICKETED
    inbound.ticket = ticket
    inbound.message = ticket.messages.order_by("pk").first()
    followers_from_cc(ticket, parsed.cc + parsed.to, sender=contact)  # colleagues copied


def _append(
    inbound: InboundMail,
    parsed: ParsedMail,
    ticket: Ticket,
    contact: Contact | None,
    *,
    standing: Standing,
    automatic: bool,
) -> Message:
    """Add the mail to its ticket: the customer's reply, else a message for agents only (from
    outside; or an internal note without author when the From names staff, which it proves
    not)."""
    body, content = mail_content(parsed, whole=False)
    message = services.ticket_receive_mail(
        ticket=ticket,
        contact=contact if standing is Standing.CUSTOMER else None,
        body=body,
        mail=content,
        received_at=inbound.received_at,
        automatic=automatic,
        outside=standing is Standing.OUTSIDE,
        internal=standing is Standing.STAFF_ADDRESS,
    )
    inbound.status = InboundMail.Status.APPENDED
    inbound.ticket = ticket
    inbound.message = message
    return message


# --- review ------------------------------------------------------------------------------------


@transaction.atomic
def mail_review_accept(
    *, inbound: InboundMail, actor: User, contact: Contact, severity: str
) -> Ticket:
    """An agent turns a held mail into a ticket for a contact of a desk they work on (clocks
    start now)."""
    if not access.desks_to_open_for(actor, contact):
        raise TicketError(_("You do not work on a desk serving this contact."), field="contact")
    inbound = InboundMail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundMail.Status.REVIEW:
        raise TicketError(_("This mail has already been handled."))
    if severity not in Severity.values:
        raise TicketError(_("Unknown severity: %(value)s.") % {"value": severity}, field="severity")
    parsed = parse(bytes(inbound.raw))
    body, content = mail_content(parsed, whole=True)
    ticket = services.ticket_create(
        requester=contact,
        subject=parsed.subject[:200] or _("(no subject)"),
        description=body,
        severity=severity,
        severity_source=SeveritySource.AGENT,  # the agent who turned the held mail into it
        channel=Channel.EMAIL,
        actor=actor,
        desk=inbound.desk,
        received_at=timezone.now(),
        mail=content,
    )
    inbound.status = InboundMail.Status.TICKETED
    inbound.ticket = ticket
    inbound.message = ticket.messages.order_by("pk").first()
    followers_from_cc(ticket, parsed.cc + parsed.to, sender=contact)  # colleagues copied
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "ticket", "message", "processed_at"])
    return ticket


@transaction.atomic
def mail_review_attach(*, inbound: InboundMail, actor: User) -> Message:
    """An agent keeps a held reply on the ticket it answers (the one that goes on, if that one
    was merged since), as it would have been kept on an open ticket: marked as from outside
    the organization, or an internal note when its From names staff. It changes no status nor
    clock and the customer does not see it (the agent reopens the ticket by hand if the mail
    calls for it)."""
    inbound = (
        InboundMail.objects.select_for_update(of=("self",))
        .select_related("ticket")
        .get(pk=inbound.pk)
    )
    if inbound.status != InboundMail.Status.REVIEW:
        raise TicketError(_("This mail has already been handled."))
    if inbound.ticket is None:
        raise TicketError(_("This mail answers no ticket; open one from it instead."))
    ticket = continuing(inbound.ticket)
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not add to this ticket."))
    parsed = parse(bytes(inbound.raw))
    staff = inbound.reason == FROM_STAFF_ADDRESS
    standing = Standing.STAFF_ADDRESS if staff else Standing.OUTSIDE
    message = _append(inbound, parsed, ticket, None, standing=standing, automatic=False)
    inbound.desk = ticket.desk
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "desk", "ticket", "message", "processed_at"])
    return message


@transaction.atomic
def mail_review_discard(*, inbound: InboundMail, actor: User) -> None:
    updated = InboundMail.objects.filter(
        pk=inbound.pk,
        status__in=[InboundMail.Status.REVIEW, InboundMail.Status.QUARANTINED],
    ).update(
        status=InboundMail.Status.DISCARDED,
        reason=actor.get_username(),  # who discarded it
        processed_at=timezone.now(),
    )
    if not updated:
        raise TicketError(_("This mail has already been handled."))


def mail_retry(*, inbound: InboundMail) -> InboundMail:
    """Handle a quarantined mail again (after a fix, or a desk or contact was added)."""
    if inbound.status != InboundMail.Status.QUARANTINED:
        raise TicketError(_("Only quarantined mail can be retried."))
    return mail_process(inbound_id=inbound.pk)


def mail_unprocessed(*, older_than: datetime) -> list[int]:
    """Stored mail never handled (a crash or a database outage right after storing it)."""
    return list(
        InboundMail.objects.filter(
            status=InboundMail.Status.RECEIVED, received_at__lt=older_than
        ).values_list("pk", flat=True)[:200]
    )
