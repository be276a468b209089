"""Opening tickets, whatever the channel (web, API, mail, phone, chat), the desk a new ticket
goes to, and who support may open one for (a phone call, the API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.services import ClockChange
from sla.contracts import contract_in_force, filing_refused_reason
from tickets import access
from tickets.channels.email.content import severity_tag
from tickets.exceptions import NotUnderContract, PermissionDeniedError, TicketError
from tickets.history import ticket_event_record
from tickets.models import (
    Channel,
    Contact,
    Desk,
    Message,
    Severity,
    SeveritySource,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services import customer_mail
from tickets.services.attachments import files_removed_on_failure, save_files, validate_files
from tickets.services.lifecycle import apply_clocks, ticket_acknowledge
from tickets.services.replies import MailContent, remember_mail_id
from tickets.triage.services import Triage, intake_severity, triage_record


def default_desk_for(contact: Contact) -> Desk:
    """The organization's desk for the contact's region, else its first desk."""
    desks = list(contact.organization.desks.all())
    if not desks:
        raise TicketError(
            _("This organization has no support desk yet; please contact us by phone.")
        )
    for desk in desks:
        if desk.region == contact.region:
            return desk
    return desks[0]


def desk_to_open_on(*, opener: User, contact: Contact) -> Desk | None:
    """The desk on which support opens a ticket for a contact (a phone call, the API): the
    contact's own desk (`default_desk_for`) if the opener works on it, else the first desk of
    the contact's organization they work on; None when they work on none of them."""
    desks = access.desks_to_open_for(opener, contact)
    if not desks:
        return None
    default = default_desk_for(contact)
    return default if default in desks else desks[0]


@transaction.atomic
def ticket_create(
    *,
    requester: Contact,
    subject: str,
    description: str,
    severity: str,
    channel: str,
    actor: User | None,
    files: Sequence[File[bytes]] = (),
    desk: Desk | None = None,
    received_at: datetime | None = None,
    mail: MailContent | None = None,
    severity_source: str = SeveritySource.CUSTOMER,
) -> Ticket:
    """Open a ticket for a contact and start its SLA clocks; the customer gets a mail.

    ``severity`` as chosen (by the customer, a tag in the subject, an agent: the source), or
    "" to let the ticket's text decide (tickets.triage); the classifier's suggestion is kept
    with every ticket either way."""
    now = received_at or timezone.now()
    _refuse_bad_input(requester, severity, channel, description, files, now)
    triage = intake_severity(
        subject=subject,
        body=description,
        language=requester.language,
        severity=severity,
        source=severity_source,
    )
    ticket = Ticket(
        subject=" ".join(subject.split()),  # one line: it becomes a mail header
        severity=triage.severity,
        channel=channel,
        organization=requester.organization,
        requester=requester,
        desk=desk or default_desk_for(requester),
        received_at=now,
        updated_at=now,
    )
    _contract_terms(ticket, now)
    with files_removed_on_failure() as stored:
        # The related rows were just loaded and the database enforces the check constraints:
        # validate the fields, not the foreign keys again (bench/agent_queue.py: 15 queries fewer).
        ticket.full_clean(
            exclude=["organization", "requester", "desk", "sla_policy", "calendar"],
            validate_constraints=False,
        )
        ticket.save()
        _open_ticket(
            ticket,
            triage=triage,
            requester=requester,
            description=description,
            actor=actor,
            files=files,
            stored=stored,
            mail=mail or MailContent(),
        )
    return ticket


def _refuse_bad_input(
    requester: Contact,
    severity: str,
    channel: str,
    description: str,
    files: Sequence[File[bytes]],
    now: datetime,
) -> None:
    if not requester.organization.under_contract:
        raise NotUnderContract(filing_refused_reason(requester.organization, now=now))
    if severity and severity not in Severity.values:
        raise TicketError(_("Unknown severity: %(value)s.") % {"value": severity}, field="severity")
    if channel not in Channel.values:
        raise TicketError(_("Unknown channel: %(value)s.") % {"value": channel}, field="channel")
    if not description.strip():
        raise TicketError(_("Please describe the incident."), field="description")
    validate_files(files)


