"""The one writer of a ticket's history (`TicketEvent`, append-only; the timeline reads it).

Every ticket service records its changes here, and so do the SLA clocks
(`sla.clocks.services`: a clock started, paused, stopped, recomputed; `sla.clocks.escalation`:
a level reached). It sits beside the models rather than in `tickets/services/` because `sla`
writes through it: a module of `tickets.services` would run that package's `__init__`, whose
services import `sla.clocks.services` back, a loop at import time. It depends on the models
alone.
"""

from __future__ import annotations

from datetime import datetime

from tickets.models import TicketEvent, User


def ticket_event_record(
    *,
    ticket_id: int,
    kind: TicketEvent.Kind,
    at: datetime,
    actor: User | None = None,
    field: str = "",
    before: str = "",
    after: str = "",
    note: str = "",
    note_shared: bool = False,
) -> None:
    """Append one event to the ticket's history: who did what, when, and before → after.
    Part of the caller's transaction (every caller is a service that already holds one)."""
    ticket_events_record(
        [
            TicketEvent(
                ticket_id=ticket_id,
                actor=actor,
                kind=kind,
                field=field,
                before=before,
                after=after,
                note=note,
                note_shared=note_shared,
                created_at=at,
            )
        ]
    )


def ticket_events_record(events: list[TicketEvent]) -> None:
    """Append many events at once (a calendar edit moving thousands of deadlines)."""
    if len(events) == 1:
        events[0].save()
    else:
        TicketEvent.objects.bulk_create(events, batch_size=500)
