"""What a review of the accounts work found, each now refused or kept right."""

from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, World, open_ticket
from tickets import services
from tickets.accounts.audit import audit_record
from tickets.accounts.sso import _verified_address
from tickets.models import ApiToken, AuditEvent, Contact, OutboundMail, User
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db


def token(username: str) -> Any:
    return APIClient().post(
        "/api/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )


def test_no_api_for_a_customer_whose_organization_has_no_contract(world: World) -> None:
    key = token("bob").json()["token"]
    world.globex.under_contract = False
    world.globex.save(update_fields=["under_contract"])
    assert token("bob").status_code == 403
    assert APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_the_password_endpoint_keeps_working_for_a_script_run_every_day(world: World) -> None:
    keys = []
    for _ in range(25):  # one a day: the endpoint's rate limit counts in the cache
        cache.clear()
        keys.append(token("alice").json()["token"])
    assert len(set(keys)) == 25
    assert ApiToken.objects.filter(user=world.alice.user, revoked_at__isnull=True).count() == 20


@pytest.mark.parametrize("claim", ["false", "False", False, None, "0"])
def test_single_sign_on_takes_only_a_true_email_verified(claim: object) -> None:
    login = SimpleNamespace(
        email_addresses=[SimpleNamespace(email="a@company.example", verified=claim)],
        account=SimpleNamespace(extra_data={"email": "a@company.example", "email_verified": claim}),
    )
    assert _verified_address(login) == ""
    login.email_addresses[0].verified = "true"
    assert _verified_address(login) == "a@company.example"


def test_csv_cells_never_run_as_formulas(world: World) -> None:
    audit_record(AuditEvent.Kind.SIGN_IN_FAILED, target='=HYPERLINK("http://evil.test","x")')
    manager = Client()
    manager.force_login(world.manager)
    rows = list(csv.reader(io.StringIO(manager.get("/desk/audit/log.csv").content.decode())))
    (line,) = [row for row in rows if "HYPERLINK" in row[3]]
    assert line[3].startswith("'=HYPERLINK")


def test_an_invitation_cannot_take_an_address_in_use(world: World) -> None:
    admin = Client()
    admin.force_login(world.amir.user)
    answers = [
        admin.post("/organization/people/", {"name": "X", "email": address})
        for address in (world.agent_eu.email.upper(), world.bob.email)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert all("This address cannot be invited." in a.content.decode() for a in answers)
    assert User.objects.filter(email__iexact=world.agent_eu.email).count() == 1
    long_name = admin.post(
        "/organization/people/", {"name": "A" * 160 + " " + "B" * 39, "email": "dana@acme.test"}
    )
    assert long_name.status_code == 302


def test_a_new_invitation_ends_the_earlier_link(world: World) -> None:
    admin = Client()
    admin.force_login(world.amir.user)
    links = []
    for _ in range(2):
        admin.post("/organization/people/", {"name": "Dana", "email": "dana@acme.test"})
        mail_sweep_task()
        links.append(re.search(r"(/accounts/invitation/\S+/)", str(mail.outbox[-1].body)).group(1))  # type: ignore[union-attr]
    assert Client().get(links[0]).status_code == 404
    assert Client().get(links[1]).status_code == 200


def test_a_user_with_audit_lines_can_be_deleted(world: World) -> None:
    Client().post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    root = User.objects.create_superuser("root", "root@example.test", PASSWORD)
    admin = Client()
    admin.force_login(root)
    user = world.alice.user
    Contact.objects.filter(pk=world.alice.pk).update(user=None)
    response = admin.post(f"/admin/tickets/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not User.objects.filter(pk=user.pk).exists()
    assert AuditEvent.objects.filter(kind="sign_in", actor_name="alice").exists()


def test_erasing_a_contact_leaves_others_mail_alone(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Looking into it.")
    other = OutboundMail.objects.filter(to_address=world.alice.email).first()
    assert other is not None
    colleague = OutboundMail.objects.create(
        kind=OutboundMail.Kind.REPLY, ticket=ticket, from_address="eu@support.example.test",
        to_address="colleague@acme.test", to_name="Colleague", language="en",
        subject="Re", text="Hi colleague", html="", mail_id="<colleague@test>",
    )  # fmt: skip
    manager = Client()
    manager.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(f"/desk/personal-data/{world.alice.pk}/erase/", {"confirm": world.alice.email})
    colleague.refresh_from_db()
    assert (colleague.to_address, colleague.text) == ("colleague@acme.test", "Hi colleague")
    pending = OutboundMail.objects.filter(ticket=ticket).exclude(pk=colleague.pk)
    assert all(m.to_address.endswith("@erased.invalid") for m in pending)
    assert not pending.filter(state=OutboundMail.State.PENDING).exists()


def test_a_search_with_a_nul_character_answers(world: World) -> None:
    manager = Client()
    manager.force_login(world.manager)
    assert manager.get("/desk/personal-data/?q=%00abc").status_code == 200
    assert manager.get("/desk/audit/?who=%00abc").status_code == 400  # the form says why
