"""Mail to customers: written to an outbox in the transaction of the change, sent after.

No request talks to the broker (a Redis outage must not slow the desk down): the beat runs
`mail_sweep_task` every PACTE_MAIL_SEND_SECONDS (10 s by default), which sends what waits.

Each mail gets its own Message-ID and, through `MailThreadId`, the In-Reply-To and
References of the ticket's thread, so that every mail client shows one conversation; the
customer's answer finds its ticket by the same ids. Sending claims the row (pending →
sending) with a lease: a worker that dies mid-way leaves it to the next sweep, so a mail is
never lost (and, in that rare window, possibly sent twice).
"""

from __future__ import annotations

import logging
import secrets
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sla.models import Clock
from tickets import access
from tickets.models import (
    Channel,
    Contact,
    Desk,
    InboundMail,
    Language,
    MailThreadId,
    Message,
    OutboundMail,
    Status,
    Ticket,
    User,
)
from tickets.services.followers import copied_addresses

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
THREAD_REFERENCES = 10  # the root and the latest ids: enough for every client to thread
# Automatic mails say so (RFC 3834), so that auto-responders do not answer them.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def new_mail_id(ticket: Ticket | None = None) -> str:
    """A Message-ID of Pacte's mail domain, for every mail Pacte sends (customer mail and
    staff alerts alike: Django's default names the machine, often "localhost", which spam
    filters hold against the mail); a ticket's mail names the ticket."""
    domain = settings.PACTE_MAIL_DOMAIN
    prefix = f"pacte.{ticket.pk}" if ticket is not None else "pacte"
    return f"<{prefix}.{secrets.token_hex(8)}@{domain}>"


