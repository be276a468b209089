"""What the tests of the promises kept in rounds share: June 2026 on the europe calendar
(the 8th is a Monday), a policy with both promises, and the steps of a conversation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from sla.clocks.selectors import calendar_snapshot_by_slug
from sla.clocks.values import ClockKind
from sla.models import Clock
from tests.factories import World
from tests.sla.naive import naive_add
from tickets import services
from tickets.models import Message, Ticket, User

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """June 2026: the 8th is a Monday."""
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def reply(who: User, ticket: Ticket, when: datetime, **kwargs: object) -> Message:
    with time_machine.travel(when, tick=False):
        return services.ticket_reply(ticket=ticket, author=who, body="A message.", **kwargs)  # type: ignore[arg-type]  # keyword arguments of ticket_reply


def status(world: World, ticket: Ticket, value: str, when: datetime, reason: str = "") -> None:
    with time_machine.travel(when, tick=False):
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=value, pause_reason=reason
        )


def rounds(ticket: Ticket, metric: str) -> list[Clock]:
    return list(Clock.objects.filter(ticket=ticket, metric=metric).order_by("round"))


def europe_add(kind: ClockKind, start: datetime, amount: timedelta) -> datetime:
    return naive_add(calendar_snapshot_by_slug("europe"), kind, start, amount)


def reclassify(world: World, ticket: Ticket, severity: str, when: datetime) -> None:
    with time_machine.travel(when, tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity=severity, reason="Reassessed"
        )
