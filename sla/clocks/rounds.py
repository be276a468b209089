"""The promises kept in rounds (SLA-RULES.md, "Pause reasons and further promises").

- **Next reply**: a customer's public message starts a round when none is owed and the
  acknowledgement is already kept (before that, the acknowledgement answers it); the next public
  reply of support (a logged call included) stops it, met or breached.
- **Periodic update**: while the ticket is open, an update is due *target* after its arrival or
  the last public reply of support, whichever is later; each such reply ends the round and
  starts the next.

A round pauses as the clock it stands beside: a next reply as the acknowledgement (a pause
reason that pauses it), an update as the correction (waiting on the customer, or a reason that
pauses the correction). Resolution stops the round under way; a reopen resumes the update
round, or starts a new one when support replied while the ticket was resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet

from sla.clocks.deadlines import Run
from sla.clocks.moves import Downgrades, begin, recompute, resume, stop
from sla.clocks.selectors import clock_runs
from sla.clocks.values import CalendarSnapshot
from sla.models import ROUND_METRICS, Clock, Metric, SlaTarget, StopReason
from tickets.models import Message, Status, Ticket, User

STOPPED = Clock.State.STOPPED


def paused_now(ticket: Ticket) -> set[str]:
    """The promises the ticket's status pauses: waiting on the customer the correction and the
    update; on hold, those its reason names; any other status none."""
    if ticket.status == Status.WAITING_ON_CUSTOMER:
        return {Metric.CORRECTION, Metric.UPDATE}
    reason = ticket.pause_reason if ticket.status == Status.ON_HOLD else None
    return {m for m in Metric if reason is not None and reason.pauses(m)}


def _owed(clock: Clock | None) -> bool:
    return clock is not None and clock.state != STOPPED


def _public(ticket: Ticket, *, from_agent: bool) -> QuerySet[Message]:
    return Message.objects.filter(
        ticket=ticket,
        from_agent=from_agent,
        is_internal=False,
        is_automatic=False,
        from_outside=False,
    )


def _last_reply_at(ticket: Ticket) -> datetime | None:
    replies = _public(ticket, from_agent=True).order_by("-received_at")
    return replies.values_list("received_at", flat=True).first()


class Rounds:
    """The rounds of one ticket, as ``clocks_apply`` read them (locked), and its targets."""

    def __init__(
        self,
        ticket: Ticket,
        clocks: Sequence[Clock],
        targets: dict[str, SlaTarget],
        cal: CalendarSnapshot,
        actor: User | None,
    ) -> None:
        self.ticket = ticket
        self.ack = next((c for c in clocks if c.metric == Metric.ACKNOWLEDGEMENT), None)
        self.all = [c for c in clocks if c.metric in ROUND_METRICS]
        self.current: dict[str, Clock] = {}
        for clock in sorted(self.all, key=lambda c: c.round):
            self.current[clock.metric] = clock
        self.targets = targets
        self.cal = cal
        self.actor = actor

    def _next_number(self, metric: str) -> int:
        clock = self.current.get(metric)
        return clock.round + 1 if clock else 1

    def _begin(self, metric: str, at: datetime, origin: datetime, runs: list[Run]) -> None:
        held = self.ticket.pause_reason if self.ticket.status == Status.ON_HOLD else None
        clock = begin(
            self.ticket,
            metric,
            self.targets[metric],
            self.cal,
            at,
            self.actor,
            origin=origin,
            number=self._next_number(metric),
            runs=runs,
            # A round that starts paused on hold says why, as a pause does.
            paused_for=held.slug if held is not None else "",
        )
        self.all.append(clock)
        self.current[metric] = clock

    def _runs_from(self, origin: datetime, at: datetime, metric: str) -> list[Run]:
        """From ``origin`` on, running unless the status pauses ``metric`` now."""
        return [(origin, at if metric in paused_now(self.ticket) else None)]

    def _missing(self, metric: str) -> bool:
        """The ticket is open and owes no round of a promise its severity makes."""
        owed = _owed(self.current.get(metric))
        return metric in self.targets and self.ticket.is_open and not owed

    def customer_wrote(self, at: datetime) -> None:
        """A customer's public message: a next reply is owed, unless one already is (the
        oldest unanswered message counts) or the acknowledgement still runs."""
        if self._missing(Metric.NEXT_REPLY) and not _owed(self.ack):
            self._begin(Metric.NEXT_REPLY, at, at, self._runs_from(at, at, Metric.NEXT_REPLY))

    def acknowledged_silently(self, at: datetime) -> None:
        """Acknowledged without a word to the customer: the messages they added since the
        opening one are still unanswered, and the oldest is owed a reply from its own time."""
        if not self._missing(Metric.NEXT_REPLY):
            return
        replied = _last_reply_at(self.ticket)
        self._owe_oldest_after(max(self.ticket.received_at, replied or self.ticket.received_at), at)

    def _owe_oldest_after(self, since: datetime, at: datetime) -> None:
        """A next reply owed for the customer's oldest public message after ``since``, counted
        from its own time (nothing when there is none)."""
        unanswered = _public(self.ticket, from_agent=False).filter(received_at__gt=since)
        oldest = unanswered.order_by("received_at").values_list("received_at", flat=True).first()
        if oldest is not None:
            runs = self._runs_from(oldest, at, Metric.NEXT_REPLY)
            self._begin(Metric.NEXT_REPLY, at, oldest, runs)

    def support_replied(
        self,
        at: datetime,
        reason: StopReason,
        message: Message | None,
        downgrades: Downgrades,
    ) -> None:
        """A public reply of support: it answers the next reply owed, and ends the update
        round; a new round starts from it while the ticket is open. A call logged with an
        earlier time answers nothing said after it, and ends no round begun after it."""
        reply = self.current.get(Metric.NEXT_REPLY)
        if reply is not None and _owed(reply) and reply.origin <= at:
            stop(reply, self.cal, at, self.actor, reason, message, downgrades)
        update = self.current.get(Metric.UPDATE)
        if Metric.UPDATE not in self.targets or not self.ticket.is_open:
            return
        if update is not None and update.origin > at:
            return
        if update is not None and update.state != STOPPED:
            stop(update, self.cal, at, self.actor, reason, message, downgrades)
        self._begin(Metric.UPDATE, at, at, self._runs_from(at, at, Metric.UPDATE))

    def resolved(
        self, at: datetime, reason: StopReason, message: Message | None, downgrades: Downgrades
    ) -> None:
        for clock in list(self.current.values()):
            if clock.state != STOPPED:
                stop(clock, self.cal, at, self.actor, reason, message, downgrades)

    def reopened(self, at: datetime) -> None:
        """The update round stopped by the resolution resumes with the ticket; a new one counts
        from the reopen when support replied while it was resolved, or when none was owed
        then (the severity had no such promise): its origin is the last reply, or the
        arrival."""
        if not self._missing(Metric.UPDATE):
            return
        update = self.current.get(Metric.UPDATE)
        replied = _last_reply_at(self.ticket)
        resolved = update is not None and update.stop_reason in (
            StopReason.RESOLVED,
            StopReason.CLOSED,
        )
        stopped = update.stopped_at if update is not None else None
        if (
            update is not None
            and resolved
            and (replied is None or not stopped or replied <= stopped)
        ):
            resume(update, self.cal, at, self.actor)
            return
        origin = max(self.ticket.received_at, replied or self.ticket.received_at)
        self._begin(Metric.UPDATE, at, origin, self._runs_from(at, at, Metric.UPDATE))

    def messages_moved(self) -> None:
        """A duplicate's messages merged in: the oldest the ticket has not answered is owed a
        reply, as if it had been written here."""
        if self._missing(Metric.NEXT_REPLY):
            self._gain(Metric.NEXT_REPLY, self.ticket.updated_at, None)

    def reclassified(self, at: datetime, downgrades: Downgrades, correction: Clock | None) -> None:
        """Every round counted again under the new severity's target; the round under way of a
        promise the new severity lacks stops now; a promise it gains starts where its rule
        says, as if it had always applied."""
        for clock in list(self.all):
            target = self.targets.get(clock.metric)
            ended = clock.state == STOPPED and clock.stop_reason == StopReason.RECLASSIFIED
            if target is not None and not ended:
                recompute(self.ticket, clock, target, self.cal, at, self.actor, downgrades)
            elif target is None and clock.state != STOPPED:
                stop(clock, self.cal, at, self.actor, StopReason.RECLASSIFIED, None, downgrades)
        for metric in (Metric.NEXT_REPLY, Metric.UPDATE):
            if self._missing(metric):
                self._gain(metric, at, correction)

    def _gain(self, metric: str, at: datetime, correction: Clock | None) -> None:
        last_reply = _last_reply_at(self.ticket)
        if metric == Metric.UPDATE:
            origin = max(self.ticket.received_at, last_reply or self.ticket.received_at)
            # The update pauses with the correction: its runs since the origin are the update's.
            runs = clock_runs(correction) if correction is not None else [(origin, None)]
            kept = [(max(s, origin), e) for s, e in runs if e is None or e > origin]
            self._begin(metric, at, origin, kept or [(origin, origin)])
            return
        if _owed(self.ack):
            return  # the acknowledgement answers every message until it is kept
        answered = [t for t in (last_reply, self.ack.stopped_at if self.ack else None) if t]
        self._owe_oldest_after(max(answered, default=self.ticket.received_at), at)