def _contract_terms(ticket: Ticket, now: datetime) -> None:
    """The policy the ticket is promised (its contract's, else its organization's), kept if
    the organization changes policy later; the contract's hours when it names them."""
    contract = contract_in_force(ticket.organization, ticket.desk, now)
    ticket.sla_policy_id = ticket.organization.sla_policy_id
    if contract is not None:
        ticket.sla_policy_id = contract.policy_id or ticket.sla_policy_id
        ticket.calendar = contract.calendar


def _open_ticket(
    ticket: Ticket,
    *,
    triage: Triage,
    requester: Contact,
    description: str,
    actor: User | None,
    files: Sequence[File[bytes]],
    stored: list[str],
    mail: MailContent,
) -> None:
    now = ticket.received_at
    channel = ticket.channel
    message = Message(
        ticket=ticket,
        author=actor if actor is not None and actor.is_customer else None,
        author_contact=requester,
        channel=channel,
        body=description.strip(),
        body_html=mail.body_html,
        quoted=mail.quoted,
        received_at=now,
    )
    if actor is not None and access.is_staff_member(actor):
        # An agent logging a call or a mail on the contact's behalf.
        message.author = actor
    message.full_clean(exclude=["ticket", "author", "author_contact"], validate_constraints=False)
    message.save()
    save_files(message, [*files, *mail.files], stored)
    remember_mail_id(message, mail)
    ticket_event_record(
        ticket_id=ticket.pk,
        actor=actor,
        kind=TicketEvent.Kind.CREATED,
        at=now,
        after=Status.NEW,
        note=channel,
    )
    triage_record(ticket, triage, actor=actor, at=now)
    apply_clocks(ticket=ticket, change=ClockChange.RECEIVED, at=now, actor=actor)
    customer_mail.mail_ticket_opened(ticket=ticket, message=message)


def _desk_or_refuse(*, opener: User, contact: Contact, message: str, field: str) -> Desk:
    desk = desk_to_open_on(opener=opener, contact=contact)
    if desk is None:
        raise TicketError(message, field=field)
    return desk


@transaction.atomic
def phone_call_log(
    *,
    agent: User,
    contact: Contact,
    subject: str,
    description: str,
    severity: str,
    called_at: datetime,
    acknowledged: bool,
) -> Ticket:
    """A customer's call logged as a ticket on the phone channel: its clocks start at the time
    of the call, and an incident acknowledged during the call is acknowledged at that time."""
    desk = _desk_or_refuse(
        opener=agent,
        contact=contact,
        message=_("You do not work on a desk serving this contact."),
        field="contact",
    )
    ticket = ticket_create(
        requester=contact,
        subject=subject,
        description=description,
        # The agent's choice, else a tag in the subject, else the text decides.
        severity=severity or severity_tag(subject),
        severity_source=SeveritySource.AGENT if severity else SeveritySource.TAG,
        channel=Channel.PHONE,
        actor=agent,
        desk=desk,
        received_at=called_at,
    )
    if acknowledged:
        ticket_acknowledge(ticket=ticket, actor=agent, at=called_at)
    return ticket


def ticket_open_by(
    *,
    opener: User,
    subject: str,
    description: str,
    severity: str,
    requester_email: str = "",
    channel: str = "",
    files: Sequence[File[bytes]] = (),
) -> Ticket:
    """A ticket opened by an API caller. A contact opens one for themselves, on the API channel
    and their own desk. Support opens one for a contact named by address, on the channel they
    say (the API by default) and on `desk_to_open_on`: a contact they do not serve is answered
    as an unknown address, so that the API reveals no other organization's people."""
    if not access.is_staff_member(opener):
        contact = access.contact_of(opener)
        if contact is None:
            raise PermissionDeniedError(_("Only contacts of a customer open tickets."))
        requester, desk, channel = contact, None, Channel.API
        source = SeveritySource.CUSTOMER
    else:
        unknown = _("No contact has this address.")
        found = (
            Contact.objects.select_related("organization")
            .filter(email__iexact=requester_email)
            .first()
            if requester_email
            else None
        )
        if found is None:
            raise TicketError(unknown, field="requester")
        requester = found
        desk = _desk_or_refuse(opener=opener, contact=requester, message=unknown, field="requester")
        source = SeveritySource.AGENT
    return ticket_create(
        requester=requester,
        subject=subject,
        description=description,
        severity=severity,
        severity_source=source,
        channel=channel or Channel.API,
        actor=opener,
        files=files,
        desk=desk,
    )
