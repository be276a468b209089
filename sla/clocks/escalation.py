"""Escalation of SLA clocks: warn before a promise is broken, escalate when it is.

The database is the source of truth. The sweep (sla.tasks) finds crossed clocks through
indexes; each clock is escalated by ``clock_escalate``, which claims the new level with a
conditional UPDATE and writes the notifications in the same transaction: a level fires once
per clock cycle however many workers run, however often, however late.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from sla.clocks.calendar import next_opening
from sla.clocks.selectors import calendar_snapshot_by_id, clocks_to_escalate
from sla.clocks.snapshots import snapshots_by_id
from sla.clocks.values import CalendarSnapshot, NeverOpenError
from sla.models import Clock, EscalationLevel, Notification
from tickets.history import ticket_event_record
from tickets.models import Desk, Severity, Ticket, TicketEvent, User

logger = logging.getLogger(__name__)

KIND_OF_LEVEL = {
    EscalationLevel.WARNED: Notification.Kind.WARNING,
    EscalationLevel.BREACHED: Notification.Kind.BREACH,
    EscalationLevel.HEAD: Notification.Kind.HEAD,
}


@dataclass(frozen=True)
class Escalation:
    clock_id: int
    level: EscalationLevel  # the level reached
    fired: tuple[EscalationLevel, ...]  # the levels notified now
    recipients: tuple[int, ...]
    mail_now: tuple[int, ...]  # recipients whose mail goes out at once
    overtaken: bool = False  # a warning the breach overtook (the workers lagged): not mailed


def crossed_level(clock: Clock, now: datetime) -> EscalationLevel:
    """The highest threshold of the clock that ``now`` has reached."""
    level = EscalationLevel.NONE
    for threshold, reached in (
        (EscalationLevel.WARNED, clock.warn_at),
        (EscalationLevel.BREACHED, clock.due_at),
        (EscalationLevel.HEAD, clock.escalate_at),
    ):
        if reached is not None and reached <= now:
            level = threshold
    return level


def escalation_recipients(ticket: Ticket, level: EscalationLevel) -> list[User]:
    """Warning: the assignee, else the desk's agents. Breach: the desk lead and the managers.
    Far overrun: the head of support."""
    active = User.objects.filter(is_active=True)
    if level == EscalationLevel.WARNED:
        if ticket.assignee is not None and ticket.assignee.is_active:
            return [ticket.assignee]
        return list(active.filter(desks=ticket.desk_id).order_by("pk"))
    if level == EscalationLevel.BREACHED:
        people = list(active.filter(role=User.Role.MANAGER).order_by("pk"))
        lead = ticket.desk.lead
        if lead is not None and lead.is_active and lead not in people:
            people.insert(0, lead)
        return people
    return list(active.filter(head_of_support=True).order_by("pk"))


class _WorkingHours:
    """The calendar of each recipient's own desk (else the ticket's), loaded once per call."""

    def __init__(self, ticket: Ticket) -> None:
        self._ticket = ticket
        self._snapshots: dict[int, CalendarSnapshot] = {}
        self._own: dict[int, int | None] = {}  # each person's first desk's calendar

    def know(self, people: Iterable[User]) -> None:
        """Each person's own calendar (their first desk's, by id), for all in one query."""
        unknown = [person.pk for person in people if person.pk not in self._own]
        if not unknown:
            return
        self._own.update(dict.fromkeys(unknown))
        memberships = Desk.agents.through.objects.filter(user_id__in=unknown).order_by("-desk_id")
        for user_id, calendar_id in memberships.values_list("user_id", "desk__calendar_id"):
            self._own[user_id] = calendar_id  # written last: the desk with the lowest id
        # Their calendars and the ticket's, kept by the process: one query for the versions.
        wanted = {self._own[pk] or self._ticket.clock_calendar_id for pk in unknown}
        self._snapshots.update(snapshots_by_id(wanted - self._snapshots.keys()))

    def _snapshot(self, calendar_id: int) -> CalendarSnapshot:
        if calendar_id not in self._snapshots:
            self._snapshots[calendar_id] = calendar_snapshot_by_id(calendar_id)
        return self._snapshots[calendar_id]

    def next_opening(self, user: User, now: datetime) -> datetime:
        self.know([user])
        own = self._own[user.pk]
        snapshot = self._snapshot(own or self._ticket.clock_calendar_id)
        try:
            return next_opening(snapshot, now)
        except NeverOpenError:
            return now


def _mailed_at_once(ticket: Ticket, level: EscalationLevel) -> bool:
    """True when the mail goes out at once: any breach of a blocking ticket."""
    return ticket.severity == Severity.BLOCKING and level >= EscalationLevel.BREACHED


def _claim(clock: Clock, level: EscalationLevel) -> bool:
    """Move the clock to ``level`` with one conditional UPDATE: False when another worker got
    there first, or the clock changed since it was read."""
    changes: dict[str, object] = {"escalation_level": level}
    if level >= EscalationLevel.BREACHED:
        changes["breached_at"] = Coalesce(F("breached_at"), F("due_at"))
    return bool(
        Clock.objects.filter(
            pk=clock.pk,
            state=Clock.State.RUNNING,
            cycle=clock.cycle,
            escalation_level=clock.escalation_level,
        ).update(**changes)
    )


def _levels_to_fire(before: int, level: EscalationLevel) -> list[EscalationLevel]:
    """The levels above ``before`` up to ``level``, but a warning found together with the
    breach: the breach supersedes it."""
    fired = [
        step
        for step in (EscalationLevel.WARNED, EscalationLevel.BREACHED, EscalationLevel.HEAD)
        if before < step <= level
    ]
    if EscalationLevel.BREACHED in fired and EscalationLevel.WARNED in fired:
        fired.remove(EscalationLevel.WARNED)
    return fired


def _notifications(
    clock: Clock, fired: list[EscalationLevel], now: datetime
) -> tuple[list[Notification], set[int]]:
    """One notification per recipient of each level fired, delivered in the recipient's working
    hours unless it is mailed at once; and the recipients mailed at once."""
    ticket = clock.ticket
    hours = _WorkingHours(ticket)
    notifications: list[Notification] = []
    mail_now: set[int] = set()
    for step in fired:
        at_once = _mailed_at_once(ticket, step)
        people = escalation_recipients(ticket, step)
        if not at_once:
            hours.know(people)
        for person in people:
            notifications.append(
                Notification(
                    recipient=person,
                    ticket=ticket,
                    clock=clock,
                    cycle=clock.cycle,
                    kind=KIND_OF_LEVEL[step],
                    due_at=clock.due_at or now,
                    created_at=now,
                    deliver_after=now if at_once else hours.next_opening(person, now),
                )
            )
            if at_once:
                mail_now.add(person.pk)
    return notifications, mail_now


@transaction.atomic
def clock_escalate(*, clock_id: int, now: datetime) -> Escalation | None:
    """Escalate one clock to the highest threshold it has crossed, each level at most once.

    Every crossed level not yet fired is notified, except a warning found together with the
    breach (a worker down for an hour): the breach supersedes it.
    """
    try:  # get(): no ORDER BY (first() sorts by the model's ordering, a third of its cost)
        clock = Clock.objects.select_related("ticket__desk__lead", "ticket__assignee").get(
            pk=clock_id
        )
    except Clock.DoesNotExist:
        return None
    if clock.state != Clock.State.RUNNING:
        return None
    level = crossed_level(clock, now)
    if level <= clock.escalation_level:
        return None
    if not _claim(clock, level):
        return None  # another worker escalated it first, or the clock just changed
    fired = _levels_to_fire(clock.escalation_level, level)
    overtaken = _overtaken(clock, fired)
    notifications, mail_now = _notifications(clock, fired, now)
    if overtaken:
        _overtaken_record(clock, now)
    for step in fired:
        ticket_event_record(
            ticket_id=clock.ticket_id,
            kind=TicketEvent.Kind.ESCALATION,
            at=now,
            field=clock.metric,
            before=str(clock.escalation_level),
            after=str(step),
            note=KIND_OF_LEVEL[step],
        )
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    logger.info("clock %s of ticket %s escalated to %s", clock.pk, clock.ticket_id, level.label)
    return Escalation(
        clock_id=clock.pk,
        level=level,
        fired=tuple(fired),
        recipients=tuple(sorted({n.recipient_id for n in notifications})),
        mail_now=tuple(sorted(mail_now)),
        overtaken=overtaken,
    )


# The history note of a warning the breach overtook.
OVERTAKEN = "warning_overtaken"


def _overtaken(clock: Clock, fired: list[EscalationLevel]) -> bool:
    """The warning this cycle owed was never sent: the breach fires without it, though the
    warning instant came after the cycle began (not a clock made late at once by a change)."""
    if clock.escalation_level >= EscalationLevel.WARNED or EscalationLevel.WARNED in fired:
        return False
    if clock.warn_at is None:
        return False
    began = (
        TicketEvent.objects.filter(
            ticket_id=clock.ticket_id, kind=TicketEvent.Kind.CLOCK, field=clock.metric
        )
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return began is None or clock.warn_at > began


def _overtaken_record(clock: Clock, now: datetime) -> None:
    """Say so, on the ticket and in the log, when the warning was never sent because the
    escalation ran after the deadline itself (workers down or lagging)."""
    late = now - clock.warn_at if clock.warn_at is not None else None
    ticket_event_record(
        ticket_id=clock.ticket_id,
        kind=TicketEvent.Kind.ESCALATION,
        at=now,
        field=clock.metric,
        before=str(EscalationLevel.NONE),
        after=str(EscalationLevel.WARNED),
        note=OVERTAKEN,
    )
    logger.warning(
        "clock %s of ticket %s: the warning due at %s was overtaken by the breach (%s late)",
        clock.pk,
        clock.ticket_id,
        clock.warn_at,
        late,
    )


@transaction.atomic
def clocks_dispatch(*, now: datetime, limit: int = 5000) -> list[int]:
    """Claim the clocks to escalate now: those crossed and not queued within the lease, skipping
    any another transaction holds (a sweep or an escalation under way, on PostgreSQL); mark
    them queued. The caller queues their escalation."""
    found = clocks_to_escalate(now=now, limit=limit)
    if not found:
        return []
    claimed = list(
        Clock.objects.select_for_update(skip_locked=True)
        .filter(pk__in=found)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Clock.objects.filter(pk__in=claimed).update(dispatched_at=now)
    return claimed


def clocks_dispatched_done(clock_ids: list[int]) -> None:
    """The escalations of these clocks ran: a later threshold may queue them again."""
    Clock.objects.filter(pk__in=clock_ids).update(dispatched_at=None)
