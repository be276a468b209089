"""The customer's ticket list (issue 23, point 4): search, open or closed, a badge when a
promise was missed; an organization admin also filters by requester. Nothing leaks: internal
notes are not searched, another organization's people cannot be chosen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from sla.models import Clock
from tests.factories import World, client_for, open_ticket
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


def _listed(user, **params: str) -> str:  # type: ignore[no-untyped-def]
    response = client_for(user).get("/tickets/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_search_state_and_lateness(world: World) -> None:
    printer = open_ticket(world.alice, subject="Receipt printer jams")
    screen = open_ticket(world.alice, subject="Kiosk screen flickers")
    services.ticket_reply(
        ticket=screen, author=world.agent_eu, body="Firmware 4.2 suspected", internal=True
    )
    services.ticket_reply(
        ticket=printer, author=world.agent_eu, body="Fixed.", then_status="resolved"
    )
    Clock.objects.filter(ticket=screen, metric="acknowledgement").update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    alice = world.alice.user
    page = _listed(alice)
    assert printer.subject in page and screen.subject in page
    assert page.count(">late</span>") == 1 and 'name="requester"' not in page
    assert printer.subject not in _listed(alice, q="flickers")
    assert screen.subject not in _listed(alice, q="Firmware")  # an internal note: not theirs
    assert screen.subject in _listed(alice, q=screen.reference)
    assert printer.subject not in _listed(alice, state="open")
    assert screen.subject not in _listed(alice, state="closed")
    late = _listed(alice, state="late")
    assert screen.subject in late and printer.subject not in late
    assert "No ticket matches." in _listed(alice, q="nothing like this")


def test_an_organization_admin_filters_by_requester(world: World) -> None:
    alices = open_ticket(world.alice, subject="Kiosk of Alice")
    amirs = open_ticket(world.amir, subject="Kiosk of Amir")
    open_ticket(world.bob, subject="Kiosk at Globex")
    amir = world.amir.user
    page = _listed(amir)
    assert 'name="requester"' in page and world.bob.name not in page
    assert "<h1>Tickets of Acme</h1>" in page  # the organization's, not "My tickets"
    mine = _listed(amir, requester=str(world.amir.pk))
    assert amirs.subject in mine and alices.subject not in mine
    stranger = _listed(amir, requester=str(world.bob.pk))  # not theirs to choose: said so
    assert "Select a valid choice" in stranger and "Kiosk at Globex" not in stranger


def _row(page: str, reference: str) -> str:
    return next(row for row in page.split("<tr>") if f"/tickets/{reference}/" in row)


def test_the_promise_columns_say_which_was_late(world: World) -> None:
    """A ticket marked late says where: "done late" for a promise kept after its time, its
    time in red for one still running past it; "done" for one kept in time."""
    screen = open_ticket(world.alice, subject="Kiosk screen flickers")
    Clock.objects.filter(ticket=screen, metric="acknowledgement").update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    row = _row(_listed(world.alice.user), screen.reference)
    assert row.count('<span class="late">') == 1  # the acknowledgement's time, overdue
    with time_machine.travel(datetime(2026, 6, 22, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        services.ticket_reply(ticket=screen, author=world.agent_eu, body="On it.")  # days late
    row = _row(_listed(world.alice.user), screen.reference)
    assert '<span class="late">done late</span>' in row
    assert '<span class="muted">done</span>' not in row
