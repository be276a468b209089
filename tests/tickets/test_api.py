"""The REST API end to end: token auth, list/detail/messages, actions, errors, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory, World, client_for, open_ticket
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_token_endpoint_and_token_auth(world: World, api: APIClient) -> None:
    response = api.post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    bad = api.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert bad.status_code == 400
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/tickets/").status_code == 200


def test_customer_creates_reads_and_replies(world: World, api: APIClient) -> None:
    api.force_authenticate(world.alice.user)
    created = api.post(
        "/api/tickets/",
        {"subject": "API down", "description": "503 everywhere", "severity": "blocking"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    ref = body["reference"]
    assert body["channel"] == "api" and body["status"] == "new" and body["desk"] == "eu"
    assert {c["metric"] for c in body["clocks"]} == {"acknowledgement", "correction"}
    assert all(c["due_at"] for c in body["clocks"])
    assert api.get(f"/api/tickets/{ref}/").json()["subject"] == "API down"
    reply = api.post(f"/api/tickets/{ref}/messages/", {"body": "Any news?"}, format="json")
    assert reply.status_code == 201 and reply.json()["from_agent"] is False
    messages = api.get(f"/api/tickets/{ref}/messages/").json()
    assert [m["body"] for m in messages] == ["503 everywhere", "Any news?"]


def test_multipart_attachment_and_download(world: World, api: APIClient) -> None:
    api.force_authenticate(world.alice.user)
    ticket = open_ticket(world.alice)
    response = api.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "log attached", "attachments": [SimpleUploadedFile("a.log", b"line1\n")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    url = response.json()["attachments"][0]["url"]
    download = api.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line1\n"  # type: ignore[attr-defined]


def test_agent_workflow_through_the_api(world: World, api: APIClient) -> None:
    ticket = open_ticket(world.alice)
    ref = ticket.reference
    api.force_authenticate(world.agent_eu)
    assert (
        api.post(f"/api/tickets/{ref}/assign/", {"assignee": "agent_eu"}, format="json").json()[
            "assignee"
        ]
        == "agent_eu"
    )
    detail = api.post(f"/api/tickets/{ref}/acknowledge/").json()
    assert detail["status"] == "acknowledged"
    ack = next(c for c in detail["clocks"] if c["metric"] == "acknowledgement")
    assert ack["state"] == "stopped" and ack["outcome"] == "met"
    assert (
        api.post(
            f"/api/tickets/{ref}/status/", {"status": "in_progress"}, format="json"
        ).status_code
        == 200
    )
    detail = api.post(
        f"/api/tickets/{ref}/reclassify/",
        {"severity": "blocking", "reason": "Whole site down"},
        format="json",
    ).json()
    assert detail["severity"] == "blocking"
    detail = api.post(f"/api/tickets/{ref}/status/", {"status": "resolved"}, format="json").json()
    correction = next(c for c in detail["clocks"] if c["metric"] == "correction")
    assert detail["status"] == "resolved" and correction["state"] == "stopped"


def test_agent_opens_ticket_for_a_contact(world: World, api: APIClient) -> None:
    api.force_authenticate(world.agent_eu)
    response = api.post(
        "/api/tickets/",
        {
            "subject": "Phoned in",
            "description": "Call at 10:02",
            "severity": "major",
            "requester": world.alice.email,
            "channel": "phone",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "phone"
    unknown = api.post(
        "/api/tickets/",
        {
            "subject": "x",
            "description": "y",
            "severity": "major",
            "requester": "nobody@example.test",
        },
        format="json",
    )
    assert unknown.status_code == 400 and "requester" in unknown.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "x", "description": "y", "severity": "catastrophic"}, "severity"),
        ({"subject": "", "description": "y", "severity": "minor"}, "subject"),
        ({"description": "y", "severity": "minor"}, "subject"),
    ],
)
def test_bad_ticket_input_is_a_400_and_changes_nothing(
    world: World, api: APIClient, payload: dict[str, str], field: str
) -> None:
    api.force_authenticate(world.alice.user)
    response = api.post("/api/tickets/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Ticket.objects.count() == 0


def test_malformed_json_is_a_400(world: World, api: APIClient) -> None:
    api.force_authenticate(world.alice.user)
    response = api.post("/api/tickets/", '{"subject": "x",', content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    assert Ticket.objects.count() == 0


def test_unknown_status_and_illegal_transition(world: World, api: APIClient) -> None:
    ticket = open_ticket(world.alice)
    api.force_authenticate(world.agent_eu)
    url = f"/api/tickets/{ticket.reference}/status/"
    assert "status" in api.post(url, {"status": "exploded"}, format="json").json()
    illegal = api.post(url, {"status": "waiting_on_customer"}, format="json")
    assert illegal.status_code == 400
    assert "cannot become" in illegal.json()["detail"]
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_on_hold_through_the_api_takes_a_pause_reason(world: World, api: APIClient) -> None:
    ticket = open_ticket(world.alice)
    api.force_authenticate(world.agent_eu)
    url = f"/api/tickets/{ticket.reference}/status/"
    refused = api.post(url, {"status": "on_hold"}, format="json")
    assert refused.status_code == 400 and "why the ticket is on hold" in refused.json()["detail"]
    unknown = api.post(url, {"status": "on_hold", "pause_reason": "lunch"}, format="json")
    assert unknown.status_code == 400
    done = api.post(url, {"status": "on_hold", "pause_reason": "third_party"}, format="json")
    assert done.status_code == 200, done.content
    ticket.refresh_from_db()
    assert (ticket.status, ticket.pause_reason.slug) == ("on_hold", "third_party")  # type: ignore[union-attr]


def test_customer_may_not_resolve_through_the_api(world: World, api: APIClient) -> None:
    ticket = open_ticket(world.alice)
    api.force_authenticate(world.alice.user)
    response = api.post(
        f"/api/tickets/{ticket.reference}/status/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 403
    assert api.post(f"/api/tickets/{ticket.reference}/acknowledge/").status_code == 403


def test_filters_and_pagination(world: World, api: APIClient) -> None:
    for severity in ["minor", "major", "major"]:
        open_ticket(world.alice, severity=severity)
    api.force_authenticate(world.manager)

    def listed(query: str) -> list[str]:
        return [t["reference"] for t in api.get(f"/api/tickets/{query}").json()["results"]]

    assert len(listed("?severity=major")) == 2
    assert len(listed("?status=new&desk=eu")) == 3
    assert listed("?desk=fr") == []
    assert api.get("/api/tickets/?severity=bogus").status_code == 400
    assert api.get("/api/tickets/?cursor=bogus").status_code == 404


def test_the_list_pages_by_cursor_newest_first(world: World, api: APIClient) -> None:
    # Two tickets in the same instant too: the id breaks the tie, none is lost between pages.
    start = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    made = [
        open_ticket(world.alice, received_at=start + timedelta(minutes=n // 2)) for n in range(27)
    ]
    api.force_authenticate(world.agent_eu)
    first = api.get("/api/tickets/").json()
    assert "count" not in first and first["previous"] is None and len(first["results"]) == 25
    second = api.get(first["next"]).json()
    assert second["next"] is None and len(second["results"]) == 2
    references = [t["reference"] for t in first["results"] + second["results"]]
    newest_first = sorted(made, key=lambda t: (t.received_at, t.pk), reverse=True)
    assert references == [t.reference for t in newest_first]
    assert [t["reference"] for t in api.get(second["previous"]).json()["results"]] == references[
        :25
    ]


def test_list_query_count_does_not_grow_with_rows(
    world: World, api: APIClient, django_assert_max_num_queries: object
) -> None:
    api.force_authenticate(world.manager)
    open_ticket(world.alice)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        api.get("/api/tickets/")
    for _ in range(10):
        open_ticket(world.bob)
    with CaptureQueriesContext(connection) as eleven:
        assert len(api.get("/api/tickets/").json()["results"]) == 11
    assert len(eleven) == len(one)
    assert not any("COUNT(" in q["sql"] for q in eleven.captured_queries)  # no count of all


def test_schema_and_swagger_are_served_locally(world: World, api: APIClient) -> None:
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/tickets/{reference}/messages/" in schema.content
    api.force_authenticate(world.alice.user)
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


SANDBOX_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Content-Disposition")


def test_an_attachment_downloads_sandboxed_from_the_api_as_from_the_pages(
    world: World, api: APIClient
) -> None:
    """A file someone uploaded (here XML a browser would run as an SVG with a script) is never
    run by a browser, whether fetched through the API or the pages: same headers, one helper."""
    api.force_authenticate(world.alice.user)
    ticket = open_ticket(world.alice)
    hostile = SimpleUploadedFile(
        "invoice.xml",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>',
        "application/xml",
    )
    reply = api.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "see file", "attachments": [hostile]},
        format="multipart",
    )
    assert reply.status_code == 201, reply.content
    attachment = reply.json()["attachments"][0]
    from_api = api.get(attachment["url"])
    page_client = client_for(world.alice.user)
    from_page = page_client.get(reverse("files:download", args=[attachment["key"]]))
    assert from_api.status_code == from_page.status_code == 200
    for response in (from_api, from_page):
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == 'attachment; filename="invoice.xml"'
    assert [from_api[h] for h in SANDBOX_HEADERS] == [from_page[h] for h in SANDBOX_HEADERS]


@pytest.mark.parametrize(
    "instant",
    [
        "9999-12-31T23:59:59-10:00",  # after year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "yesterday",
    ],
)
def test_a_date_filter_out_of_range_is_a_clear_400(
    world: World, api: APIClient, instant: str
) -> None:
    api.force_authenticate(world.agent_eu)
    response = api.get("/api/tickets/", {"received_after": instant})
    assert response.status_code == 400
    assert list(response.json()) == ["received_after"]


def test_a_far_offset_is_the_same_instant_in_utc(world: World, api: APIClient) -> None:
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL up to ±15:59: this was a 500."""
    open_ticket(world.alice)  # received now
    api.force_authenticate(world.agent_eu)
    # 2000-01-01 at +19:21 is still in 1999 in UTC: today's ticket is after it, not before.
    after = api.get("/api/tickets/", {"received_after": "2000-01-01T00:00:00+19:21"})
    before = api.get("/api/tickets/", {"received_before": "2000-01-01T00:00:00+19:21"})
    assert (len(after.json()["results"]), len(before.json()["results"])) == (1, 0)


