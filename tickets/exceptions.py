"""Domain errors of the tickets app; views and the API turn them into clear messages."""

from __future__ import annotations


class TicketError(Exception):
    """Base of every domain error: a request that is understood but not allowed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(TicketError):
    pass


class NotUnderContract(TicketError):
    pass


class AttachmentRejected(TicketError):
    pass


class PermissionDeniedError(TicketError):
    pass
