"""Contracts per organization (SLA-RULES.md): "under contract" follows the contract's dates,
inclusive, in the local dates of its calendar; outside them the portal says why filing is
refused; a ticket received under a contract keeps the contract's policy and calendar;
managers are reminded before a contract ends, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from sla.contracts import contracts_apply, contracts_remind
from sla.defaults import SINCE_ALWAYS
from sla.models import Calendar, Clock, Contract, SlaPolicy
from sla.policies import policy_version_add
from tests.factories import PASSWORD, World, open_ticket
from tickets.exceptions import NotUnderContract

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def contract(world: World, **fields: object) -> Contract:
    values: dict[str, object] = {
        "organization": world.acme, "starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31),
    }  # fmt: skip
    return Contract.objects.create(**(values | fields))


def test_under_contract_follows_the_dates_in_the_contracts_local_days(world: World) -> None:
    contract(world)  # Berlin, the Europe desk's calendar
    assert contracts_apply(now=datetime(2026, 12, 31, 23, 30, tzinfo=BERLIN)) == 0  # still in
    # 00:30 on 1 January in Berlin: the contract's last day is over.
    assert contracts_apply(now=datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN)) == 1
    world.acme.refresh_from_db()
    assert not world.acme.under_contract
    with (
        time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN), tick=False),
        pytest.raises(NotUnderContract, match="contract ended on 31 Dec 2026"),
    ):
        open_ticket(world.alice)
    customer = Client()
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=BERLIN), tick=False):
        customer.force_login(world.alice.user)  # type: ignore[arg-type]  # still signed in
        page = customer.get("/tickets/").content.decode()
    assert "support contract ended on 31 Dec 2026" in page
    assert "Report an incident" not in page
    # A renewal from 1 February: said, then in force on its first day.
    contract(world, starts_on=date(2027, 2, 1), ends_on=date(2027, 12, 31))
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=BERLIN), tick=False):
        customer.force_login(world.alice.user)  # type: ignore[arg-type]
        page = customer.get("/tickets/").content.decode()
    assert "support contract starts on 1 Feb 2027" in page
    contracts_apply(now=datetime(2027, 2, 1, 0, 5, tzinfo=BERLIN))
    world.acme.refresh_from_db()
    assert world.acme.under_contract


def test_a_contract_on_new_york_hours_ends_at_new_york_midnight(world: World) -> None:
    contract(world, calendar=Calendar.objects.get(slug="north-america"))
    # 05:00 UTC on 1 January is still 31 December in New York.
    assert contracts_apply(now=datetime(2027, 1, 1, 4, 59, tzinfo=UTC)) == 0
    assert contracts_apply(now=datetime(2027, 1, 1, 5, 0, tzinfo=UTC)) == 1


def test_a_ticket_under_contract_keeps_its_policy_and_hours(world: World) -> None:
    premium = SlaPolicy.objects.create(slug="premium", name="Premium")
    policy_version_add(
        policy=premium, effective_at=SINCE_ALWAYS,
        targets=[("blocking", "acknowledgement", 1, "business_hours"),
                 ("blocking", "correction", 8, "business_hours")],
    )  # fmt: skip
    contract(world, policy=premium, calendar=Calendar.objects.get(slug="north-america"))
    # Monday 8 June 2026, 10:00 in New York (16:00 in Berlin, an hour before the Europe desk
    # closes): one business hour on New York's calendar, 9–17 there: due 11:00 New York.
    received = datetime(2026, 6, 8, 10, tzinfo=NEW_YORK)
    ticket = open_ticket(world.alice, severity="blocking", received_at=received)
    ack = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    assert ack.due_at == datetime(2026, 6, 8, 11, tzinfo=NEW_YORK)
    assert (ticket.sla_policy, ticket.calendar.slug) == (premium, "north-america")  # type: ignore[union-attr]
    # Without the contract: the standard 5 business hours on the Europe desk's calendar.
    Contract.objects.all().delete()
    plain = open_ticket(world.alice, severity="blocking", received_at=received)
    assert Clock.objects.get(ticket=plain, metric="acknowledgement").due_at == datetime(
        2026, 6, 9, 13, tzinfo=BERLIN
    )  # Monday 16–17 (1 h), Tuesday 09–13 (4 h)


def test_managers_are_reminded_once_before_a_contract_ends(world: World) -> None:
    world.manager.email, world.manager.language = "maya@pacte.example", "fr"
    world.manager.save()
    ending = contract(world)
    now = datetime(2026, 12, 5, 8, tzinfo=BERLIN)
    assert contracts_remind(now=now) == 1
    assert contracts_remind(now=now + timedelta(days=1)) == 0
    (message,) = mail.outbox
    assert message.subject == "Fin de contrat : Acme le 31 déc. 2026"
    assert f"/admin/sla/contract/{ending.pk}/change/" in message.body
    # A contract that another follows is not reminded.
    contract(world, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31))
    Contract.objects.filter(pk=ending.pk).update(reminded_at=None)
    assert contracts_remind(now=now) == 0


def test_signing_in_after_the_contract_ended_says_why(world: World) -> None:
    contract(world)
    contracts_apply(now=datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN))
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=BERLIN), tick=False):
        page = Client().post(
            "/accounts/login/", {"login": "alice", "password": PASSWORD}, follow=True
        )
    html = page.content.decode()
    assert "Acme&#x27;s support contract ended on 31 Dec 2026" in html


def test_people_signed_in_when_the_contract_ends_are_signed_out(world: World) -> None:
    contract(world)
    customer = Client()
    with time_machine.travel(datetime(2026, 12, 31, 16, tzinfo=BERLIN), tick=False):
        customer.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        assert customer.get("/tickets/").status_code == 200
    contracts_apply(now=datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN))
    with time_machine.travel(datetime(2027, 1, 1, 0, 31, tzinfo=BERLIN), tick=False):
        page = customer.get("/tickets/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