def _thread(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail of the ticket's thread: the ids of Pacte's
    own mail and of the messages the customer may read. A stranger's mail or a note kept from
    a staff address never puts its Message-ID (nor its host) into the customer's headers."""
    keys = list(
        MailThreadId.objects.filter(ticket=ticket)
        .filter(Q(outgoing=True) | Q(message__isnull=True) | access.customer_readable("message__"))
        .exclude(key__startswith="sha256:")
        .order_by("created_at", "pk")
        .values_list("key", flat=True)
    )
    if not keys:
        return "", []
    references = [keys[0], *keys[1:][-(THREAD_REFERENCES - 1) :]]
    return keys[-1], references


def _zone(contact: Contact, desk: Desk) -> zoneinfo.ZoneInfo:
    name = (contact.user.time_zone if contact.user_id and contact.user else "") or ""
    try:
        return zoneinfo.ZoneInfo(name or desk.calendar.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def contact_language(contact: Contact) -> str:
    user_language = contact.user.language if contact.user_id and contact.user else ""
    return user_language or contact.language or settings.LANGUAGE_CODE


def ticket_url(ticket: Ticket) -> str:
    return settings.PACTE_BASE_URL + reverse("tickets:detail", args=[ticket.reference])


# The mails of a ticket's public updates, copied to its followers from the organization.
PUBLIC_UPDATES = (
    OutboundMail.Kind.REPLY,
    OutboundMail.Kind.STATUS,
    OutboundMail.Kind.RESOLVED,
    OutboundMail.Kind.MERGED,
)


def _rating_links(ticket: Ticket) -> dict[str, str]:
    """A resolved ticket's mail asks how the help was: a link per rating."""
    if ticket.status != Status.RESOLVED:
        return {}
    from tickets.services.satisfaction import satisfaction_url

    return {score: satisfaction_url(ticket, score) for score in ("good", "bad")}


def _write(
    *,
    kind: OutboundMail.Kind,
    ticket: Ticket,
    message: Message | None,
    template: str,
    subject: Callable[[], str],
    context: dict[str, object],
    automatic: bool,
) -> OutboundMail | None:
    contact = ticket.requester
    if not contact.email:
        return None
    desk = ticket.desk
    language = contact_language(contact)
    copied = copied_addresses(ticket) if kind in PUBLIC_UPDATES else []
    with translation.override(language), timezone.override(_zone(contact, desk)):
        full_context = {
            "ticket": ticket,
            "contact": contact,
            "desk": desk,
            "url": ticket_url(ticket),
            "automatic": automatic,
            "reopen_days": settings.PACTE_REOPEN_DAYS,
            # The rating links are the requester's: a mail copied to colleagues carries none
            # (the ticket's page has the buttons).
            "rate": {} if copied else _rating_links(ticket),
            **context,
        }
        text = render_to_string(f"tickets/email/{template}.txt", full_context)
        html = render_to_string(f"tickets/email/{template}.html", full_context)
        title = subject()
        # The customer reads who writes: their organization's support, and which desk.
        sender = _("%(organization)s support — %(desk)s") % {
            "organization": ticket.organization.name,
            "desk": desk.name,
        }
    in_reply_to, references = _thread(ticket)
    outbound = OutboundMail.objects.create(
        kind=kind,
        ticket=ticket,
        message=message,
        from_address=formataddr((sender, desk.email)),
        to_address=contact.email,
        to_name=contact.name,
        cc_addresses=", ".join(copied),
        language=language,
        subject=title[:255],
        text=text,
        html=html,
        mail_id=new_mail_id(ticket),
        in_reply_to=in_reply_to,
        references=" ".join(references),
    )
    MailThreadId.objects.create(key=outbound.mail_id, ticket=ticket, message=message, outgoing=True)
    return outbound


def _subject(ticket: Ticket, *, reply: bool) -> str:
    line = f"[{ticket.reference}] {' '.join(ticket.subject.split())}"
    return _("Re: %(subject)s") % {"subject": line} if reply else line


def mail_ticket_opened(*, ticket: Ticket, message: Message) -> OutboundMail | None:
    """The reference and the promised acknowledgement and correction times."""
    clocks = {c.metric: c for c in Clock.objects.filter(ticket=ticket)}
    return _write(
        kind=OutboundMail.Kind.OPENED,
        ticket=ticket,
        message=message,
        template="ticket_opened",
        subject=lambda: _subject(ticket, reply=ticket.channel == "email"),
        context={
            "acknowledge_by": getattr(clocks.get("acknowledgement"), "due_at", None),
            "correct_by": getattr(clocks.get("correction"), "due_at", None),
            "message": message,
        },
        automatic=True,
    )


def mail_agent_reply(*, ticket: Ticket, message: Message) -> OutboundMail | None:
    attachments = [a for a in message.attachments.all() if not a.inline]
    return _write(
        kind=OutboundMail.Kind.REPLY,
        ticket=ticket,
        message=message,
        template="agent_reply",
        subject=lambda: _subject(ticket, reply=True),
        context={"message": message, "attachments": attachments},
        automatic=False,
    )


def mail_status_changed(*, ticket: Ticket, before: Status, actor: User) -> OutboundMail | None:
    resolved = ticket.status == Status.RESOLVED
    return _write(
        kind=OutboundMail.Kind.RESOLVED if resolved else OutboundMail.Kind.STATUS,
        ticket=ticket,
        message=None,
        template="status_changed",
        subject=lambda: _subject(ticket, reply=True),
        context={
            "before": Status(before).label,
            "after": Status(ticket.status).label,
            "resolved": resolved,
            "waiting": ticket.status == Status.WAITING_ON_CUSTOMER,
        },
        automatic=True,
    )


def mail_chat_transcript(*, ticket: Ticket, started_at: datetime) -> OutboundMail | None:
    """The conversation the customer had live, mailed when the chat ends (their copy; a reply
    to it goes on the ticket)."""
    lines = list(
        Message.objects.filter(ticket=ticket, channel=Channel.CHAT, received_at__gte=started_at)
        .filter(access.customer_readable())
        .select_related("author", "author_contact")
        .order_by("received_at", "pk")
    )
    if not lines:
        return None
    return _write(
        kind=OutboundMail.Kind.TRANSCRIPT,
        ticket=ticket,
        message=None,
        template="chat_transcript",
        subject=lambda: (
            _("[%(reference)s] Your chat with %(desk)s support")
            % {"reference": ticket.reference, "desk": ticket.desk.name}
        ),
        context={"lines": lines},
        automatic=True,
    )


def mail_ticket_merged(*, source: Ticket, target: Ticket, note: str) -> OutboundMail | None:
    """The customer's duplicate was merged: which ticket goes on (linked when they may see
    it), and the agent's note only when it was shared. In the thread of the ticket that
    stays, which now holds the duplicate's Message-IDs too, so a reply lands there."""
    user = source.requester.user if source.requester.user_id else None
    visible = (
        user is not None
        and user.is_active
        and access.visible_tickets(user).filter(pk=target.pk).exists()
    )
    return _write(
        kind=OutboundMail.Kind.MERGED,
        ticket=target,
        message=None,
        template="ticket_merged",
        subject=lambda: _subject(target, reply=True),
        context={
            "source": source,
            "note": note,
            "url": ticket_url(target) if visible else "",
        },
        automatic=True,
    )


def mail_unknown_sender(*, inbound: InboundMail, desk: Desk, now: datetime) -> OutboundMail | None:
    """One polite answer a day per address: who may write to support, and how.

    Claimed per address with a conditional UPDATE, so two mails arriving together still get
    one answer."""
    from tickets.models import AutoAnswer

    address = inbound.sender.lower()
    if not address:
        return None
    claimed = AutoAnswer.objects.filter(
        address=address, last_sent_at__lte=now - timedelta(days=1)
    ).update(last_sent_at=now)
    if not claimed:
        _row, created = AutoAnswer.objects.get_or_create(
            address=address, defaults={"last_sent_at": now}
        )
        if not created:
            return None  # answered within the last day
    parts = []
    for language in (Language.EN, Language.FR):
        with translation.override(language):
            context = {"desk": desk, "inbound": inbound}
            parts.append(
                (
                    render_to_string("tickets/email/unknown_sender.txt", context),
                    render_to_string("tickets/email/unknown_sender.html", context),
                    _("Your message to %(desk)s support") % {"desk": desk.name},
                )
            )
    outbound = OutboundMail.objects.create(
        kind=OutboundMail.Kind.UNKNOWN_SENDER,
        inbound=inbound,
        from_address=formataddr((desk.name, desk.email)),
        to_address=inbound.sender,
        to_name=inbound.sender_name,
        language=Language.EN,
        subject=f"{parts[0][2]} / {parts[1][2]}"[:255],
        text="\n\n----\n\n".join(part[0] for part in parts),
        html="<hr>".join(part[1] for part in parts),
        mail_id=new_mail_id(None),
        in_reply_to=inbound.mail_id,
        references=inbound.mail_id,
    )
    return outbound


# --- sending -----------------------------------------------------------------------------------


def _email(outbound: OutboundMail) -> EmailMultiAlternatives:
    headers = {"Message-ID": outbound.mail_id, "Reply-To": outbound.from_address}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = outbound.in_reply_to
    if outbound.references:
        headers["References"] = outbound.references
    if outbound.kind != OutboundMail.Kind.REPLY:
        headers.update(AUTOMATIC_HEADERS)
    if outbound.kind == OutboundMail.Kind.ACCOUNT:
        del headers["Reply-To"]  # from no desk: nobody reads answers to a reset link
    mail = EmailMultiAlternatives(
        outbound.subject,
        outbound.text,
        from_email=outbound.from_address,
        to=[formataddr((outbound.to_name, outbound.to_address))],
        cc=[address.strip() for address in outbound.cc_addresses.split(",") if address.strip()],
        headers=headers,
    )
    if outbound.html:
        mail.attach_alternative(outbound.html, "text/html")
    return mail


def _claimable(now: datetime) -> Q:
    pending = Q(state=OutboundMail.State.PENDING)
    stale = Q(state=OutboundMail.State.SENDING, sending_since__lt=now - LEASE)
    return pending | stale


def outbound_send(*, outbound_id: int, now: datetime) -> bool:
    """Send one outbox mail if nobody else is; True when this call sent it."""
    claimed = OutboundMail.objects.filter(_claimable(now), pk=outbound_id).update(
        state=OutboundMail.State.SENDING, sending_since=now
    )
    if not claimed:
        return False
    outbound = OutboundMail.objects.get(pk=outbound_id)
    try:
        _email(outbound).send()
    except Exception as exc:  # SMTP down, refused, timeout: retried by the sweep
        attempts = outbound.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        logger.warning(
            "mail %s to %s failed (%s): %s", outbound.pk, outbound.to_address, attempts, exc
        )
        OutboundMail.objects.filter(pk=outbound.pk).update(
            state=OutboundMail.State.FAILED if failed else OutboundMail.State.PENDING,
            attempts=attempts,
            error=str(exc)[:2000],
            sending_since=None,
        )
        return False
    sent: dict[str, object] = {}
    if outbound.kind == OutboundMail.Kind.ACCOUNT:
        sent = {"text": "", "html": ""}  # a reset or invitation link is kept nowhere once sent
    OutboundMail.objects.filter(pk=outbound.pk).update(
        state=OutboundMail.State.SENT,
        sent_at=now,
        attempts=outbound.attempts + 1,
        error="",
        **sent,
    )
    return True


def outbound_due(now: datetime) -> list[int]:
    """Outbox mails to (re)send: pending, or claimed by a worker that never finished."""
    return list(
        OutboundMail.objects.filter(_claimable(now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
