"""Issue 23: the chat page's context for the agent and canned replies in the customer's
language; the help centre in the reader's language with its areas named in it; French
elision ("d’Acme")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from config.formats import of
from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for, open_ticket
from tickets.channels.chat.services import chat_start
from tickets.models import Article, CannedReply, ProductArea

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


WEDNESDAY = datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_french_names_after_of_are_elided() -> None:
    with translation.override("fr"):
        assert [of("Eventia"), of("Kiosk Vision"), of("octobre 2026"), of("Hôtel")] == [
            "d’Eventia",
            "de Kiosk Vision",
            "d’octobre 2026",
            "d’Hôtel",
        ]
    with translation.override("en"):
        assert of("Eventia") == "Eventia"


def _staff(user):  # type: ignore[no-untyped-def]
    client = client_for(user)
    pass_second_factor(client, user)
    return client


def test_the_chat_page_shows_the_customer_and_replies_in_their_language(world: World) -> None:
    world.alice.language = "fr"
    world.alice.save(update_fields=["language"])
    if world.alice.user is not None:
        world.alice.user.language = "fr"
        world.alice.user.save(update_fields=["language"])
    CannedReply.objects.create(title="Serial number", body="Could you…", language="en")
    CannedReply.objects.create(title="Numéro de série", body="Pourriez-vous…", language="fr")
    CannedReply.objects.create(title="Any language", body="…", language="")
    earlier = open_ticket(world.alice, subject="Printer jams")
    with time_machine.travel(WEDNESDAY, tick=False):
        session = chat_start(contact=world.alice, actor=world.alice.user, text="Hello", severity="")
    page = _staff(world.agent_eu).get(f"/chat/{session.ticket.reference}/").content.decode()
    assert "Other open tickets" in page and earlier.subject in page
    assert "Numéro de série" in page and "Any language" in page and "Serial number" not in page
    assert 'data-insert-into="chat-text"' in page and "Our promises" in page
    customer = client_for(world.alice.user).get(f"/chat/{session.ticket.reference}/")
    assert "Numéro de série" not in customer.content.decode()  # the customer sees none of it


def test_the_help_centre_speaks_the_readers_language(world: World) -> None:
    area = ProductArea.objects.create(
        name="Kiosk hardware", name_fr="Matériel des bornes", slug="hw"
    )
    for language, title in [("en", "Screen stays black"), ("fr", "L’écran reste noir")]:
        Article.objects.create(
            area=area, title=title, slug=f"screen-{language}", language=language, body="…"
        )
    client = client_for(world.alice.user)
    french = client.get("/faq/area/hw/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = client.get("/faq/area/hw/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Matériel des bornes" in french and "L’écran reste noir" in french
    assert "Screen stays black" not in french
    assert "Kiosk hardware" in english and "L’écran reste noir" not in english


def test_an_organization_admin_reads_les_personnes_d_acme(world: World) -> None:
    assert world.amir.user is not None
    world.amir.user.language = "fr"
    world.amir.user.save(update_fields=["language"])
    page = client_for(world.amir.user).get("/organization/people/").content.decode()
    assert "Les personnes d’Acme" in page