def test_the_schema_documents_the_refusals_the_api_gives(world: World, api: APIClient) -> None:
    api.force_authenticate(world.agent_eu)  # support staff read every endpoint
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    action = "/api/tickets/{reference}/"
    assert codes("/api/auth/token/", "post") == {"200", "400", "403", "429"}
    assert codes("/api/tickets/", "get") == {"200", "400", "401", "404"}
    assert codes("/api/tickets/", "post") == {"201", "400", "401", "403"}
    assert codes(action, "get") == {"200", "401", "404"}
    for verb in ("status", "acknowledge", "assign", "reclassify"):
        assert codes(f"{action}{verb}/", "post") == {"200", "400", "401", "403", "404"}
    assert codes(f"{action}messages/", "post") == {"201", "400", "401", "403", "404"}
    assert codes("/api/attachments/{key}/", "get") == {"200", "401", "404"}
    error = paths[action]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorOutput"}
    assert schema["components"]["schemas"]["ErrorOutput"]["required"] == ["detail"]


def test_messages_say_which_mail_is_not_the_customers_own_reply(
    world: World, api: APIClient
) -> None:
    ticket = open_ticket(world.alice)
    for sender, automatic, outside in (
        ("eve@unknown.test", False, True),  # a stranger holding a Message-ID of the thread
        ("mailer-daemon@acme.test", True, True),  # a bounce from the customer's mail server
        ("", True, False),  # the customer's own out-of-office
    ):
        services.ticket_receive_mail(
            ticket=ticket,
            contact=None if outside else world.alice,
            body=f"from {sender or 'alice'}",
            mail=services.MailContent(sender=sender),
            received_at=ticket.received_at,
            automatic=automatic,
            outside=outside,
        )
    api.force_authenticate(world.agent_eu)
    agent_view = api.get(f"/api/tickets/{ticket.reference}/messages/").json()
    flags = {m["body"]: (m["from_outside"], m["is_automatic"]) for m in agent_view}
    assert flags == {
        ticket.messages.order_by("pk").first().body: (False, False),  # type: ignore[union-attr]
        "from eve@unknown.test": (True, False),
        "from mailer-daemon@acme.test": (True, True),
        "from alice": (False, True),
    }
    # A staff address in a From proves nothing: such a note says so, unlike an agent's own.
    services.ticket_receive_mail(
        ticket=ticket,
        contact=None,
        body="from a staff address",
        mail=services.MailContent(sender=world.agent_eu.email),
        received_at=ticket.received_at,
        internal=True,
    )
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="a real note", internal=True)
    staff_view = {
        m["body"]: m["by_mail_from_staff_address"]
        for m in api.get(f"/api/tickets/{ticket.reference}/messages/").json()
    }
    assert staff_view["from a staff address"] is True and staff_view["a real note"] is False
    api.force_authenticate(world.alice.user)
    customer_view = api.get(f"/api/tickets/{ticket.reference}/messages/").json()
    assert [m["from_outside"] for m in customer_view] == [False, False]
    schema = api.get("/api/schema/", {"format": "json"}).json()
    message = schema["components"]["schemas"]["MessageOutput"]
    for field in ("from_outside", "is_automatic", "by_mail_from_staff_address"):
        assert message["properties"][field]["type"] == "boolean"
        assert message["properties"][field]["readOnly"] is True
        assert field in message["required"]


