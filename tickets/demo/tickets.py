"""The demo's tickets, opened through the services hours or days ago so that the queue shows
every state and every SLA badge: new and untouched, being worked (acknowledged by a reply, in
progress with an internal note, waiting on the customer), resolved and closed, reclassified by
the manager, and one long overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from tickets import services
from tickets.demo.people import Customers, Staff
from tickets.models import Channel, Contact, Severity, Status, Ticket


@dataclass(frozen=True)
class _Opener:
    """Opens a ticket as its contact, received some hours before `now`."""

    now: datetime

    def __call__(
        self,
        contact: Contact,
        subject: str,
        severity: str,
        hours_ago: float,
        body: str,
        channel: str = Channel.WEB,
    ) -> Ticket:
        assert contact.user is not None
        return services.ticket_create(
            requester=contact,
            subject=subject,
            description=body,
            severity=severity,
            channel=channel,
            actor=contact.user,
            received_at=self.now - timedelta(hours=hours_ago),
        )


def tickets_seed(*, customers: Customers, staff: Staff) -> None:
    open_ = _Opener(now=timezone.now())
    _untouched(open_, customers)
    _being_worked(open_, customers, staff)
    _finished(open_, customers, staff)
    _reclassified_and_overdue(open_, customers, staff)


def _untouched(open_: _Opener, customers: Customers) -> None:
    open_(
        customers.petra,
        "Kiosk terminals show a blank screen after the update",
        Severity.BLOCKING,
        2,
        "Since this morning's update, 14 of our 20 terminals in Köln show a blank white "
        "screen after start-up.",
    )
    open_(
        customers.olivia,
        "Remote configuration does not save the idle timeout",
        Severity.MAJOR,
        30,
        "Changing the idle timeout in the online console has no effect on the devices.",
    )
    open_(
        customers.camille,
        "Le badge imprimé coupe le nom des participants",
        Severity.MINOR,
        5,
        "Sur les badges, les noms de plus de 20 caractères sont coupés.",
    )


def _being_worked(open_: _Opener, customers: Customers, staff: Staff) -> None:
    # Acknowledged by a reply.
    t = open_(
        customers.klaus,
        "Reports export is missing the last day",
        Severity.MAJOR,
        50,
        "The monthly CSV export stops one day before the end of the month.",
    )
    services.ticket_assign(ticket=t, actor=staff.anna, assignee=staff.anna)
    services.ticket_reply(
        ticket=t,
        author=staff.anna,
        body="Thanks Klaus, we can reproduce it and are working on a fix.",
    )
    # In progress, with an internal note.
    t = open_(
        customers.camille,
        "Inscriptions : le formulaire refuse les adresses .paris",
        Severity.MAJOR,
        20,
        "Les participants avec une adresse en .paris ne peuvent pas s'inscrire.",
    )
    services.ticket_acknowledge(ticket=t, actor=staff.fanny)
    services.ticket_change_status(ticket=t, actor=staff.fanny, status=Status.IN_PROGRESS)
    services.ticket_reply(
        ticket=t,
        author=staff.fanny,
        internal=True,
        body="Validation regex vient de la lib email-validator, à mettre à jour.",
    )
    # Waiting on the customer.
    t = open_(
        customers.olivia,
        "Printer on kiosk #12 prints blank receipts",
        Severity.MINOR,
        70,
        "The receipt printer on kiosk 12 prints empty tickets.",
    )
    services.ticket_reply(
        ticket=t,
        author=staff.nate,
        body="Could you send us the printer model and a photo of the settings page?",
    )
    services.ticket_change_status(ticket=t, actor=staff.nate, status=Status.WAITING_ON_CUSTOMER)
    # On hold: the printer's maker has the fault; its correction waits for them.
    services.ticket_change_status(
        ticket=t, actor=staff.nate, status=Status.ON_HOLD, pause_reason="third_party",
        note="Epson support case 88213 opened; they ship a firmware fix.",
    )  # fmt: skip


def _finished(open_: _Opener, customers: Customers, staff: Staff) -> None:
    # Resolved, then closed.
    t = open_(
        customers.petra,
        "Screensaver video stutters",
        Severity.MINOR,
        120,
        "The screensaver video stutters on the new hardware.",
    )
    services.ticket_reply(
        ticket=t, author=staff.anna, body="Fixed by the graphics driver update pushed tonight."
    )
    services.ticket_change_status(ticket=t, actor=staff.anna, status=Status.RESOLVED)
    t = open_(
        customers.camille,
        "Export Excel des présences vide",
        Severity.MAJOR,
        200,
        "L'export des présences de l'événement du 12 est vide.",
        channel=Channel.WEB,
    )
    services.ticket_reply(
        ticket=t, author=staff.fanny, body="Corrigé, l'export est de nouveau complet."
    )
    services.ticket_change_status(ticket=t, actor=staff.fanny, status=Status.RESOLVED)
    services.ticket_change_status(ticket=t, actor=staff.fanny, status=Status.CLOSED)


def _reclassified_and_overdue(open_: _Opener, customers: Customers, staff: Staff) -> None:
    t = open_(
        customers.klaus,
        "Login page slow in the afternoon",
        Severity.BLOCKING,
        6,
        "The console login takes 30 seconds after 14:00.",
    )
    services.ticket_reclassify(
        ticket=t,
        actor=staff.maya,
        severity=Severity.MAJOR,
        reason="Slow but usable: not a stoppage of the product.",
    )
    open_(
        customers.petra,
        "Kiosk browser ignores the URL whitelist",
        Severity.MAJOR,
        24 * 9,
        "Users can leave the whitelisted pages through a PDF link.",
    )
