"""Tags (issue 23, point 3): agents tag tickets, the history says who added or removed which,
the queue and the SLA report filter by them; customers never see them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for, open_ticket
from tickets.exceptions import TicketError
from tickets.models import Tag, TicketEvent
from tickets.services.tags import ticket_set_tags

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


JUNE = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _staff(user):  # type: ignore[no-untyped-def]
    client = client_for(user)
    pass_second_factor(client, user)
    return client


def test_agents_tag_and_the_queue_filters(world: World) -> None:
    printer = open_ticket(world.alice, subject="Receipts do not print")
    screen = open_ticket(world.alice, subject="Screen flickers")
    anna = _staff(world.agent_eu)
    anna.post(f"/tickets/{printer.reference}/tags/", {"tags": " Printer,  Kiosk 12 , printer"})
    assert sorted(printer.tags.values_list("name", flat=True)) == ["kiosk 12", "printer"]
    page = anna.get(f"/tickets/{printer.reference}/").content.decode()
    assert 'value="kiosk 12, printer"' in page and ">kiosk 12</a>" in page
    queue = anna.get("/desk/", {"view": "all", "tag": "PRINTER"}).content.decode()
    assert printer.subject in queue and screen.subject not in queue
    # Changed: the history says what was added and removed, to staff only.
    ticket_set_tags(ticket=printer, actor=world.agent_eu, text="printer, firmware 4.2")
    event = TicketEvent.objects.filter(ticket=printer, kind="tags").latest("pk")
    assert (event.after, event.before) == ("firmware 4.2", "kiosk 12")
    page = anna.get(f"/tickets/{printer.reference}/").content.decode()
    assert "added the tags" in page and "and removed" in page
    customer = client_for(world.alice.user).get(f"/tickets/{printer.reference}/").content.decode()
    assert "firmware 4.2" not in customer and "printer</a>" not in customer


def test_bad_tags_and_strangers_change_nothing(world: World) -> None:
    ticket = open_ticket(world.alice)
    ticket_set_tags(ticket=ticket, actor=world.agent_eu, text="printer")
    for text in ["<script>", "x" * 40, ", ".join(f"t{i}" for i in range(9))]:
        with pytest.raises(TicketError):
            ticket_set_tags(ticket=ticket, actor=world.agent_eu, text=text)
    with pytest.raises(TicketError):
        ticket_set_tags(ticket=ticket, actor=world.agent_fr, text="stolen")  # another desk
    assert list(ticket.tags.values_list("name", flat=True)) == ["printer"]
    assert client_for(world.alice.user).post(
        f"/tickets/{ticket.reference}/tags/", {"tags": "mine"}
    ).status_code in (403, 404)
    assert list(Tag.objects.values_list("name", flat=True)) == ["printer"]


@time_machine.travel(JUNE)
def test_the_sla_report_filters_by_tag(world: World) -> None:
    tagged = open_ticket(world.alice, subject="Tagged")
    open_ticket(world.alice, subject="Untagged")
    ticket_set_tags(ticket=tagged, actor=world.agent_eu, text="printer")
    manager = _staff(world.manager)
    every = manager.get("/desk/reports/", {"period": "month", "month": "2026-06"})
    only = manager.get("/desk/reports/", {"period": "month", "month": "2026-06", "tag": "printer"})
    assert every.status_code == only.status_code == 200
    assert every.context["report"].received == 2 and only.context["report"].received == 1
    unknown = manager.get("/desk/reports/", {"period": "month", "month": "2026-06", "tag": "nope"})
    assert unknown.status_code == 400
