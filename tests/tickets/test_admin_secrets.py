"""The admin never shows a stored secret: write-only fields that keep the stored value when
left empty; a mailbox's CA bundle is checked on save; a new chat secret is shown once."""

from __future__ import annotations

from typing import Any

import pytest
import trustme
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.forms.models import model_to_dict
from django.urls import reverse

from tests.factories import World, client_for
from tests.mailservers import self_signed_identity
from tickets.admin import DeskForm, MailboxForm, OrganizationForm
from tickets.models import Desk, Mailbox, Organization

pytestmark = pytest.mark.django_db

WEBHOOK, CHAT, PASSWORD = "webhook-token-of-europe", "c" * 40, "imap-password-of-europe"


@pytest.fixture
def configured(world: World) -> tuple[Desk, Organization, Mailbox]:
    world.europe.inbound_secret = WEBHOOK
    world.europe.save()
    world.acme.chat_secret = CHAT
    world.acme.save()
    mailbox = Mailbox.objects.create(
        desk=world.europe, host="imap.example.test", username="eu", password=PASSWORD
    )
    return world.europe, world.acme, mailbox


def form_data(instance: Any, **changes: Any) -> dict[str, Any]:
    data = {k: v for k, v in model_to_dict(instance).items() if v is not None}
    for name in ("agents", "desks"):
        if name in data:
            data[name] = [o.pk for o in data[name]]
    data.update(changes)
    return data


def test_the_change_pages_show_no_secret(
    world: World, configured: tuple[Desk, Organization, Mailbox]
) -> None:
    desk, acme, _mailbox = configured
    admin = client_for(world.manager)
    world.manager.is_staff = True
    world.manager.save()
    desk_page = admin.get(reverse("admin:tickets_desk_change", args=[desk.pk])).content.decode()
    org_page = admin.get(reverse("admin:tickets_organization_change", args=[acme.pk]))
    assert "leave empty to keep the current one" in desk_page
    assert WEBHOOK not in desk_page and PASSWORD not in desk_page
    assert "CA certificates" in desk_page
    assert CHAT not in org_page.content.decode()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"inbound_secret": ""}, WEBHOOK),  # left empty: kept
        ({"inbound_secret": "a-new-token"}, "a-new-token"),
        ({"inbound_secret": "", "inbound_secret_clear": "on"}, ""),  # the webhook turned off
    ],
)
def test_a_secret_field_keeps_replaces_or_clears(
    configured: tuple[Desk, Organization, Mailbox], changes: dict[str, str], expected: str
) -> None:
    desk, _acme, _mailbox = configured
    form = DeskForm(data=form_data(desk, **changes), instance=desk)
    assert form.is_valid(), form.errors
    form.save()
    assert Desk.objects.get(pk=desk.pk).inbound_secret == expected


def test_the_chat_secret_form_keeps_its_rules(
    configured: tuple[Desk, Organization, Mailbox],
) -> None:
    _desk, acme, _mailbox = configured
    short = OrganizationForm(data=form_data(acme, chat_secret="too short"), instance=acme)
    assert not short.is_valid() and "chat_secret" in short.errors
    acme = Organization.objects.get(pk=acme.pk)  # the refused form changed its instance
    kept = OrganizationForm(data=form_data(acme, chat_secret=""), instance=acme)
    assert kept.is_valid(), kept.errors
    kept.save()
    assert Organization.objects.get(pk=acme.pk).chat_secret == CHAT


def mailbox_data(mailbox: Mailbox, **changes: Any) -> dict[str, Any]:
    data = form_data(mailbox, password="")
    data.pop("desk", None)
    data.update(changes)
    return data


def test_the_mailbox_form_checks_the_ca_bundle(
    configured: tuple[Desk, Organization, Mailbox],
) -> None:
    _desk, _acme, mailbox = configured
    ca = trustme.CA()
    identity = self_signed_identity()
    cases = [
        ("not a certificate", "Paste one or more PEM certificates"),
        (identity.key_pem.decode(), "This is a private key"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read"),
    ]
    for bundle, error in cases:
        form = MailboxForm(data=mailbox_data(mailbox, ca_bundle=bundle), instance=mailbox)
        assert not form.is_valid()
        assert error in str(form.errors["ca_bundle"])
    good = MailboxForm(
        data=mailbox_data(mailbox, ca_bundle=ca.cert_pem.bytes().decode()), instance=mailbox
    )
    assert good.is_valid(), good.errors
    good.save()
    saved = Mailbox.objects.get(pk=mailbox.pk)
    assert saved.password == PASSWORD  # left empty: kept
    assert "BEGIN CERTIFICATE" in saved.ca_bundle


def test_the_mailbox_form_refuses_plain_imap_over_a_network(
    configured: tuple[Desk, Organization, Mailbox],
) -> None:
    _desk, _acme, mailbox = configured
    form = MailboxForm(data=mailbox_data(mailbox, security="none"), instance=mailbox)
    assert not form.is_valid() and "in clear" in str(form.errors["security"])
    new = MailboxForm(data=mailbox_data(mailbox, password=""), instance=Mailbox(desk=mailbox.desk))
    assert not new.is_valid() and "password" in new.errors  # a new mailbox needs one


def test_a_new_chat_secret_is_shown_once(
    world: World, configured: tuple[Desk, Organization, Mailbox]
) -> None:
    _desk, acme, _mailbox = configured
    world.manager.is_staff = True
    world.manager.save()
    admin = client_for(world.manager)
    response = admin.post(
        reverse("admin:tickets_organization_changelist"),
        {"action": "rotate_chat_secret", ACTION_CHECKBOX_NAME: [acme.pk]},
        follow=True,
    )
    acme.refresh_from_db()
    assert acme.chat_secret != CHAT
    assert f"Acme: {acme.chat_secret}" in response.content.decode()
    # On its way to that page the secret stayed on the server: no cookie carries it.
    assert all(acme.chat_secret not in c.value for c in admin.cookies.values())
    assert "messages" not in admin.cookies
    page = admin.get(reverse("admin:tickets_organization_change", args=[acme.pk]))
    assert acme.chat_secret not in page.content.decode()
