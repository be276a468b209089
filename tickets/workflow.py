"""The ticket status workflow: one table of allowed transitions."""

from __future__ import annotations

from tickets.models import Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.ACKNOWLEDGED: frozenset(
        {
            Status.IN_PROGRESS,
            Status.WAITING_ON_CUSTOMER,
            Status.ON_HOLD,
            Status.RESOLVED,
            Status.CLOSED,
        }
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.WAITING_ON_CUSTOMER, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}
    ),
    Status.WAITING_ON_CUSTOMER: frozenset(
        {Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}
    ),
    # On hold for a reason of the policy (a third party, the customer's request…).
    Status.ON_HOLD: frozenset(
        {Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    # Reopen: a resolved or closed ticket goes back to work.
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}

# Statuses a customer may set on their own ticket.
CUSTOMER_TARGETS = frozenset({Status.CLOSED})


# The statuses support's reply may set as it is sent ("Send and mark resolved").
REPLY_THEN = (Status.WAITING_ON_CUSTOMER, Status.RESOLVED)


def allowed_targets(current: str) -> frozenset[Status]:
    return TRANSITIONS[Status(current)]


def can_transition(current: str, target: str) -> bool:
    return target in Status.values and Status(target) in TRANSITIONS[Status(current)]
