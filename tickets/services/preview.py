"""What a change would do, computed by making it and rolling it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from sla.clocks.selectors import current_clocks
from sla.models import Clock
from tickets.models import Ticket, User
from tickets.services.lifecycle import ticket_reclassify


@dataclass(frozen=True)
class DeadlinePreview:
    """One clock's promise before and after a severity change that has not been made."""

    metric: str
    metric_label: str
    kind: str
    state: str
    due_before: datetime | None
    due_after: datetime | None
    breached_after: bool


class _DryRun(Exception):
    pass


def ticket_reclassify_preview(
    *, ticket: Ticket, actor: User, severity: str, reason: str
) -> list[DeadlinePreview]:
    """The deadlines a reclassification would give, computed by making it inside a savepoint
    that is then rolled back (so the preview is exactly what confirming will do; nothing is
    written and no mail or notification leaves)."""
    before = {(c.metric, c.round): c.due_at for c in Clock.objects.filter(ticket=ticket)}
    after: list[Clock] = []
    try:
        with transaction.atomic():
            ticket_reclassify(ticket=ticket, actor=actor, severity=severity, reason=reason)
            after = current_clocks(Clock.objects.filter(ticket=ticket))
            raise _DryRun
    except _DryRun:
        pass
    now = timezone.now()
    return [
        DeadlinePreview(
            metric=clock.metric,
            metric_label=clock.get_metric_display(),
            kind=clock.kind,
            state=clock.state,
            due_before=before.get((clock.metric, clock.round)),
            due_after=clock.due_at,
            breached_after=bool(
                clock.breached_at
                or (clock.state != Clock.State.STOPPED and clock.due_at and clock.due_at <= now)
            ),
        )
        for clock in after
    ]
