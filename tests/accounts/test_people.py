"""Organizations manage their own people: invitations by mail with a signed, expiring,
single-use link; turning a colleague's sign-in off and on; roles; domains; the contract."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.accounts.mail import INVITATION_LINK, mailed_link
from tests.factories import PASSWORD, World
from tickets.models import Contact, User
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db
NEW = "a long enough passphrase 2026"


def admin_client(world: World) -> Client:
    client = Client()
    client.force_login(world.amir.user)  # Acme's administrator
    return client


def invite(client: Client, email: str, name: str = "Dana Scully", **extra: str) -> int:
    return client.post("/organization/people/", {"name": name, "email": email, **extra}).status_code


def invitation_link() -> str:
    return mailed_link(INVITATION_LINK)


def signs_in(username: str, password: str) -> bool:
    client = Client()
    client.post("/accounts/login/", {"login": username, "password": password})
    return "_auth_user_id" in client.session


def test_an_admin_invites_a_colleague_who_sets_a_password_once(world: World) -> None:
    admin = admin_client(world)
    assert admin.get("/organization/people/").status_code == 200
    assert invite(admin, "dana@acme.test") == 302
    dana = Contact.objects.get(email="dana@acme.test")
    assert dana.organization == world.acme and dana.role == "member" and dana.user is not None
    assert not dana.user.has_usable_password()
    mail_sweep_task()
    (message,) = mail.outbox
    assert "invites you to follow Acme's support tickets" in str(message.body)
    mail.outbox.clear()
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", str(message.body))
    assert link
    page = Client().get(link.group(1))
    assert page.status_code == 200 and dana.user.username in page.content.decode()
    weak = Client().post(link.group(1), {"new_password1": "abc", "new_password2": "abc"})
    assert weak.status_code == 400
    done = Client().post(link.group(1), {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert signs_in(dana.user.username, NEW)
    again = Client().get(link.group(1))
    assert again.status_code == 404 and "This link no longer works" in again.content.decode()


def test_an_invitation_expires(world: World, settings: object) -> None:
    invite(admin_client(world), "dana@acme.test")
    link = invitation_link()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert Client().get(link).status_code == 404
    altered = link.replace("/accounts/invitation/", "/accounts/invitation/x")
    assert Client().get(altered).status_code == 404


def test_only_admins_of_a_contracted_organization_invite(world: World) -> None:
    member = Client()
    member.force_login(world.alice.user)
    assert member.get("/organization/people/").status_code == 404
    assert invite(member, "dana@acme.test") == 404
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.get("/organization/people/").status_code == 404
    world.acme.under_contract = False
    world.acme.save(update_fields=["under_contract"])
    admin = admin_client(world)
    assert invite(admin, "dana@acme.test") == 400
    assert not Contact.objects.filter(email="dana@acme.test").exists()


def test_invitations_keep_to_the_organizations_domains(world: World) -> None:
    world.acme.invitation_domains = "acme.test\nacme.example"
    world.acme.save(update_fields=["invitation_domains"])
    admin = admin_client(world)
    assert invite(admin, "dana@gmail.example") == 400
    assert invite(admin, "dana@ACME.example") == 302
    # An address that already has an account, here or elsewhere, is refused.
    assert invite(admin, world.bob.email, name="Bob") == 400
    assert invite(admin, world.alice.email, name="Alice") == 400
    assert Contact.objects.filter(email__iexact="dana@acme.example").count() == 1


def test_turning_a_colleague_off_ends_their_sessions_and_sign_in(world: World) -> None:
    alice = Client()
    alice.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert alice.get("/tickets/").status_code == 200
    admin = admin_client(world)
    change = f"/organization/people/{world.alice.pk}/"
    admin.post(change, {"action": "deactivate"})
    assert alice.get("/tickets/").status_code == 302  # signed out at once
    refused = Client().post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert not signs_in("alice", PASSWORD)
    assert refused.status_code in (200, 302)
    admin.post(change, {"action": "activate"})
    assert signs_in("alice", PASSWORD)
    # Not oneself, nor someone of another organization.
    admin.post(f"/organization/people/{world.amir.pk}/", {"action": "deactivate"})
    assert User.objects.get(pk=world.amir.user.pk).is_active
    elsewhere = admin.post(f"/organization/people/{world.bob.pk}/", {"action": "deactivate"})
    assert elsewhere.status_code == 404
    assert User.objects.get(pk=world.bob.user.pk).is_active


def test_roles_keep_one_administrator(world: World) -> None:
    admin = admin_client(world)
    admin.post(f"/organization/people/{world.alice.pk}/", {"action": "make_admin"})
    assert Contact.objects.get(pk=world.alice.pk).role == "admin"
    admin.post(f"/organization/people/{world.alice.pk}/", {"action": "make_member"})
    assert Contact.objects.get(pk=world.alice.pk).role == "member"
    page = admin.post(
        f"/organization/people/{world.amir.pk}/", {"action": "make_member"}, follow=True
    ).content.decode()
    assert "at least one administrator" in page
    assert Contact.objects.get(pk=world.amir.pk).role == "admin"


def test_contacts_of_an_organization_without_contract_do_not_sign_in(world: World) -> None:
    world.acme.under_contract = False
    world.acme.save(update_fields=["under_contract"])
    client = Client()
    response = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert response["Location"] == "/accounts/inactive/"
    assert "_auth_user_id" not in client.session
    assert "no support contract" in client.get("/accounts/inactive/").content.decode()
    assert signs_in("bob", PASSWORD)  # Globex keeps its contract
