"""sla's own domain errors: raised by sla, shared with nothing in tickets, and shown to users
exactly as the tickets app's errors are (the API's one handler, the ticket services' hook)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import status

from sla.clocks.services import ClockChange, clocks_apply
from sla.exceptions import NoSupportHours, OutageRejected, SlaError
from sla.models import Calendar
from tests.factories import World, open_ticket
from tickets.api.errors import exception_handler
from tickets.exceptions import TicketError
from tickets.models import Ticket


def test_sla_errors_are_not_ticket_errors() -> None:
    for error in (SlaError("x"), NoSupportHours("x"), OutageRejected("x", field="tickets")):
        assert isinstance(error, SlaError) and not isinstance(error, TicketError)
    assert OutageRejected("x", field="tickets").field == "tickets"


@pytest.mark.parametrize(
    "error",
    [TicketError("Refused.", field="tickets"), OutageRejected("Refused.", field="tickets")],
)
def test_the_api_answers_both_apps_errors_alike(error: Exception) -> None:
    response = exception_handler(error, {})
    assert response is not None and response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data == {"detail": "Refused.", "tickets": ["Refused."]}


@pytest.mark.django_db
def test_a_desk_without_hours_is_an_sla_error_and_the_ticket_write_s_own(world: World) -> None:
    ticket = open_ticket(world.alice)
    world.europe.calendar = Calendar.objects.create(slug="never", name="Never", time_zone="UTC")
    world.europe.save()
    ticket.refresh_from_db()
    with pytest.raises(NoSupportHours, match="no support hours") as sla_error:
        clocks_apply(ticket=ticket, change=ClockChange.RECLASSIFIED, at=timezone.now())
    with pytest.raises(TicketError) as ticket_error:
        open_ticket(world.alice)
    assert ticket_error.value.message == sla_error.value.message
    assert Ticket.objects.count() == 1
