"""Schemathesis over /api/schema/, in process against the WSGI app, signed in by token as a
customer and as an agent: every operation, with generated values (valid and invalid) and with
the reference of a real ticket the caller may see, answers no 5xx and only the statuses its
schema documents, with bodies that match the documented shapes. Bounded and derandomized, so
CI sees the same cases on every run."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import PASSWORD, World, open_ticket
from tickets import access
from tickets.accounts.tokens import api_token_create
from tickets.models import Ticket, User

pytestmark = pytest.mark.django_db

# Cases per operation and mode; about 2 × 2 × 10 operations × (1 + 1 real ticket) runs each.
MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


def token_for(username: str) -> str:
    """A customer's token from the password endpoint; staff make theirs after their second
    factor (the API tokens page), here through the same service."""
    user = User.objects.get(username=username)
    if access.must_pass_second_factor(user):
        return api_token_create(user=user, name="fuzz", days=1, now=timezone.now())[1]
    cache.clear()  # the token endpoint's throttle counts this test's own requests too
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def run(
    operation: Any, headers: dict[str, str], path_parameters: dict[str, str] | None, tally: Counter
) -> None:
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    for mode in modes:
        strategy = operation.as_strategy(mode, path_parameters=path_parameters)

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        def check(case: Any) -> None:
            cache.clear()  # the token endpoint's throttle would answer every later case 429
            response = case.call(headers=headers)
            tally[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (a path of any text, no body): no negative case exists.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


@contextmanager
def connection_kept() -> Iterator[None]:
    """The WSGI app is called directly: as Django's test client does, keep each request from
    closing the database connection (and with it the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("username", ["alice", "agent_eu"])
def test_the_api_answers_only_what_its_schema_documents(world: World, username: str) -> None:
    ticket: Ticket = open_ticket(world.alice)
    headers = {"Authorization": f"Token {token_for(username)}"}
    tally: Counter = Counter()
    started = time.monotonic()
    with connection_kept():
        # The schema as this caller reads it: a customer's lists no staff-only endpoint.
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == (8 if username == "alice" else 11)
        for operation in operations:
            run(operation, headers, None, tally)
            if "{reference}" in operation.path:
                run(operation, headers, {"reference": ticket.reference}, tally)
    elapsed = time.monotonic() - started
    print(f"{username}: {sum(tally.values())} cases in {elapsed:.1f} s, statuses {dict(tally)}")
    assert tally[200] and tally[400] and tally[404]  # the run reached real answers and refusals
    assert not any(status >= 500 for status in tally)
