"""WebSocket sign-in for the embedded widget: its frame has no session cookie (browsers keep
cookies from third-party frames), so it names its credential on the URL (``?widget=…``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from tickets.chat.widget import contact_from_credential
from tickets.models import User


@database_sync_to_async
def _user_for(credential: str) -> User | AnonymousUser:
    contact = contact_from_credential(credential)
    return contact.user if contact is not None and contact.user is not None else AnonymousUser()


class WidgetCredentialMiddleware(BaseMiddleware):  # type: ignore[misc]  # untyped base
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        credential = query.get("widget", [""])[0]
        if credential:
            # A credential decides alone: a bad one is anonymous, whatever cookie came along.
            scope = dict(scope, user=await _user_for(credential))
        return await super().__call__(scope, receive, send)
