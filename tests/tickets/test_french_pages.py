"""Pages read in French use the typographic apostrophe throughout, the words of Pacte's own
catalogue and of its dependencies' alike (the sign-in, the second factor, validation)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for

pytestmark = pytest.mark.django_db

STRAIGHT = re.compile(r"(?<=[A-Za-zÀ-ÿ])'(?=[A-Za-zÀ-ÿ])")


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_french_pages_have_no_straight_apostrophe(world: World) -> None:
    stranger = Client(HTTP_ACCEPT_LANGUAGE="fr")
    sign_in = stranger.post("/accounts/login/", {"login": "", "password": ""})
    manager = client_for(world.manager)
    pass_second_factor(manager, world.manager)
    pages = {
        "sign-in": stranger.get("/accounts/login/"),
        "sign-in refused": sign_in,
        "queue": manager.get("/desk/", HTTP_ACCEPT_LANGUAGE="fr"),
        "two-factor": manager.get("/accounts/2fa/", HTTP_ACCEPT_LANGUAGE="fr"),
        "password": manager.get("/accounts/password/change/", HTTP_ACCEPT_LANGUAGE="fr"),
    }
    for name, response in pages.items():
        text = text_of(response.content.decode())
        assert 'lang="fr"' in response.content.decode(), name
        assert STRAIGHT.findall(text) == [], (name, STRAIGHT.findall(text)[:3])
    assert "Nom d’utilisateur" in text_of(pages["sign-in"].content.decode())
    assert "d’authentification" in text_of(pages["two-factor"].content.decode())
