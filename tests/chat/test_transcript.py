"""The chat's transcript is mailed to the customer when the chat ends (issue 23)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import World
from tickets.channels.chat.services import chat_accept, chat_end, chat_post, chat_start
from tickets.models import OutboundMail

pytestmark = pytest.mark.django_db
WEDNESDAY = datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_the_transcript_is_mailed_once_when_the_chat_ends(world: World) -> None:
    alice = world.alice
    with time_machine.travel(WEDNESDAY, tick=False):
        session = chat_start(
            contact=alice, actor=alice.user, text="Le kiosque 12 est noir", severity=""
        )
    with time_machine.travel(WEDNESDAY + timedelta(minutes=2), tick=False):
        chat_accept(session=session, agent=world.agent_eu)
        chat_post(session=session, author=world.agent_eu, text="Redémarrez-le, s'il vous plaît.")
    with time_machine.travel(WEDNESDAY + timedelta(minutes=5), tick=False):
        chat_post(session=session, author=alice.user, text="C'est reparti, merci !")
        chat_end(session=session, actor=alice.user)
        chat_end(session=session, actor=world.agent_eu)  # already over: no second mail
    (mail,) = OutboundMail.objects.filter(kind=OutboundMail.Kind.TRANSCRIPT)
    assert mail.to_address == alice.email and mail.ticket == session.ticket
    text = mail.text
    assert (
        text.index("Le kiosque 12 est noir")
        < text.index("Redémarrez-le")
        < text.index("C'est reparti")
    )
    assert "[10:02]" in text and session.ticket.reference in mail.subject
