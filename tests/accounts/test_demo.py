"""The demo's staff sign in with a second factor too: `make code WHO=…` prints the code of
their authenticator app, in development only."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tickets.demo import DEMO_PASSWORD, demo_seed

pytestmark = pytest.mark.django_db


def test_a_demo_agent_signs_in_with_the_printed_code(settings: Any) -> None:
    demo_seed()
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_code", "anna", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    client = Client()
    step = client.post("/accounts/login/", {"login": "anna", "password": DEMO_PASSWORD})
    assert step["Location"] == "/accounts/2fa/authenticate/"
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    assert client.get("/desk/").status_code == 200
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development"):
        call_command("demo_code", "anna", stdout=StringIO())
