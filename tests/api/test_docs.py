"""The API's documentation lists what its reader may call, in the reader's language, on one of
Pacte's pages: a customer (or a stranger) never reads the endpoints only support staff call."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import World
from tickets.models import User

pytestmark = pytest.mark.django_db

STAFF_ONLY = {
    "/api/tickets/{reference}/acknowledge/",
    "/api/tickets/{reference}/assign/",
    "/api/tickets/{reference}/reclassify/",
}


def schema_for(user: User | None, **query: str) -> dict[str, Any]:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    response = api.get("/api/schema/", {"format": "json", **query})
    assert response.status_code == 200
    return response.json()


def test_customers_and_strangers_read_no_staff_only_endpoint(world: World) -> None:
    agent = schema_for(world.agent_eu)
    assert set(agent["paths"]) >= STAFF_ONLY
    assert "TicketReclassifyInputRequest" in agent["components"]["schemas"]
    for reader in (world.alice.user, None):
        schema = schema_for(reader)
        assert not STAFF_ONLY & set(schema["paths"]), reader
        assert "/api/tickets/{reference}/messages/" in schema["paths"]
        assert "/api/auth/token/" in schema["paths"]
        assert "TicketReclassifyInputRequest" not in schema["components"]["schemas"]


def test_the_schema_speaks_the_language_asked(world: World) -> None:
    english = schema_for(world.alice.user, lang="en")
    french = schema_for(world.alice.user, lang="fr")
    post = "/api/tickets/"
    assert english["paths"][post]["post"]["summary"] == "Open a ticket"
    assert french["paths"][post]["post"]["summary"] == "Ouvrir un ticket"
    assert french["paths"][post]["post"]["tags"] == ["Tickets"]
    assert french["paths"]["/api/auth/token/"]["post"]["tags"] == ["Jetons"]
    errors = french["paths"][post]["post"]["responses"]
    assert errors["401"]["description"].startswith("Pas de jeton valide")
    message = french["components"]["schemas"]["MessageOutput"]
    assert "description" not in message  # no developer's docstring shown to integrators
    assert message["properties"]["is_automatic"]["description"].startswith("Une réponse")


def test_a_customer_is_told_who_may_do_what_they_tried(world: World) -> None:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="fr")
    api.force_authenticate(world.alice.user)
    response = api.post("/api/tickets/PAC-000001/acknowledge/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Seule l’équipe support peut faire cela."}


def page(user: User | None, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_documentation_is_a_pacte_page_in_the_readers_language(world: World) -> None:
    html = page(world.alice.user, "fr")
    assert '<html lang="fr">' in html
    assert "<h1>L’API de Pacte</h1>" in html
    assert 'href="/tickets/"' in html  # the navigation: a way back to the tickets
    assert 'href="/api-tokens/"' in html and "POST /api/auth/token/" in html
    assert "Les boutons et intitulés de la référence sont ceux de Swagger UI" in html
    schema_url = re.search(r'url: "([^"]+)"', html)
    assert schema_url is not None and schema_url[1] == r"/api/schema/?lang\u003Dfr"  # escapejs
    assert "prendre en compte, les attribuer" not in html  # said to staff only

    staff = page(world.agent_eu, "en")
    assert '<html lang="en">' in staff and "acknowledge, assign and reclassify" in staff
    assert "POST /api/auth/token/" not in staff  # staff get tokens after their second factor
    assert "Swagger UI&#x27;s, in English" not in staff and "in English" not in staff

    stranger = page(None, "en")
    assert "lists what a customer may call" in stranger
    assert 'href="/accounts/login/?next=/api/docs/"' in stranger
