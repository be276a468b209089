"""Where a received mail belongs, read from the database: the ticket it continues (by its
Message-IDs, or a subject reference its sender's organization may use; a merged duplicate
stands for the ticket it was merged into), the standing of its sender on that ticket, and the
desk of a mail that opens a ticket or waits for review without one. Writes nothing."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Q

from tickets import access, services
from tickets.channels.email.parsing import ParsedMail
from tickets.exceptions import TicketError
from tickets.models import Contact, Desk, DeskAddress, InboundMail, MailThreadId, Ticket, User

SUBJECT_REFERENCE_RE = re.compile(r"\[([A-Z]+-\d{1,12})\]")


class Standing(enum.Enum):
    """Who a reply's From says wrote it, for the ticket it threads into (the From proves
    nothing by itself: holding a Message-ID of the thread does not either)."""

    CUSTOMER = "customer"  # a contact of the ticket's organization
    STAFF_ADDRESS = "staff address"  # an active agent's or manager's address
    OUTSIDE = "outside"  # anyone else


def default_desk() -> Desk:
    """Where mail goes when nothing names a desk: PACTE_MAIL_DEFAULT_DESK, else the first."""
    slug = settings.PACTE_MAIL_DEFAULT_DESK
    desk = Desk.objects.filter(slug=slug).first() if slug else None
    desk = desk or Desk.objects.order_by("pk").first()
    if desk is None:
        raise TicketError("no desk exists to receive mail")
    return desk


def desk_for(inbound: InboundMail, parsed: ParsedMail, contact: Contact | None) -> Desk:
    """The desk of a mail that opens a ticket (or waits for review without one).

    The desk addresses in To, then in Cc; when neither names one (a Bcc), the envelope
    recipient's, then this copy's Delivered-To or X-Original-To, then the mailbox's or
    webhook's desk. For a contact whose organization lists its desks, the first of these
    that serves it, else the desk Pacte gives that contact anyway (`default_desk_for`);
    for anyone else, the first of these, else the default desk.

    A mail sent to two desks arrives twice, one copy per desk, with the same headers: when
    the headers name a desk, they alone decide, so the mail belongs to the same desk
    whichever copy arrives first."""
    named = _desks_at(parsed.to) + _desks_at(parsed.cc)
    if not named:
        named = _desks_at((inbound.recipient, *parsed.delivered_to))
        if inbound.desk is not None:
            named.append(inbound.desk)
    serving = (
        set(contact.organization.desks.values_list("pk", flat=True))
        if contact is not None
        else set()
    )
    if contact is not None and serving:
        return next((desk for desk in named if desk.pk in serving), None) or (
            services.default_desk_for(contact)
        )
    return named[0] if named else default_desk()


def _desks_at(addresses: Sequence[str]) -> list[Desk]:
    """The desks of these addresses (desk addresses and aliases), in the addresses' order."""
    addresses = [a for a in dict.fromkeys(addresses) if a]
    if not addresses:
        return []
    by_address = Q(email__iexact=addresses[0])
    for address in addresses[1:]:
        by_address |= Q(email__iexact=address)
    desks = {d.email.lower(): d for d in Desk.objects.filter(by_address)}
    desks.update(
        (a.email.lower(), a.desk)
        for a in DeskAddress.objects.select_related("desk").filter(by_address)
        if a.email.lower() not in desks
    )
    return [desks[address] for address in addresses if address in desks]


def thread_ticket(parsed: ParsedMail, contact: Contact | None) -> Ticket | None:
    """The ticket a mail continues, if any: the newest known of its In-Reply-To and
    References, else a reference in its subject to a ticket of the sender's organization."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if ids:
        known = (
            MailThreadId.objects.filter(key__in=ids)
            .select_related("ticket")
            .order_by("-created_at", "-pk")
            .first()
        )
        if known is not None:
            return continuing(known.ticket)
    if contact is None:
        return None
    for reference in SUBJECT_REFERENCE_RE.findall(parsed.subject.upper()):
        ticket_id = Ticket.id_from_reference(reference)
        if ticket_id is None:
            continue
        # A reference alone is no proof: only the ticket's own organization may use it.
        ticket = Ticket.objects.filter(
            pk=ticket_id, organization_id=contact.organization_id
        ).first()
        if ticket is not None:
            return continuing(ticket)
    return None


def sender_standing(ticket: Ticket, contact: Contact | None, sender: str) -> Standing:
    """A contact of the ticket's organization moves it, unless their sign-in was turned off
    (as the portal and the chat refuse them, so does mail)."""
    if (
        contact is not None
        and contact.organization_id == ticket.organization_id
        and (contact.user is None or contact.user.is_active)
    ):
        return Standing.CUSTOMER
    users = User.objects.filter(email__iexact=sender, is_active=True) if sender else []
    staff = any(access.is_staff_member(user) for user in users)
    return Standing.STAFF_ADDRESS if staff else Standing.OUTSIDE


def continuing(ticket: Ticket) -> Ticket:
    """The ticket that goes on: a merged duplicate's target (and its target's, if merged)."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        ticket = Ticket.objects.select_related("desk").get(pk=ticket.merged_into_id)
        seen.add(ticket.pk)
    return ticket
