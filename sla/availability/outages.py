"""Every write of outages and maintenance windows (the availability side of the SLA)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sla.exceptions import OutageRejected
from sla.models import MaintenanceWindow, Outage
from tickets.models import Organization, Severity, Ticket


def _checked(row: Outage | MaintenanceWindow) -> None:
    try:
        row.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise OutageRejected(messages[0], field=field) from None


def blocking_tickets_checked(organization: Organization, tickets: Iterable[Ticket]) -> list[Ticket]:
    """The tickets an outage may name: blocking tickets of the same organization."""
    tickets = list(tickets)
    for ticket in tickets:
        if ticket.organization_id != organization.pk:
            raise OutageRejected(
                _("%(ref)s is a ticket of another organization.") % {"ref": ticket.reference},
                field="tickets",
            )
        if ticket.severity != Severity.BLOCKING:
            raise OutageRejected(
                _("%(ref)s is not a blocking ticket: only blocking tickets report an outage.")
                % {"ref": ticket.reference},
                field="tickets",
            )
    return tickets


@transaction.atomic
def outage_record(
    *,
    organization: Organization,
    title: str,
    started_at: datetime,
    ended_at: datetime | None = None,
    tickets: Iterable[Ticket] = (),
) -> Outage:
    """Record a time the service was down (``ended_at`` None: it still is)."""
    linked = blocking_tickets_checked(organization, tickets)
    outage = Outage(
        organization=organization, title=title, started_at=started_at, ended_at=ended_at
    )
    _checked(outage)
    outage.save()
    outage.tickets.set(linked)
    return outage


@transaction.atomic
def outage_update(
    *,
    outage: Outage,
    organization: Organization,
    title: str,
    started_at: datetime,
    ended_at: datetime | None,
    tickets: Iterable[Ticket],
) -> Outage:
    """Correct a recorded outage (the admin's change form): every field and the tickets it
    names, under the same rules as ``outage_record``."""
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    linked = blocking_tickets_checked(organization, tickets)
    outage.organization = organization
    outage.title = title
    outage.started_at = started_at
    outage.ended_at = ended_at
    _checked(outage)
    outage.save(update_fields=["organization", "title", "started_at", "ended_at"])
    outage.tickets.set(linked)
    return outage


@transaction.atomic
def outage_delete(*, outage: Outage) -> None:
    """Remove an outage recorded by mistake: its downtime no longer counts."""
    outage.delete()


@transaction.atomic
def outage_end(*, outage: Outage, ended_at: datetime) -> Outage:
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    if outage.ended_at is not None:
        raise OutageRejected(_("This outage has already ended."), field="ended_at")
    outage.ended_at = ended_at
    _checked(outage)
    outage.save(update_fields=["ended_at"])
    return outage


@transaction.atomic
def outage_link_tickets(*, outage: Outage, tickets: Iterable[Ticket]) -> Outage:
    outage.tickets.add(*blocking_tickets_checked(outage.organization, tickets))
    return outage


@transaction.atomic
def maintenance_announce(
    *,
    organization: Organization,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    announced_at: datetime,
    description: str = "",
) -> MaintenanceWindow:
    """Announce planned work; only windows announced before they start are planned time."""
    window = MaintenanceWindow(
        organization=organization,
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        announced_at=announced_at,
    )
    _checked(window)
    window.save()
    return window
