"""Customer satisfaction (issue 23, point 4): after resolution, one click in the mail or on the
ticket's page rates the help good or bad, with an optional comment; managers read the ratings
by desk and by agent on the SLA report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.models import OutboundMail, SatisfactionRating, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


JUNE = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _resolved(world: World, subject: str = "Receipts do not print") -> Ticket:
    ticket = open_ticket(world.alice, subject=subject)
    services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_eu)
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Fixed.", then_status="resolved"
    )
    return Ticket.objects.get(pk=ticket.pk)


def _links(ticket: Ticket) -> dict[str, str]:
    mail = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).latest("pk")
    found = dict(re.findall(r"(?m)^(Good|Bad): (http\S+)$", mail.text))
    assert set(found) == {"Good", "Bad"}, mail.text
    return {k.lower(): v.split("127.0.0.1:8000", 1)[-1] for k, v in found.items()}


@time_machine.travel(JUNE)
def test_the_resolution_mail_rates_in_one_click_without_signing_in(world: World) -> None:
    ticket = _resolved(world)
    links = _links(ticket)
    anonymous = Client()
    page = anonymous.get(links["bad"]).content.decode()
    # The page records the choice as it opens (its script); a link scanner records nothing.
    assert "data-submit-on-load" in page
    assert re.search(r'<input type="radio" name="score" value="bad"[^>]* checked', page)
    assert not SatisfactionRating.objects.exists()
    token_url = links["bad"].split("?")[0]
    assert anonymous.post(token_url, {"score": "bad"}).status_code == 200
    anonymous.post(token_url, {"score": "bad", "comment": "Took three days."})
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment, rating.agent, rating.desk) == (
        "bad",
        "Took three days.",
        world.agent_eu,
        ticket.desk,
    )
    # Changed later from the other link: one rating a ticket, the comment kept.
    anonymous.post(token_url, {"score": "good"})
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment) == ("good", "Took three days.")
    assert "data-submit-on-load" not in anonymous.get(links["good"]).content.decode()  # rated


def test_bad_links_and_open_tickets_change_nothing(world: World) -> None:
    ticket = _resolved(world)
    token_url = _links(ticket)["good"].split("?")[0]
    assert Client().post(token_url[:-3] + "xyz/", {"score": "good"}).status_code == 404
    assert Client().post(token_url, {"score": "excellent"}).status_code == 400
    with time_machine.travel(timedelta(days=31)):
        assert Client().post(token_url, {"score": "good"}).status_code == 404  # expired
    services.ticket_reopen(ticket=ticket, actor=world.alice.user)
    response = Client().post(token_url, {"score": "good"})
    assert response.status_code == 400 and "once it is resolved" in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_the_ticket_page_rates_and_only_its_customer_may(world: World) -> None:
    ticket = _resolved(world)
    alice = client_for(world.alice.user)
    page = alice.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "How did we do on this ticket?" in page
    alice.post(f"/tickets/{ticket.reference}/satisfaction/", {"score": "good"})
    assert SatisfactionRating.objects.get().score == "good"
    assert (
        "You rated our help: good." in alice.get(f"/tickets/{ticket.reference}/").content.decode()
    )
    agent = client_for(world.agent_eu)
    pass_second_factor(agent, world.agent_eu)
    assert (
        agent.post(f"/tickets/{ticket.reference}/satisfaction/", {"score": "bad"}).status_code
        == 404
    )
    bob = client_for(world.bob.user)
    assert (
        bob.post(f"/tickets/{ticket.reference}/satisfaction/", {"score": "bad"}).status_code == 404
    )
    assert SatisfactionRating.objects.get().score == "good"


@time_machine.travel(JUNE)
def test_the_sla_report_shows_ratings_by_desk_and_agent(world: World) -> None:
    for subject, score, comment in [
        ("One", "good", ""),
        ("Two", "good", ""),
        ("Three", "bad", "Nobody called back."),
    ]:
        services.satisfaction_rate(ticket=_resolved(world, subject), score=score, comment=comment)
    manager = client_for(world.manager)
    pass_second_factor(manager, world.manager)
    page = manager.get("/desk/reports/", {"period": "month", "month": "2026-06"}).content.decode()
    section = page[page.index('id="satisfaction-title"') :]
    section = section[: section.index("</section>")]
    name = world.agent_eu.get_full_name() or world.agent_eu.username
    assert re.search(
        rf"<td>{re.escape(name)}</td><td class=\"num\">2</td><td class=\"num\">1</td>", section
    )
    assert "Nobody called back." in section and "67" in section
