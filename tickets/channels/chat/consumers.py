"""The WebSocket of one conversation, for its customer and its agents.

Client → server (JSON): {"type": "message", "text": "…", "key": "<client id>"},
{"type": "typing"}, {"type": "resume", "after": <last message id seen>}, {"type": "accept"}
(agents), {"type": "end"}.
Server → client: {"type": "message", "id", "text", "from": "agent"|"customer", "author",
"at", "key"}, {"type": "typing", "from"}, {"type": "state", "state", "agent"},
{"type": "error", "code", "detail"}.

Every line is stored before it is broadcast, with the id the client resumes after: a client
that reconnects sends {"type": "resume", "after": id} (or `?after=id` on the URL) and gets what
it missed, once; a line sent again with the same key is stored once.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import Http404

from tickets import access
from tickets.accounts.second_factor import may_reach_staff_pages
from tickets.channels.chat import services
from tickets.channels.chat.widget import WEBSOCKET_PROTOCOL
from tickets.exceptions import TicketError
from tickets.models import ChatSession, Message, User


def group_name(ticket_id: int) -> str:
    return f"chat.{ticket_id}"


def message_payload(message: Message, key: str = "") -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.pk,
        "text": message.body,
        "from": services.line_side(message),
        "author": message.author_name,
        "at": message.received_at.isoformat(),
        "key": key,
    }


class ChatConsumer(AsyncJsonWebsocketConsumer):
    user: User
    session: ChatSession
    role: str

    async def connect(self) -> None:
        user = self.scope.get("user")
        reference = self.scope["url_route"]["kwargs"]["reference"]
        found = await self._find(user, reference)
        if found is None:
            await self.close(code=4404)
            return
        self.user, self.session, self.role = found
        self.rate = (settings.PACTE_CHAT_RATE_MESSAGES, settings.PACTE_CHAT_RATE_SECONDS)
        self.sent: deque[float] = deque(maxlen=self.rate[0])
        self.seen: set[int] = set()  # ids of the lines this connection has sent
        self.group = group_name(self.session.ticket_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # The widget's frame signs in with a subprotocol (tickets/channels/chat/middleware.py): the
        # browser needs it named back.
        widget = WEBSOCKET_PROTOCOL in (self.scope.get("subprotocols") or [])
        await self.accept(subprotocol=WEBSOCKET_PROTOCOL if widget else None)
        await self.send_json(await self._state())
        query = parse_qs(self.scope.get("query_string", b"").decode())
        after = query.get("after", ["0"])[0]
        await self._history(int(after) if after.isdigit() else 0)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("bad_request", "Send a JSON object.")
            return
        kind = content.get("type")
        if kind == "message":
            await self._message(content)
        elif kind == "typing":
            await self.channel_layer.group_send(
                self.group, {"type": "chat.typing", "from": self.role, "sender": self.channel_name}
            )
        elif kind == "resume":
            after = content.get("after", 0)
            await self._history(after if isinstance(after, int) and after >= 0 else 0)
        elif kind in ("accept", "end"):
            await self._change(kind)
        else:
            await self._error("bad_request", "Unknown type.")

    # --- group events ---------------------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        # A line stored while this connection was being set up comes both in the history and
        # live: it is sent once.
        payload = event["payload"]
        if payload["id"] in self.seen:
            return
        self.seen.add(payload["id"])
        await self.send_json(payload)

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name and event["from"] != self.role:
            await self.send_json({"type": "typing", "from": event["from"]})

    async def chat_state(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])

    # --- helpers ----------------------------------------------------------------------------

    async def _message(self, content: dict[str, Any]) -> None:
        text, key = content.get("text"), content.get("key", "")
        if not isinstance(text, str) or not isinstance(key, str):
            await self._error("bad_request", "text and key are strings.")
            return
        now = time.monotonic()
        if len(self.sent) == self.rate[0] and now - self.sent[0] < self.rate[1]:
            await self._error("rate_limited", "Too many messages; wait a few seconds.")
            return
        self.sent.append(now)
        try:
            payload, new, state_changed = await self._post(text, key)
        except TicketError as error:
            await self._error("refused", error.message)
            return
        if new:
            await self.channel_layer.group_send(
                self.group, {"type": "chat.message", "payload": payload}
            )
            if state_changed:
                await self.channel_layer.group_send(
                    self.group, {"type": "chat.state", "payload": await self._state()}
                )
        else:
            await self.send_json(payload)  # a resend: only the sender hears it again

    async def _change(self, kind: str) -> None:
        try:
            await self._apply(kind)
        except TicketError as error:
            await self._error("refused", error.message)
            return
        await self.channel_layer.group_send(
            self.group, {"type": "chat.state", "payload": await self._state()}
        )

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})

    @database_sync_to_async
    def _find(self, user: Any, reference: str) -> tuple[User, ChatSession, str] | None:
        if not isinstance(user, User) or not user.is_authenticated:
            return None
        session = self.scope.get("session")
        if session is not None and not may_reach_staff_pages(session, user):
            return None  # staff chat from a session that passed its second factor
        try:
            ticket = access.ticket_or_404(user, reference)
        except Http404:
            return None
        chat = ChatSession.objects.filter(ticket=ticket).first()
        if chat is None:
            return None
        if access.can_work(user, ticket):
            return user, chat, "agent"
        if access.can_reply_as_customer(user, ticket):
            return user, chat, "customer"
        return None

    @database_sync_to_async
    def _post(self, text: str, key: str) -> tuple[dict[str, Any], bool, bool]:
        before = self.session.state
        posted = services.chat_post(session=self.session, author=self.user, text=text, key=key)
        self.session.refresh_from_db()
        return message_payload(posted.message, key), posted.new, self.session.state != before

    @database_sync_to_async
    def _apply(self, kind: str) -> None:
        if kind == "accept":
            services.chat_accept(session=self.session, agent=self.user)
        else:
            services.chat_end(session=self.session, actor=self.user)
        self.session.refresh_from_db()

    @database_sync_to_async
    def _state(self) -> dict[str, Any]:
        session = ChatSession.objects.select_related("agent").get(pk=self.session.pk)
        agent = session.agent
        return {
            "type": "state",
            "state": session.state,
            "agent": (agent.get_full_name() or agent.username) if agent else "",
        }

    async def _history(self, after: int) -> None:
        for payload in await self._missed(after):
            self.seen.add(payload["id"])
            await self.send_json(payload)

    @database_sync_to_async
    def _missed(self, after: int) -> list[dict[str, Any]]:
        messages = services.chat_history(self.user, self.session.ticket, after=after)
        return [
            message_payload(m, getattr(getattr(m, "chat_key", None), "key", "")) for m in messages
        ]
