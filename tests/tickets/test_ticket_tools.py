"""The agent's tools on a ticket (merge, canned replies) and the customer's portal extras
(support hours, the FAQ and its suggestions, preferences)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import World, client_for, open_ticket
from tickets import selectors, services
from tickets.models import (
    Article,
    CannedReply,
    Contact,
    MailThreadId,
    Message,
    OutboundMail,
    ProductArea,
    Status,
    Ticket,
)

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


# --- merge --------------------------------------------------------------------------------------


def test_merging_a_duplicate_moves_its_messages_and_closes_it(world: World) -> None:
    keep = open_ticket(world.alice, subject="Checkout down")
    dup = open_ticket(world.alice, subject="Checkout down again", body="Same since noon.")
    MailThreadId.objects.create(key="<dup@example.test>", ticket=dup)
    agent = client_for(world.agent_eu)
    response = agent.post(
        reverse("tickets:merge", args=[dup.reference]),
        {"target": keep.reference, "note": "same outage"},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"{keep.reference}/")
    dup.refresh_from_db()
    assert dup.merged_into == keep and dup.status == Status.CLOSED
    assert Message.objects.filter(ticket=keep, body="Same since noon.").exists()
    assert not Message.objects.filter(ticket=dup).exists()
    # A later mail answering the duplicate's thread lands in the ticket that stays.
    assert MailThreadId.objects.get(key="<dup@example.test>").ticket == keep
    assert all(c.state == "stopped" for c in dup.clocks.all())
    page = agent.get(reverse("tickets:detail", args=[dup.reference])).content.decode()
    assert "was merged into" in page and keep.reference in page
    customer = client_for(world.alice.user)
    customer_page = customer.get(reverse("tickets:detail", args=[keep.reference]))
    assert "Same since noon." in customer_page.content.decode()
    old_page = customer.get(reverse("tickets:detail", args=[dup.reference])).content.decode()
    assert "was merged into" in old_page and keep.reference in old_page


@pytest.mark.parametrize("case", ["itself", "other contact", "other desk", "unknown"])
def test_a_refused_merge_changes_nothing(world: World, case: str) -> None:
    dup = open_ticket(world.alice)
    target = {
        "itself": dup,
        "other contact": open_ticket(world.amir),
        "other desk": open_ticket(world.bob),
        "unknown": None,
    }[case]
    reference = target.reference if target else "PAC-999999"
    response = client_for(world.agent_eu).post(
        reverse("tickets:merge", args=[dup.reference]), {"target": reference}
    )
    assert response.status_code == 400
    dup.refresh_from_db()
    assert dup.merged_into is None and dup.status == Status.NEW
    assert Message.objects.filter(ticket=dup).count() == 1


def test_customers_cannot_merge(world: World) -> None:
    a, b = open_ticket(world.alice), open_ticket(world.alice)
    response = client_for(world.alice.user).post(
        reverse("tickets:merge", args=[a.reference]), {"target": b.reference}
    )
    assert response.status_code == 404
    a.refresh_from_db()
    assert a.merged_into is None


# --- canned replies -----------------------------------------------------------------------------


def test_agents_manage_canned_replies_and_see_them_on_tickets(world: World) -> None:
    agent = client_for(world.agent_eu)
    response = agent.post(
        reverse("desk:canned-new"),
        {"title": "Serial number", "body": "Could you send the serial number?", "desk": ""},
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get()
    assert reply.created_by == world.agent_eu and reply.desk is None
    CannedReply.objects.create(title="France only", body="Bonjour", desk=world.france)
    ticket = open_ticket(world.alice)
    page = agent.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert 'data-body="Could you send the serial number?"' in page
    assert "France only" not in page
    assert "France only" not in agent.get(reverse("desk:canned-list")).content.decode()
    agent.post(
        reverse("desk:canned-edit", args=[reply.pk]),
        {"title": "Serial number", "body": "Serial, please.", "desk": world.europe.pk},
    )
    reply.refresh_from_db()
    assert reply.body == "Serial, please." and reply.desk == world.europe
    agent.post(reverse("desk:canned-delete", args=[reply.pk]))
    assert not CannedReply.objects.filter(pk=reply.pk).exists()


def test_canned_replies_of_another_desk_are_out_of_reach(world: World) -> None:
    other = CannedReply.objects.create(title="France only", body="Bonjour", desk=world.france)
    agent = client_for(world.agent_eu)
    assert agent.get(reverse("desk:canned-edit", args=[other.pk])).status_code == 404
    assert agent.post(reverse("desk:canned-delete", args=[other.pk])).status_code == 404
    response = agent.post(
        reverse("desk:canned-new"), {"title": "x", "body": "y", "desk": world.france.pk}
    )
    assert response.status_code == 400 and CannedReply.objects.count() == 1
    assert client_for(world.alice.user).get(reverse("desk:canned-list")).status_code == 404


# --- FAQ ----------------------------------------------------------------------------------------


@pytest.fixture
def articles(world: World) -> list[Article]:
    area = ProductArea.objects.create(name="Payments", slug="payments")
    return [
        Article.objects.create(
            area=area,
            title="Payment errors after a certificate change",
            slug="payment-errors",
            language="en",
            body="Renew the certificate.",
            keywords="checkout",
        ),
        Article.objects.create(
            area=area,
            title="Erreurs de paiement",
            slug="erreurs-paiement",
            language="fr",
            body="Renouvelez le certificat.",
        ),
        Article.objects.create(
            area=area,
            title="Unpublished payment draft",
            slug="draft",
            language="en",
            body="Not yet.",
            published=False,
        ),
    ]


def test_the_faq_is_public_searchable_and_hides_drafts(articles: list[Article]) -> None:
    anonymous = Client()
    index = anonymous.get(reverse("faq:index")).content.decode()
    assert "Payments" in index and "Payment errors after a certificate change" in index
    assert "Unpublished" not in index
    found = anonymous.get(reverse("faq:index"), {"q": "checkout"}).content.decode()
    assert "Payment errors after a certificate change" in found
    assert anonymous.get(reverse("faq:article", args=["draft"])).status_code == 404
    assert anonymous.get(reverse("faq:article", args=["payment-errors"])).status_code == 200
    empty = anonymous.get(reverse("faq:index"), {"q": "zzzz"}).content.decode()
    assert "No article matches" in empty


def test_articles_are_suggested_while_the_subject_is_typed(articles: list[Article]) -> None:
    response = Client().get(reverse("faq:suggest"), {"subject": "Payment fails at checkout"})
    html = response.content.decode()
    assert 'id="faq-suggestions"' in html and "Payment errors after a certificate change" in html
    assert "Unpublished" not in html
    assert "<li>" not in Client().get(reverse("faq:suggest"), {"subject": "pa"}).content.decode()


def test_title_words_rank_first_and_the_readers_language_breaks_ties(
    articles: list[Article],
) -> None:
    found = selectors.articles_matching(Article.objects.all(), "paiement", language="fr")
    assert found[0].slug == "erreurs-paiement"


def test_agents_write_articles_customers_cannot(world: World) -> None:
    area = ProductArea.objects.create(name="API", slug="api")
    data = {"area": area.pk, "title": "Rate limits", "language": "en", "body": "100/min"}
    assert client_for(world.alice.user).post(reverse("desk:faq-new"), data).status_code == 404
    response = client_for(world.agent_eu).post(reverse("desk:faq-new"), {**data, "published": "on"})
    assert response.status_code == 302
    article = Article.objects.get()
    assert article.slug == "rate-limits" and article.author == world.agent_eu
    client_for(world.agent_eu).post(reverse("desk:faq-new"), {**data, "published": "on"})
    assert set(Article.objects.values_list("slug", flat=True)) == {"rate-limits", "rate-limits-2"}


# --- support hours ------------------------------------------------------------------------------


def test_the_portal_says_whether_support_is_open(world: World) -> None:
    customer = client_for(world.alice.user)
    # Europe calendar: Monday to Thursday 09:00–17:00 in Berlin.
    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN), tick=False):
        assert "Support is open now." in customer.get(reverse("tickets:list")).content.decode()
    with time_machine.travel(datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN), tick=False):
        page = customer.get(reverse("tickets:list")).content.decode()
        assert "Support is closed; it opens on Mon 8 Jun 2026, 09:00." in page
        assert "09:00–17:00" in page


# --- preferences --------------------------------------------------------------------------------


def test_preferences_set_language_and_time_zone(world: World) -> None:
    user = world.alice.user
    assert user is not None
    customer = client_for(user)
    response = customer.post(
        reverse("preferences"), {"language": "fr", "time_zone": "America/Chicago"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    contact = Contact.objects.get(pk=world.alice.pk)
    assert (user.language, user.time_zone, contact.language) == ("fr", "America/Chicago", "fr")
    page = customer.get(reverse("preferences")).content.decode()
    assert "Vos préférences" in page and "America/Chicago" in page
    bad = customer.post(reverse("preferences"), {"language": "de", "time_zone": "Mars/Base"})
    assert bad.status_code == 400
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("fr", "America/Chicago")


def test_a_phone_ticket_sends_the_opening_mail(world: World) -> None:
    # Sanity of the phone channel through the service the call page uses.
    ticket = services.ticket_create(
        requester=world.alice,
        subject="Called: printer offline",
        description="Printer offline since 8:00.",
        severity="minor",
        channel="phone",
        actor=world.agent_eu,
    )
    assert Ticket.objects.get(pk=ticket.pk).channel == "phone"
    assert OutboundMail.objects.filter(ticket=ticket).exists()


# --- saved views --------------------------------------------------------------------------------


def test_an_agent_saves_a_view_of_the_queue_and_deletes_it(world: World) -> None:
    blocking = open_ticket(world.alice, subject="Blocking one", severity="blocking")
    open_ticket(world.alice, subject="Minor one", severity="minor")
    agent = client_for(world.agent_eu)
    response = agent.post(
        reverse("desk:view-save"),
        {"name": "  Blocking  ", "severity": "blocking", "page": "3", "evil": "x"},
    )
    assert response.status_code == 302
    view = world.agent_eu.queue_views.get()
    assert (view.name, view.query) == ("Blocking", "severity=blocking")
    page = agent.get(f"{reverse('desk:queue')}?{view.query}").content.decode()
    assert blocking.subject in page and "Minor one" not in page
    assert 'aria-current="page">Blocking</a>' in page
    # Another agent neither sees nor deletes it.
    other = client_for(world.agent_fr)
    assert "Blocking</a>" not in other.get(reverse("desk:queue")).content.decode()
    assert other.post(reverse("desk:view-delete", args=[view.pk])).status_code == 404
    agent.post(reverse("desk:view-delete", args=[view.pk]))
    assert not world.agent_eu.queue_views.exists()


def test_a_view_needs_a_name_and_filters(world: World) -> None:
    agent = client_for(world.agent_eu)
    agent.post(reverse("desk:view-save"), {"name": "", "severity": "blocking"})
    agent.post(reverse("desk:view-save"), {"name": "Nothing"})
    assert not world.agent_eu.queue_views.exists()
    assert (
        client_for(world.alice.user)
        .post(reverse("desk:view-save"), {"name": "x", "severity": "minor"})
        .status_code
        == 404
    )


# --- a phone call on an existing ticket ---------------------------------------------------------


def test_a_call_logged_later_acknowledges_at_the_time_of_the_call(world: World) -> None:
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
    ticket = open_ticket(world.alice, received_at=monday)
    agent = client_for(world.agent_eu)
    with time_machine.travel(datetime(2026, 6, 8, 16, 0, tzinfo=BERLIN), tick=False):
        response = agent.post(
            reverse("tickets:reply", args=[ticket.reference]),
            {"body": "Called Alice back.", "phone_call": "on", "called_at": "2026-06-08T10:30"},
        )
    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket, body="Called Alice back.")
    assert message.channel == "phone"
    assert message.received_at == datetime(2026, 6, 8, 10, 30, tzinfo=BERLIN)
    ack = ticket.clocks.get(metric="acknowledgement")
    assert ack.stopped_at == message.received_at and ack.outcome == "met"


def test_a_call_before_the_ticket_or_in_the_future_is_refused(world: World) -> None:
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
    ticket = open_ticket(world.alice, received_at=monday)
    agent = client_for(world.agent_eu)
    with time_machine.travel(datetime(2026, 6, 8, 16, 0, tzinfo=BERLIN), tick=False):
        for when in ("2026-06-08T08:00", "2026-06-08T18:00"):
            response = agent.post(
                reverse("tickets:reply", args=[ticket.reference]),
                {"body": "Called.", "phone_call": "on", "called_at": when},
            )
            assert response.status_code == 400, when
    assert not Message.objects.filter(ticket=ticket, body="Called.").exists()
