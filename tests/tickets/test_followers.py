"""Followers (issue 23, point 3): people copied on a ticket — contacts of its organization and
support staff — get its public updates; a customer's mail copying colleagues adds them. Only
the ticket's organization can be copied; a follower may always leave."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from sla.models import Notification
from tests.accounts.second_factor import pass_second_factor
from tests.factories import ContactFactory, UserFactory, World, client_for, open_ticket
from tickets import services
from tickets.exceptions import TicketError
from tickets.models import Contact, Follower, OutboundMail, SatisfactionRating
from tickets.services.followers import follower_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


def _colleague(world: World) -> Contact:
    return ContactFactory(
        organization=world.acme, name="Chloé Martin", user=UserFactory(username="chloe")
    )


def test_a_copied_colleague_sees_replies_and_is_copied_on_the_mails(world: World) -> None:
    chloe = _colleague(world)
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    alice = client_for(world.alice.user)
    assert chloe.user is not None
    assert client_for(chloe.user).get(f"/tickets/{ticket.reference}/").status_code == 404
    page = alice.get(f"/tickets/{ticket.reference}/").content.decode()
    assert f'value="contact:{chloe.pk}"' in page and f'value="contact:{world.bob.pk}"' not in page
    alice.post(f"/tickets/{ticket.reference}/followers/", {"who": f"contact:{chloe.pk}"})
    assert Follower.objects.filter(ticket=ticket, contact=chloe).exists()
    # Chloé now finds the ticket, reads it and may answer it.
    listed = client_for(chloe.user).get("/tickets/").content.decode()
    assert ticket.subject in listed
    answer = client_for(chloe.user).post(
        f"/tickets/{ticket.reference}/reply/", {"body": "Same here"}
    )
    assert answer.status_code == 302
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Fixed.", then_status="resolved"
    )
    reply = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).latest("pk")
    assert reply.to_address == world.alice.email and reply.cc_addresses == chloe.email
    opened = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.OPENED)
    assert opened.cc_addresses == ""  # sent before she was copied
    # She leaves: the ticket is no longer hers to see.
    follower = Follower.objects.get(ticket=ticket, contact=chloe)
    gone = client_for(chloe.user).post(
        f"/tickets/{ticket.reference}/followers/{follower.pk}/remove/"
    )
    assert gone.status_code == 302 and gone["Location"] == "/tickets/"
    assert client_for(chloe.user).get(f"/tickets/{ticket.reference}/").status_code == 404


def test_only_the_organization_and_its_support_can_be_copied(world: World) -> None:
    ticket = open_ticket(world.alice)
    for kwargs in [{"contact": world.bob}, {"contact": world.alice}, {"user": world.agent_fr}]:
        with pytest.raises(TicketError):
            follower_add(ticket=ticket, actor=world.agent_eu, **kwargs)  # type: ignore[arg-type]
    bob = client_for(world.bob.user)
    assert (
        bob.post(
            f"/tickets/{ticket.reference}/followers/", {"who": f"contact:{world.bob.pk}"}
        ).status_code
        == 404
    )
    alice = client_for(world.alice.user)
    alice.post(f"/tickets/{ticket.reference}/followers/", {"who": f"user:{world.agent_eu.pk}"})
    assert not Follower.objects.exists()  # a customer copies colleagues, not staff


def test_a_staff_follower_gets_a_copy_of_what_others_write(world: World) -> None:
    ticket = open_ticket(world.alice)
    anna = client_for(world.agent_eu)
    pass_second_factor(anna, world.agent_eu)
    anna.post(f"/tickets/{ticket.reference}/followers/", {"who": f"user:{world.manager.pk}"})
    services.ticket_reply(ticket=ticket, author=world.alice.user, body="Still broken.")
    services.ticket_reply(ticket=ticket, author=world.manager, body="On it.")
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="A note", internal=True)
    copies = OutboundMail.objects.filter(kind=OutboundMail.Kind.FOLLOWER)
    assert [(c.to_address, c.message.body) for c in copies] == [  # type: ignore[union-attr]
        (world.manager.email, "Still broken.")
    ]
    assert ticket.reference in copies[0].subject and "Still broken." in copies[0].text


def test_a_copied_colleague_reads_and_replies_but_does_not_own_the_ticket(world: World) -> None:
    """Closing, reopening, rating and choosing who is copied stay with the requester and the
    organization's admins; a mail copied to colleagues carries no rating links."""
    chloe = _colleague(world)
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    follower_add(ticket=ticket, actor=world.alice.user, contact=chloe)
    assert chloe.user is not None
    colleague = client_for(chloe.user)
    page = colleague.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Close this ticket" not in page and "Copy someone" not in page
    colleague.post(f"/tickets/{ticket.reference}/status/", {"status": "closed"})
    assert (
        colleague.post(
            f"/tickets/{ticket.reference}/followers/", {"who": f"contact:{world.amir.pk}"}
        ).status_code
        == 404
    )
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Fixed.", then_status="resolved"
    )
    colleague.post(f"/tickets/{ticket.reference}/satisfaction/", {"score": "bad"})
    colleague.post(f"/tickets/{ticket.reference}/reopen/")
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and not SatisfactionRating.objects.exists()
    resolved = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).latest("pk")
    assert resolved.cc_addresses == chloe.email and "/satisfaction/" not in resolved.text
    assert Follower.objects.filter(ticket=ticket).count() == 1