def test_a_contact_the_agent_does_not_serve_reads_as_an_unknown_address(
    world: World, api: APIClient
) -> None:
    """Bob exists, on the France desk: for an agent of Europe his address is as unknown as one
    nobody has, so the API reveals no other organization's people, and nothing is opened."""
    api.force_authenticate(world.agent_eu)
    answers = [
        api.post(
            "/api/tickets/",
            {"subject": "x", "description": "y", "severity": "major", "requester": address},
            format="json",
        )
        for address in (world.bob.email, "nobody@example.test")
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["requester"] == ["No contact has this address."]
    assert not Ticket.objects.exists()


def test_a_contact_opens_for_themselves_on_the_api_channel(world: World, api: APIClient) -> None:
    api.force_authenticate(world.alice.user)
    response = api.post(
        "/api/tickets/",
        {
            "subject": "Mine",
            "description": "y",
            "severity": "minor",
            "requester": world.bob.email,  # agents only: a customer cannot open for another
            "channel": "phone",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.channel, ticket.desk) == (world.alice, "api", world.europe)
    api.force_authenticate(UserFactory(username="nobody"))
    refused = api.post(
        "/api/tickets/", {"subject": "x", "description": "y", "severity": "minor"}, format="json"
    )
    assert refused.status_code == 403
    assert Ticket.objects.count() == 1
