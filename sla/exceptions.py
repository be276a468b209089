"""Domain errors of the SLA app: a request that is understood but that the SLA's rules refuse.

They share nothing with ``tickets.exceptions`` (sla does not depend on the tickets app's errors);
the API's one exception handler answers both alike (400, the message, and the field it
concerns), the admin shows them on the form, and the ticket services turn the one a ticket
write can meet (``NoSupportHours``) into a ``TicketError`` with the same message, so that every
caller of a ticket service keeps handling one kind of error.
"""

from __future__ import annotations


class SlaError(Exception):
    """Base of every SLA domain error, with the message shown to the user and, when the error
    is about one input, that input's field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NoSupportHours(SlaError):
    """A desk's calendar has no open time: its tickets' clocks cannot run until it is fixed."""


class OutageRejected(SlaError):
    """An outage or maintenance window the availability rules refuse (its times, or the
    tickets it names)."""
