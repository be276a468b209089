"""The demo's mail, received through the email channel as the IMAP poller would hand it over:
a customer's conversation by mail (HTML, a signature, a quoted reply) and a stranger's mail,
held for review."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone

from tickets import services
from tickets.channels.email.ingest import mail_receive
from tickets.models import Contact, InboundMail, OutboundMail, Status, Ticket, User


def mail_seed(*, petra: Contact, anna: User) -> None:
    """A conversation by mail (with a quoted reply) and a mail from a stranger, held."""
    now = timezone.now()
    ticket = _customer_opens(petra, now=now)
    if ticket is None:
        return
    _agent_asks_customer_answers(ticket, petra=petra, anna=anna, now=now)
    _stranger_writes(now=now)


def _customer_opens(petra: Contact, *, now: datetime) -> Ticket | None:
    opened = mail_receive(
        raw=_mail(
            sender=f"Petra Wolf <{petra.email}>",
            to="support-eu@pacte.example",
            subject="Card reader rejects contactless payments",
            text=(
                "Hello,\n\nSince Monday the card readers of our Hamburg kiosks reject "
                "contactless payments; chip and PIN still works.\n\nBest regards,\nPetra\n"
                "-- \nPetra Wolf | Kiosk Vision | Operations"
            ),
            html=(
                "<p>Hello,</p><p>Since Monday the card readers of our <b>Hamburg</b> kiosks "
                "reject contactless payments; chip and PIN still works.</p>"
                "<p>Best regards,<br>Petra</p>"
            ),
            sent_at=now - timedelta(hours=26),
            message_id="<demo-card-reader@kiosk-vision.example>",
        ),
        source=InboundMail.Source.IMAP,
    ).inbound
    return opened.ticket


def _agent_asks_customer_answers(
    ticket: Ticket, *, petra: Contact, anna: User, now: datetime
) -> None:
    services.ticket_reply(
        ticket=ticket,
        author=anna,
        body="Hello Petra, which firmware version do the readers show on their status page?",
    )
    services.ticket_change_status(ticket=ticket, actor=anna, status=Status.WAITING_ON_CUSTOMER)
    question = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).first()
    mail_receive(
        raw=_mail(
            sender=f"Petra Wolf <{petra.email}>",
            to="support-eu@pacte.example",
            subject=f"RE: [{ticket.reference}] Card reader rejects contactless payments",
            text=(
                "Hi Anna,\n\nThey show firmware 4.2.1 (updated last Sunday).\n\nPetra\n\n"
                "From: Europe <support-eu@pacte.example>\nSent: Tuesday 10:12\n"
                f"Subject: [{ticket.reference}] Card reader rejects contactless payments\n\n"
                "Hello Petra, which firmware version do the readers show on their status page?"
            ),
            sent_at=now - timedelta(hours=3),
            message_id="<demo-card-reader-2@kiosk-vision.example>",
            in_reply_to=question.mail_id if question else "",
        ),
        source=InboundMail.Source.IMAP,
    )


def _stranger_writes(*, now: datetime) -> None:
    mail_receive(
        raw=_mail(
            sender="Jonas Keller <jonas@kiosk-partner.example>",
            to="support-eu@pacte.example",
            subject="Kiosk in the Frankfurt station does not print",
            text="Hello, the kiosk next to platform 9 prints nothing. Can you help?\nJonas",
            sent_at=now - timedelta(hours=1),
            message_id="<demo-stranger@kiosk-partner.example>",
        ),
        source=InboundMail.Source.IMAP,
    )


def _mail(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    sent_at: datetime,
    message_id: str,
    in_reply_to: str = "",
    html: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return bytes(message)
