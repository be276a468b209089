"""Tenant isolation: every ticket, message and attachment URL, as the wrong user, is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import World, open_ticket
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_ticket(world: World) -> Ticket:
    ticket = open_ticket(world.alice, subject="Acme secret outage")
    services.ticket_reply(
        ticket=ticket,
        author=world.alice.user,
        body="Here is the log.",  # type: ignore[arg-type]
        files=[SimpleUploadedFile("trace.log", b"secret stack trace", "text/plain")],
    )
    services.ticket_reply(
        ticket=ticket,
        author=world.agent_eu,
        body="Note for us only",
        internal=True,
        files=[SimpleUploadedFile("internal.txt", b"internal", "text/plain")],
    )
    return ticket


def page_urls(ticket: Ticket) -> list[tuple[str, str]]:
    ref = ticket.reference
    return [
        ("get", reverse("tickets:detail", args=[ref])),
        ("post", reverse("tickets:reply", args=[ref])),
        ("post", reverse("tickets:status", args=[ref])),
        ("post", reverse("tickets:acknowledge", args=[ref])),
        ("post", reverse("tickets:assign", args=[ref])),
        ("post", reverse("tickets:reclassify", args=[ref])),
        ("post", reverse("tickets:merge", args=[ref])),
    ] + [("get", reverse("files:download", args=[a.key])) for a in ticket.attachments.all()]


def api_urls(ticket: Ticket) -> list[tuple[str, str]]:
    ref = ticket.reference
    return [
        ("get", f"/api/tickets/{ref}/"),
        ("get", f"/api/tickets/{ref}/messages/"),
        ("post", f"/api/tickets/{ref}/messages/"),
        ("post", f"/api/tickets/{ref}/status/"),
        ("post", f"/api/tickets/{ref}/acknowledge/"),
        ("post", f"/api/tickets/{ref}/assign/"),
        ("post", f"/api/tickets/{ref}/reclassify/"),
    ] + [("get", f"/api/attachments/{a.key}/") for a in ticket.attachments.all()]


PAYLOADS = {
    "body": "hi",
    "status": "closed",
    "severity": "minor",
    "reason": "x",
    "assignee": "agent_fr",
    "target": "PAC-000001",
}


def test_other_customer_gets_404_on_every_page(world: World, acme_ticket: Ticket) -> None:
    client = Client()
    client.force_login(world.bob.user)  # type: ignore[arg-type]
    for method, url in page_urls(acme_ticket):
        response = getattr(client, method)(url, PAYLOADS)
        assert response.status_code == 404, (method, url)
    assert acme_ticket.messages.count() == 3
    acme_ticket.refresh_from_db()
    assert acme_ticket.status == "new" and acme_ticket.severity == "major"


def test_other_desk_agent_gets_404_on_every_page(world: World, acme_ticket: Ticket) -> None:
    client = Client()
    client.force_login(world.agent_fr)
    for method, url in page_urls(acme_ticket):
        assert getattr(client, method)(url, PAYLOADS).status_code == 404, (method, url)


STAFF_ONLY = ("/acknowledge/", "/assign/", "/reclassify/")


def test_other_customer_gets_404_on_every_api_endpoint(world: World, acme_ticket: Ticket) -> None:
    """Except those only support staff call: a customer is refused them whatever the
    reference (their own ticket, another's, none), with one answer that tells nothing."""
    client = APIClient()
    client.force_authenticate(world.bob.user)
    own = open_ticket(world.bob)
    for method, url in api_urls(acme_ticket):
        response = getattr(client, method)(url, PAYLOADS, format="json")
        if url.endswith(STAFF_ONLY):
            answers = {
                getattr(client, method)(
                    url.replace(acme_ticket.reference, ref), PAYLOADS, format="json"
                ).content
                for ref in (own.reference, "PAC-999999")
            }
            assert response.status_code == 403 and answers == {response.content}, url
        else:
            assert response.status_code == 404, (method, url, response.content)
    listing = client.get("/api/tickets/").json()
    assert [t["reference"] for t in listing["results"]] == [own.reference]
    acme_ticket.refresh_from_db()
    assert (acme_ticket.status, acme_ticket.severity, acme_ticket.assignee) == (
        "new",
        "major",
        None,
    )


def test_anonymous_is_sent_to_login_or_refused(acme_ticket: Ticket) -> None:
    client = Client()
    for method, url in page_urls(acme_ticket):
        response = getattr(client, method)(url, PAYLOADS)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    api = APIClient()
    for method, url in [*api_urls(acme_ticket), ("get", "/api/tickets/")]:
        assert getattr(api, method)(url, PAYLOADS, format="json").status_code == 401, url


def test_member_sees_own_tickets_admin_sees_organization(world: World) -> None:
    mine = open_ticket(world.alice, subject="Alice's")
    theirs = open_ticket(world.amir, subject="Amir's")
    client = APIClient()
    client.force_authenticate(world.alice.user)
    refs = {t["reference"] for t in client.get("/api/tickets/").json()["results"]}
    assert refs == {mine.reference}
    assert client.get(f"/api/tickets/{theirs.reference}/").status_code == 404
    client.force_authenticate(world.amir.user)
    refs = {t["reference"] for t in client.get("/api/tickets/").json()["results"]}
    assert refs == {mine.reference, theirs.reference}


def test_customer_never_sees_internal_notes_or_their_files(
    world: World, acme_ticket: Ticket
) -> None:
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    page = client.get(reverse("tickets:detail", args=[acme_ticket.reference]))
    assert page.status_code == 200
    assert b"Note for us only" not in page.content
    assert b"internal.txt" not in page.content
    internal = acme_ticket.attachments.get(filename="internal.txt")
    assert client.get(reverse("files:download", args=[internal.key])).status_code == 404
    public = acme_ticket.attachments.get(filename="trace.log")
    download = client.get(reverse("files:download", args=[public.key]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"secret stack trace"  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment")
    api = APIClient()
    api.force_authenticate(world.alice.user)
    bodies = [m["body"] for m in api.get(f"/api/tickets/{acme_ticket.reference}/messages/").json()]
    assert "Note for us only" not in bodies and "Here is the log." in bodies


def test_agent_and_manager_see_their_scope(world: World, acme_ticket: Ticket) -> None:
    globex_ticket = open_ticket(world.bob)
    api = APIClient()
    api.force_authenticate(world.agent_eu)
    refs = {t["reference"] for t in api.get("/api/tickets/").json()["results"]}
    assert refs == {acme_ticket.reference}
    api.force_authenticate(world.manager)
    refs = {t["reference"] for t in api.get("/api/tickets/").json()["results"]}
    assert refs == {acme_ticket.reference, globex_ticket.reference}


def test_malformed_and_unknown_references_are_404(world: World) -> None:
    client = Client()
    client.force_login(world.manager)
    for ref in ["PAC-999999", "nonsense", "XYZ-000001", "PAC-", "PAC-00000000000000000001"]:
        assert client.get(f"/tickets/{ref}/").status_code == 404, ref


STAFF_PAGES = [
    ("get", "desk:queue"),
    ("post", "desk:bulk"),
    ("get", "desk:call"),
    ("post", "desk:call"),
    ("post", "desk:view-save"),
    ("get", "desk:canned-list"),
    ("get", "desk:canned-new"),
    ("post", "desk:canned-new"),
    ("get", "desk:faq-list"),
    ("get", "desk:faq-new"),
    ("post", "desk:faq-new"),
]


def test_customers_get_404_on_every_staff_page_and_anonymous_the_login(world: World) -> None:
    customer = Client()
    customer.force_login(world.amir.user)  # type: ignore[arg-type]  # an organization admin
    anonymous = Client()
    data = {"name": "x", "title": "x", "body": "x", "severity": "minor", "tickets": "1"}
    for method, name in STAFF_PAGES:
        url = reverse(name)
        assert getattr(customer, method)(url, data).status_code == 404, (method, url)
        response = getattr(anonymous, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
