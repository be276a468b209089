"""Test data. `make_world` builds the usual cast: two customers on separate desks."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import factory
from django.apps import apps
from django.test import Client
from django.utils import timezone

from sla.defaults import seed_defaults
from sla.models import Calendar, SlaPolicy
from tickets import services
from tickets.models import Channel, Contact, Desk, Organization, Region, Severity, Ticket, User

PASSWORD = "correct horse battery staple"

# A real one-pixel PNG and a one-page PDF: uploads are checked against their names.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = User.Role.CUSTOMER
    password = factory.django.Password(PASSWORD)


class DeskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Desk

    name = factory.Sequence(lambda n: f"Desk {n}")
    slug = factory.Sequence(lambda n: f"desk-{n}")
    region = Region.EUROPE
    calendar = factory.LazyFunction(lambda: Calendar.objects.get(slug="europe"))
    email = factory.Sequence(lambda n: f"desk{n}@support.example.test")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    sla_policy = factory.LazyFunction(lambda: SlaPolicy.objects.get(slug="standard"))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example.test")
    user = factory.SubFactory(UserFactory)


@dataclass
class World:
    europe: Desk
    france: Desk
    acme: Organization  # served by the europe desk
    globex: Organization  # served by the france desk
    alice: Contact  # acme member
    amir: Contact  # acme organization admin
    bob: Contact  # globex member
    agent_eu: User
    agent_fr: User
    manager: User


def make_world() -> World:
    # A transactional test flushes the tables, rows of data migrations included.
    seed_defaults(apps)
    europe = DeskFactory(slug="eu", name="Europe")
    france = DeskFactory(slug="fr", name="France", calendar=Calendar.objects.get(slug="france"))
    acme = OrganizationFactory(name="Acme", slug="acme")
    acme.desks.add(europe)
    globex = OrganizationFactory(name="Globex", slug="globex")
    globex.desks.add(france)
    agent_eu = UserFactory(username="agent_eu", role=User.Role.AGENT)
    agent_fr = UserFactory(username="agent_fr", role=User.Role.AGENT)
    europe.agents.add(agent_eu)
    france.agents.add(agent_fr)
    return World(
        europe=europe,
        france=france,
        acme=acme,
        globex=globex,
        alice=ContactFactory(organization=acme, user=UserFactory(username="alice")),
        amir=ContactFactory(
            organization=acme, user=UserFactory(username="amir"), role=Contact.Role.ADMIN
        ),
        bob=ContactFactory(organization=globex, user=UserFactory(username="bob")),
        agent_eu=agent_eu,
        agent_fr=agent_fr,
        manager=UserFactory(username="manager", role=User.Role.MANAGER),
    )


def open_ticket(
    contact: Contact,
    *,
    subject: str = "The product is down",
    severity: str = Severity.MAJOR,
    body: str = "Nothing loads since 9:00.",
    received_at: datetime | None = None,
    channel: str = Channel.WEB,
) -> Ticket:
    return services.ticket_create(
        requester=contact,
        subject=subject,
        description=body,
        severity=severity,
        channel=channel,
        actor=contact.user,
        received_at=received_at or timezone.now(),
    )


def client_for(user: User | None) -> Client:
    """A test client signed in as the user (a contact's user may be None: then anonymous)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