def test_odd_input_is_refused_not_a_server_error(world: World) -> None:
    ticket = open_ticket(world.alice)
    alice = client_for(world.alice.user)
    for who in ["contact:²", "contact:", "user:x", "robot:1", ""]:
        answer = alice.post(f"/tickets/{ticket.reference}/followers/", {"who": who})
        assert answer.status_code == 302, who
    assert alice.get("/tickets/", {"q": "²"}).status_code == 200
    assert not Follower.objects.exists()


def test_a_staff_follower_is_notified_in_the_app_until_they_open_it(
    world: World,
) -> None:
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    follower_add(ticket=ticket, actor=world.agent_eu, user=world.manager)
    services.ticket_reply(ticket=ticket, author=world.alice.user, body="Still <b>broken</b>.")
    services.ticket_reply(ticket=ticket, author=world.manager, body="On it.")  # their own
    manager = client_for(world.manager)
    pass_second_factor(manager, world.manager)
    page = manager.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="notification kind-message unread"') == 1
    assert f"{world.alice.name} wrote: Still broken." in page and "Receipts do not print" in page
    assert '<span class="count" aria-label="1 unread">1</span>' in page
    assert not Notification.objects.filter(recipient=world.agent_eu).exists()  # not following

    notice = Notification.objects.get(recipient=world.manager)
    opened = manager.post(f"/notifications/{notice.pk}/")  # opening it goes to the ticket
    assert opened.status_code == 302 and opened["Location"] == f"/tickets/{ticket.reference}/"
    page = manager.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "kind-message unread" not in page and 'aria-label="1 unread"' not in page
    notice.refresh_from_db()
    assert notice.email == Notification.Email.NONE  # its copy went by mail already, once
    assert OutboundMail.objects.filter(kind=OutboundMail.Kind.FOLLOWER).count() == 1


def test_a_notification_is_an_alert_or_a_message_never_half_of_each(world: World) -> None:
    ticket = open_ticket(world.alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=world.manager,
            ticket=ticket,
            kind=Notification.Kind.MESSAGE,
            email=Notification.Email.NONE,
            deliver_after=ticket.received_at,
        )  # a message notification with no message


def test_a_follower_moved_off_the_desk_no_longer_reads_its_notifications(world: World) -> None:
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    follower_add(ticket=ticket, actor=world.agent_eu, user=world.agent_eu)
    services.ticket_reply(ticket=ticket, author=world.alice.user, body="My PIN is 4321.")
    anna = client_for(world.agent_eu)
    pass_second_factor(anna, world.agent_eu)
    assert "My PIN is 4321." in anna.get("/notifications/").content.decode()
    world.europe.agents.remove(world.agent_eu)
    world.france.agents.add(world.agent_eu)
    page = anna.get("/notifications/").content.decode()
    assert "4321" not in page and "Receipts do not print" not in page
    assert 'class="count"' not in page  # nor counted among the unread
    notice = Notification.objects.get(recipient=world.agent_eu)
    assert anna.post(f"/notifications/{notice.pk}/").status_code == 404
