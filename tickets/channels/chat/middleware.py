"""WebSocket sign-in for the embedded widget: its frame has no session cookie (browsers block
cookies in third-party frames), so it offers the subprotocols ``pacte.widget`` and its
credential; the URL stays free of it (servers log URLs)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from tickets.channels.chat.widget import WEBSOCKET_PROTOCOL, contact_from_credential
from tickets.models import User


@database_sync_to_async
def _user_for(credential: str) -> User | AnonymousUser:
    contact = contact_from_credential(credential)
    return contact.user if contact is not None and contact.user is not None else AnonymousUser()


class WidgetCredentialMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        offered = list(scope.get("subprotocols") or [])
        if WEBSOCKET_PROTOCOL in offered:
            others = [p for p in offered if p != WEBSOCKET_PROTOCOL]
            # The credential decides alone: a bad one is anonymous, whatever cookie came along.
            user = await _user_for(others[0]) if len(others) == 1 else AnonymousUser()
            scope = dict(scope, user=user)
        return await super().__call__(scope, receive, send)
