"""The agent queue: saved views, filters, search, SLA badges, the live fragment, bulk changes,
and logging a phone call as a new ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sla.clocks.values import ClockKind
from sla.models import Clock
from tests.factories import World, open_ticket
from tickets import services
from tickets.models import Message, Status, Ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
QUEUE = "/desk/"


@pytest.fixture
def agent(world: World) -> Client:
    client = Client()
    client.force_login(world.agent_eu)
    return client


def shown(client: Client, **params: str) -> str:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return response.content.decode()


# --- views, filters and search ------------------------------------------------------------------


def test_saved_views(world: World, agent: Client) -> None:
    mine = open_ticket(world.alice, subject="Mine to fix")
    services.ticket_assign(ticket=mine, actor=world.agent_eu, assignee=world.agent_eu)
    loose = open_ticket(world.alice, subject="Nobody has it")
    late = open_ticket(world.alice, subject="Already late")
    risky = open_ticket(world.alice, subject="Getting close")
    now = timezone.now()
    Clock.objects.filter(ticket=late, metric="acknowledgement").update(
        due_at=now - timedelta(hours=1), warn_at=now - timedelta(hours=2)
    )
    Clock.objects.filter(ticket=risky, metric="acknowledgement").update(
        due_at=now + timedelta(hours=1), warn_at=now - timedelta(minutes=5)
    )
    page = shown(agent, view="mine")
    assert mine.subject in page and loose.subject not in page
    page = shown(agent, view="unassigned")
    assert loose.subject in page and mine.subject not in page
    page = shown(agent, view="breached")
    assert late.subject in page and risky.subject not in page and loose.subject not in page
    page = shown(agent, view="at_risk")
    assert risky.subject in page and late.subject not in page and loose.subject not in page
    page = shown(agent, view="nonsense")
    assert all(t.subject in page for t in (mine, loose, late, risky))


def test_filters_narrow_and_never_widen(world: World, agent: Client) -> None:
    blocking = open_ticket(world.alice, subject="Blocking one", severity="blocking")
    minor = open_ticket(world.alice, subject="Minor one", severity="minor")
    other = open_ticket(world.bob, subject="France desk ticket")
    page = shown(agent, severity="blocking")
    assert blocking.subject in page and minor.subject not in page
    services.ticket_acknowledge(ticket=minor, actor=world.agent_eu)
    page = shown(agent, status="acknowledged")
    assert minor.subject in page and blocking.subject not in page
    page = shown(agent, desk=str(world.france.pk))
    assert other.subject not in page and "Select a valid choice" in page
    page = shown(agent, organization=str(world.acme.pk))
    assert blocking.subject in page
    services.ticket_assign(ticket=minor, actor=world.agent_eu, assignee=world.agent_eu)
    page = shown(agent, assignee="none")
    assert blocking.subject in page and minor.subject not in page
    page = shown(agent, assignee=str(world.agent_eu.pk))
    assert minor.subject in page and blocking.subject not in page
    assert other.subject not in shown(agent)


def test_search_by_reference_subject_requester_and_text(world: World, agent: Client) -> None:
    target = open_ticket(world.alice, subject="Printer jams", body="Paper tray 2 is stuck.")
    decoy = open_ticket(world.amir, subject="Screen flickers")
    hidden = open_ticket(world.bob, subject="Printer in Lyon")
    services.ticket_reply(ticket=target, author=world.agent_eu, body="Try the blue lever.")
    # The bare number finds the ticket (it may also match text containing it).
    assert target.subject in shown(agent, q=str(target.pk))
    for query in (
        target.reference,
        "printer",
        world.alice.name,
        world.alice.email.upper(),
        "tray 2",
        "blue lever",
    ):
        page = shown(agent, q=query)
        assert target.subject in page, query
        assert decoy.subject not in page and hidden.subject not in page, query


def test_the_htmx_fragment_is_the_table_alone(world: World, agent: Client) -> None:
    blocking = open_ticket(world.alice, subject="Blocking one", severity="blocking")
    minor = open_ticket(world.alice, subject="Minor one", severity="minor")
    response = agent.get(QUEUE, {"severity": "blocking"}, headers={"HX-Target": "queue-table"})
    html = response.content.decode()
    assert 'id="queue-table"' in html and "<html" not in html
    assert blocking.subject in html and minor.subject not in html
    assert "severity=blocking" in html  # the next refresh keeps the filters


# --- SLA badges ---------------------------------------------------------------------------------


def test_badges_count_business_hours_left_then_amber_then_red(
    world: World, agent: Client, settings: Any
) -> None:
    """Europe desk: Mon-Thu 9:00-17:00 in Berlin; a blocking ticket is acknowledged within 5
    business hours, warned at 75 %. Filed Monday 8 June 2026 at 16:00: 1 h on Monday, the
    other 4 h on Tuesday from 9:00, so due Tuesday 13:00; the warning after 3 h 45 min of
    counted time, Tuesday 11:45. At Monday 16:30 there are 30 min + 4 h = 4 h 30 min left,
    though 20 h 30 min of wall time."""
    settings.PACTE_STAFF_IDLE_MINUTES = 2 * 24 * 60  # one session across the two days looked at
    monday = datetime(2026, 6, 8, 16, 0, tzinfo=BERLIN)
    ticket = open_ticket(world.alice, severity="blocking", received_at=monday)
    clock = ticket.clocks.get(metric="acknowledgement")
    assert clock.kind == ClockKind.BUSINESS_HOURS
    assert clock.due_at == datetime(2026, 6, 9, 13, 0, tzinfo=BERLIN)
    assert clock.warn_at == datetime(2026, 6, 9, 11, 45, tzinfo=BERLIN)

    with time_machine.travel(datetime(2026, 6, 8, 16, 30, tzinfo=BERLIN), tick=False):
        page = shown(agent)
    assert "4 h 30 min left" in page and "badge sla-ok" in page
    with time_machine.travel(datetime(2026, 6, 9, 11, 46, tzinfo=BERLIN), tick=False):
        page = shown(agent)
    assert "badge sla-warning" in page and "1 h 14 min left" in page
    with time_machine.travel(datetime(2026, 6, 9, 13, 30, tzinfo=BERLIN), tick=False):
        page = shown(agent)
    assert "badge sla-breached" in page and "overdue by 30 min" in page


def test_badges_show_the_due_instant_in_the_readers_zone_so_rows_compare(
    world: World, agent: Client, settings: Any
) -> None:
    """Each badge leads with its due instant in the agent's time zone: on Friday evening a
    ticket due Monday 09:00 says "Mon 09:00" (its business time left is small print), one due
    tomorrow says so, and one already late says since when. In French, in New York, too."""
    settings.PACTE_STAFF_IDLE_MINUTES = 7 * 24 * 60
    friday = datetime(2026, 6, 12, 19, 0, tzinfo=BERLIN)
    due = {
        "Due Monday": datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN),
        "Due tomorrow": datetime(2026, 6, 13, 10, 30, tzinfo=BERLIN),
        "Late since Thursday": datetime(2026, 6, 11, 17, 0, tzinfo=BERLIN),
        "Due in July": datetime(2026, 7, 2, 9, 0, tzinfo=BERLIN),
    }
    for subject, at in due.items():
        ticket = open_ticket(world.alice, subject=subject, received_at=friday - timedelta(days=9))
        ticket.clocks.exclude(metric="acknowledgement").delete()
        ticket.clocks.update(due_at=at, warn_at=at, breached_at=None)
    user = world.agent_eu
    for zone, language, expected in [
        ("Europe/Berlin", "en", ["Mon 09:00", "tomorrow 10:30", "yesterday 17:00", "2 Jul 09:00"]),
        ("Europe/Berlin", "fr", ["lun. 09:00", "demain 10:30", "hier 17:00", "2 juil. 09:00"]),
        (
            "America/New_York",
            "en",
            ["Mon 03:00", "tomorrow 04:30", "yesterday 11:00", "2 Jul 03:00"],
        ),
    ]:
        user.time_zone, user.language = zone, language
        user.save(update_fields=["time_zone", "language"])
        with time_machine.travel(friday, tick=False):
            page = shown(agent)
        for text in expected:
            assert f">{text}</time>" in page, (zone, language, text)
    assert "Mon 03:00" in page and 'title="Acknowledgement · due Mon 15 Jun 2026, 03:00"' in page


def test_due_instant_words() -> None:
    from django.utils import translation

    from tickets.templatetags.pacte import due_instant

    now = datetime(2026, 12, 31, 22, 0, tzinfo=BERLIN)
    with timezone.override(BERLIN), translation.override("en"):
        assert due_instant(now + timedelta(hours=1), now) == "today 23:00"
        assert due_instant(now + timedelta(hours=3), now) == "tomorrow 01:00"
        assert due_instant(now - timedelta(days=1), now) == "yesterday 22:00"
        assert due_instant(now + timedelta(days=3), now) == "Sun 22:00"
        assert due_instant(now + timedelta(days=8), now) == "Fri 8 Jan 2027, 22:00"
        assert due_instant(now - timedelta(days=8), now) == "23 Dec 22:00"
        assert due_instant(None, now) == "—"
    with timezone.override(BERLIN), translation.override("fr"):
        assert due_instant(now + timedelta(hours=1), now) == "aujourd’hui 23:00"
        assert due_instant(now + timedelta(days=3), now) == "dim. 22:00"
        assert due_instant(now + timedelta(days=8), now) == "ven. 8 jan. 2027 à 22:00"


def test_the_order_nearest_deadline_then_most_severe_then_oldest_none_last(
    world: World, agent: Client
) -> None:
    """The order the database keeps in the ticket's queue columns, whatever wrote the row (a
    bulk update included): an index gives the first page without sorting every open ticket."""
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    made = {
        name: open_ticket(world.alice, subject=name, severity=severity, received_at=monday + age)
        for name, severity, age in [
            ("Minor due at ten", "minor", timedelta(minutes=1)),
            ("Major due at ten, newer", "major", timedelta(minutes=3)),
            ("Major due at ten, older", "major", timedelta(minutes=2)),
            ("Blocking due at noon", "blocking", timedelta(minutes=4)),
            ("No deadline", "blocking", timedelta(minutes=5)),
            ("Closed", "blocking", timedelta(minutes=6)),
        ]
    }
    due = {name: monday + timedelta(hours=1) for name in made}
    due["Blocking due at noon"], due["No deadline"] = monday + timedelta(hours=3), None
    for name, ticket in made.items():
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due[name])
    Ticket.objects.filter(pk=made["Closed"].pk).update(status=Status.CLOSED)
    page = shown(agent)
    order = sorted((page.index(f"> {name}</a>"), name) for name in made if name != "Closed")
    assert [name for _, name in order] == [
        "Major due at ten, older",
        "Major due at ten, newer",
        "Minor due at ten",
        "Blocking due at noon",
        "No deadline",
    ]
    assert "> Closed</a>" not in page


def test_queue_queries_do_not_grow_with_rows(world: World, agent: Client) -> None:
    """At most ten queries a page, whatever the rows (the savepoints are the test's)."""

    def count(**params: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            agent.get(QUEUE, params)
        return sum(1 for q in queries if "SAVEPOINT" not in q["sql"])

    for i in range(3):
        open_ticket(world.alice, subject=f"Ticket {i}")
    few = (count(), count(severity="major"), count(q="Ticket"))
    for i in range(27):
        open_ticket(world.amir if i % 2 else world.alice, subject=f"Ticket {i + 3}")
    assert (count(), count(severity="major"), count(q="Ticket")) == few
    assert max(few) <= 10, few


# --- bulk ---------------------------------------------------------------------------------------


def bulk(client: Client, tickets: list[Ticket], **data: str) -> str:
    response = client.post(
        reverse("desk:bulk"), {"tickets": [t.pk for t in tickets], "next": "/desk/", **data}
    )
    assert response.status_code == 302
    return response["Location"]


def test_bulk_assign_unassign_and_status(world: World, agent: Client) -> None:
    a, b = open_ticket(world.alice), open_ticket(world.amir)
    bulk(agent, [a, b], assignee=str(world.agent_eu.pk))
    assert {t.assignee for t in Ticket.objects.filter(pk__in=[a.pk, b.pk])} == {world.agent_eu}
    bulk(agent, [a, b], status="acknowledged")
    assert set(Ticket.objects.values_list("status", flat=True)) == {"acknowledged"}
    bulk(agent, [a], assignee="none")
    a.refresh_from_db()
    assert a.assignee is None


def test_bulk_is_all_or_nothing(world: World, agent: Client) -> None:
    ok, refused = open_ticket(world.alice), open_ticket(world.alice)
    services.ticket_acknowledge(ticket=ok, actor=world.agent_eu)
    # "Waiting on customer" is allowed from acknowledged, not from new.
    bulk(agent, [ok, refused], status="waiting_on_customer", assignee=str(world.agent_eu.pk))
    ok.refresh_from_db()
    refused.refresh_from_db()
    assert ok.status == "acknowledged" and ok.assignee is None
    assert refused.status == "new" and refused.assignee is None
    messages = [str(m) for m in agent.get("/desk/").context["messages"]]
    assert any(refused.reference in m and "Nothing was changed" in m for m in messages)


def test_bulk_refusals_change_nothing(world: World, agent: Client) -> None:
    mine, theirs = open_ticket(world.alice), open_ticket(world.bob)
    bulk(agent, [mine, theirs], status="closed")
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}
    bulk(agent, [], status="closed")
    bulk(agent, [mine])
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}
    assert bulk(agent, [mine], status="acknowledged").endswith("/desk/")
    response = agent.post(
        reverse("desk:bulk"),
        {"tickets": [mine.pk], "status": "in_progress", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("desk:queue")
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    response = customer.post(reverse("desk:bulk"), {"tickets": [mine.pk], "status": "closed"})
    assert response.status_code == 404


# --- a phone call as a new ticket ---------------------------------------------------------------


def call(client: Client, **data: str) -> int:
    fields = {
        "subject": "Called: kiosk offline",
        "severity": "major",
        "description": "Kiosk 12 is offline since 8:00.",
        **data,
    }
    return client.post(reverse("desk:call"), fields).status_code


def test_a_call_opens_a_ticket_on_the_phone_channel_from_the_time_of_the_call(
    world: World, agent: Client
) -> None:
    assert agent.get(reverse("desk:call")).status_code == 200
    with time_machine.travel(datetime(2026, 6, 8, 11, 0, tzinfo=BERLIN), tick=False):
        status = call(
            agent, contact=str(world.alice.pk), called_at="2026-06-08T10:15", acknowledged="on"
        )
    assert status == 302
    ticket = Ticket.objects.get()
    called = datetime(2026, 6, 8, 10, 15, tzinfo=BERLIN)
    assert ticket.channel == "phone" and ticket.received_at == called
    assert ticket.status == Status.ACKNOWLEDGED
    ack = ticket.clocks.get(metric="acknowledgement")
    assert ack.started_at == called and ack.stopped_at == called and ack.outcome == "met"
    first = Message.objects.get(ticket=ticket)
    assert first.author == world.agent_eu and first.author_contact == world.alice


# The calls below happen on Monday 8 June 2026 at 10:30 in Paris, the agent's zone: with the
# real clock, a local time of the hour that DST repeats or skips would be refused for that.
CALL_DAY = datetime(2026, 6, 8, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_a_call_not_acknowledged_stays_new(world: World, agent: Client) -> None:
    with time_machine.travel(CALL_DAY, tick=False):
        assert call(agent, contact=str(world.alice.pk), called_at="2026-06-08T10:30") == 302
    assert Ticket.objects.get().status == Status.NEW


def test_refused_calls_open_nothing(world: World, agent: Client) -> None:
    alice = str(world.alice.pk)
    with time_machine.travel(CALL_DAY, tick=False):
        assert call(agent, contact=str(world.bob.pk), called_at="2026-06-08T10:30") == 400
        assert call(agent, contact=alice, called_at="2026-06-08T12:30") == 400  # 2 h ahead
        assert call(agent, contact=alice, called_at="2026-05-31T10:30") == 400  # 8 days ago
        assert call(agent, contact=alice, called_at="", subject="") == 400
    assert not Ticket.objects.exists()
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    assert customer.get(reverse("desk:call")).status_code == 404


def test_waiting_chats_lead_the_queue_as_rows(world: World, agent: Client, settings: Any) -> None:
    """A chat waiting for an agent is a row at the top of the first page, saying for how long
    the customer has waited and opening the conversation; once an agent takes it, it is a
    ticket among the others. The queue's filters apply to it as to any ticket."""
    from tickets.channels.chat.services import chat_accept, chat_start
    from tickets.models import ChatSession

    wednesday = datetime(2026, 6, 17, 10, 0, tzinfo=BERLIN)
    with time_machine.travel(wednesday, tick=False):
        for i in range(3):
            open_ticket(world.alice, subject=f"Older ticket {i}", severity="blocking")
    with time_machine.travel(wednesday + timedelta(minutes=5), tick=False):
        session = chat_start(
            contact=world.alice, actor=world.alice.user, text="Is anyone there?", severity="minor"
        )
    assert session.state == ChatSession.State.WAITING
    with time_machine.travel(wednesday + timedelta(minutes=12), tick=False):
        page = shown(agent)
        assert page.count(f"sel-{session.ticket.pk}") == 1  # a chat row, not a second row too
        first = page.index("<tbody>") + page[page.index("<tbody>") :].index("<tr ")
        assert page[first:].startswith(f'<tr data-href="/chat/{session.ticket.reference}/"')
        assert "chat waiting" in page and "for 7 min" in page
        assert "Older ticket 0" in page
        assert f"sel-{session.ticket.pk}" not in shown(agent, severity="blocking")
        chat_accept(session=session, agent=world.agent_eu)
        page = shown(agent)
    assert "chat waiting" not in page and f"sel-{session.ticket.pk}" in page
