"""Agents can see why a deadline is where it is: what counted, what did not, and why."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sla.clocks.selectors import clock_explanation
from sla.models import Clock
from tests.factories import World, open_ticket
from tickets import services
from tickets.models import Status

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def test_arrival_after_hours_weekend_and_holiday_are_explained(world: World) -> None:
    # Wednesday 2026-06-03 17:30, after closing; Thursday is Corpus Christi (NW): the clock
    # starts on Friday at 09:00.
    ticket = open_ticket(world.alice, severity="minor", received_at=at(3, 17, 30))
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    explanation = clock_explanation(clock, now=at(8, 12))
    assert [(s.start, s.counted, s.reason) for s in explanation.segments] == [
        (at(3, 17, 30), False, "before opening"),
        (at(4, 0), False, "Corpus Christi"),
        (at(5, 0), False, "before opening"),
        (at(5, 9), True, ""),
        (at(6, 0), False, "weekend"),
        (at(8, 0), True, ""),
    ]
    assert explanation.counted == timedelta(hours=15 + 12)
    assert explanation.counted == sum(
        (s.end - s.start for s in explanation.segments if s.counted), timedelta(0)
    )
    assert explanation.segments[0].start == at(3, 17, 30)
    assert explanation.segments[-1].end == at(8, 12)


def test_waiting_on_the_customer_does_not_count(world: World) -> None:
    with time_machine.travel(at(8, 9), tick=False):
        ticket = open_ticket(world.alice, severity="major")
    with time_machine.travel(at(8, 10), tick=False):
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Which version?")
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=Status.WAITING_ON_CUSTOMER
        )
    with time_machine.travel(at(8, 15), tick=False):
        services.ticket_reply(
            ticket=ticket,
            author=world.alice.user,  # type: ignore[arg-type]
            body="4.2",
        )
    clock = Clock.objects.get(ticket=ticket, metric="correction")
    explanation = clock_explanation(clock, now=at(8, 16))
    assert [(s.start, s.end, s.counted, s.reason) for s in explanation.segments] == [
        (at(8, 9), at(8, 10), True, ""),
        (at(8, 10), at(8, 15), False, "waiting on the customer"),
        (at(8, 15), at(8, 16), True, ""),
    ]
    assert explanation.counted == timedelta(hours=2)


def test_agents_and_the_customer_see_the_same_path_to_the_deadline(world: World) -> None:
    # Blocking on Friday 5 June 15:00: 5 business hours to acknowledge; Friday 15–16, then
    # Monday from 09:00: due Monday 13:00. Read on Monday at 10:00: 2 h counted, and the
    # path on from now: 10:00–13:00, which will count.
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(5, 15))
    url = reverse("tickets:clock-explain", args=[ticket.reference, "acknowledgement"])
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    explanation = clock_explanation(clock, now=at(8, 10))
    assert [(s.start, s.end, s.counted) for s in explanation.ahead] == [
        (at(8, 10), at(8, 13), True)
    ]
    pages = {}
    for who, user in (("agent", world.agent_eu), ("customer", world.alice.user)):
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        with time_machine.travel(at(8, 10), tick=False):
            page = client.get(url)
            ticket_page = client.get(reverse("tickets:detail", args=[ticket.reference]))
        assert page.status_code == 200 and url in ticket_page.content.decode()
        pages[who] = page.content.decode()
    for html in pages.values():
        assert "Weekend" in html and "Outside support hours" in html
        assert "Counted so far" in html and "2 h" in html  # Fri 15–16 and Mon 9–10
        assert "Fri 5 Jun 2026, 15:00 + 5 h of business hours = Mon 8 Jun 2026, 13:00" in html
        assert "From now until the deadline" in html and "will count" in html
    french = Client()
    world.alice.user.language = "fr"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    french.force_login(world.alice.user)  # type: ignore[arg-type]
    with time_machine.travel(at(8, 10), tick=False):
        html = french.get(url).content.decode()
    assert "ven. 5 juin 2026 à 15:00 + 5 h en heures ouvrées = lun. 8 juin 2026 à 13:00" in html
    assert (
        agent_get(world, reverse("tickets:clock-explain", args=[ticket.reference, "bogus"])) == 404
    )
    other = Client()
    other.force_login(world.agent_fr)
    assert other.get(url).status_code == 404
    stranger = Client()
    stranger.force_login(world.bob.user)  # type: ignore[arg-type]
    assert stranger.get(url).status_code == 404


def agent_get(world: World, url: str) -> int:
    agent = Client()
    agent.force_login(world.agent_eu)
    return agent.get(url).status_code


def test_a_stopped_clock_is_explained_in_words_with_the_promise_it_had(world: World) -> None:
    # Blocking on Friday 5 June 15:00: 5 business hours to acknowledge; the Europe desk is
    # open Fridays until 16:00, so 1 h on Friday and 4 h on Monday from 9:00: due Monday 8
    # June at 13:00. Acknowledged on Monday at 10:00 (2 h counted), it stopped: nothing is
    # "left", and the page still says what was promised.
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(5, 15))
    with time_machine.travel(at(8, 10), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    url = reverse("tickets:clock-explain", args=[ticket.reference, "acknowledgement"])
    agent = Client()
    agent.force_login(world.agent_eu)
    with time_machine.travel(at(9, 10), tick=False):
        html = agent.get(url).content.decode()
    assert "Counted in business hours, on the" in html
    assert "business_hours" not in html
    assert "Left" not in html
    assert "<dt>Due</dt><dd>Mon 8 Jun 2026, 13:00</dd>" in html
    assert "<dt>Counted so far</dt><dd>2 h</dd>" in html


def test_the_rows_and_the_total_agree_to_the_minute_shown(world: World) -> None:
    """Received on Monday 15 June at 09:00:00.4 (blocking: 5 business hours), read on
    Wednesday at 10:00:00.3: the clock counted 7 h 59 min 59.6 s on Monday, 8 h on Tuesday and
    1 h 0.3 s on Wednesday, 16 h 59 min 59.9 s in all. The page shows minutes: each row is the
    difference of the From and To it shows (09:00–17:00 is 8 h both days), and the rows add
    up to the total and to what is late (not "7 h 59 min" + "8 h" + "1 h" = "16 h 59 min")."""
    late_start = at(15, 9) + timedelta(milliseconds=400)
    ticket = open_ticket(world.alice, severity="blocking", received_at=late_start)
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    read_at = at(17, 10) + timedelta(milliseconds=300)
    explanation = clock_explanation(clock, now=read_at)
    # The clock itself counts every instant: the seconds are there, to the microsecond.
    assert explanation.counted == timedelta(hours=17) - timedelta(milliseconds=100)
    assert explanation.due_at == at(15, 14) + timedelta(milliseconds=400)
    agent = Client()
    agent.force_login(world.agent_eu)
    url = reverse("tickets:clock-explain", args=[ticket.reference, "acknowledgement"])
    with time_machine.travel(read_at, tick=False):
        html = agent.get(url).content.decode()
    lengths = re.findall(r"</time></td>\s*<td>([^<]*)</td>", html)
    assert lengths == ["8 h", "16 h", "8 h", "16 h", "1 h"]
    assert "<dt>Counted so far</dt><dd>17 h</dd>" in html
    assert "<dt>Late by</dt><dd>12 h</dd>" in html
    assert "7 h 59 min" not in html


def test_a_clock_not_yet_due_is_never_said_late(world: World) -> None:
    """Received at 09:00:50, read 20 s before its due instant: the rows' minutes add up to
    the whole target (09:00 to 14:00 shown), yet the clock is not late — the page says what
    is left, to the minute, and no "Late by"."""
    ticket = open_ticket(
        world.alice, severity="blocking", received_at=at(15, 9) + timedelta(seconds=50)
    )
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    read_at = at(15, 14) + timedelta(seconds=30)  # due at 14:00:50
    assert clock_explanation(clock, now=read_at).counted < clock.target
    agent = Client()
    agent.force_login(world.agent_eu)
    url = reverse("tickets:clock-explain", args=[ticket.reference, "acknowledgement"])
    with time_machine.travel(read_at, tick=False):
        html = agent.get(url).content.decode()
    assert "Late by" not in html and "<dt>Left</dt><dd>1 min</dd>" in html
