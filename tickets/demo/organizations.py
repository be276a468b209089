"""Where the demo's support happens and for whom: three desks on the seeded calendars, each
with its lead and agent, and two customer organizations under the `standard` policy with the
desks that serve them and a chat widget to try."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sla.models import Calendar, SlaPolicy
from tickets.channels.chat import services as chat_services
from tickets.demo.people import Staff
from tickets.models import Desk, Organization, Region


@dataclass(frozen=True)
class Desks:
    europe: Desk
    america: Desk
    france: Desk


@dataclass(frozen=True)
class Organizations:
    kiosk: Organization  # Kiosk Vision: Europe and North America
    eventia: Organization  # Eventia: France
    created: bool  # Kiosk Vision is new: the demo's history is still to write


def desks_seed(staff: Staff) -> Desks:
    europe, _ = Desk.objects.get_or_create(
        slug="europe",
        defaults={
            "name": "Europe",
            "region": Region.EUROPE,
            "calendar": Calendar.objects.get(slug="europe"),
            "email": "support-eu@pacte.example",
            "lead": staff.anna,
        },
    )
    america, _ = Desk.objects.get_or_create(
        slug="north-america",
        defaults={
            "name": "North America",
            "region": Region.NORTH_AMERICA,
            "calendar": Calendar.objects.get(slug="north-america"),
            "email": "support-us@pacte.example",
            "lead": staff.nate,
        },
    )
    france, _ = Desk.objects.get_or_create(
        slug="france",
        defaults={
            "name": "France",
            "region": Region.EUROPE,
            "calendar": Calendar.objects.get(slug="france"),
            "email": "support@eventia.pacte.example",
            "lead": staff.fanny,
        },
    )
    europe.agents.add(staff.anna)
    america.agents.add(staff.nate)
    france.agents.add(staff.fanny)
    return Desks(europe=europe, america=america, france=france)


def organizations_seed(*, policy: SlaPolicy, desks: Desks) -> Organizations:
    kiosk, created_kiosk = Organization.objects.get_or_create(
        slug="kiosk-vision",
        defaults={
            "name": "Kiosk Vision",
            "sla_policy": policy,
            "availability_commitment": Decimal("99.500"),
        },
    )
    kiosk.desks.add(desks.europe, desks.america)
    eventia, _ = Organization.objects.get_or_create(
        slug="eventia",
        defaults={
            "name": "Eventia",
            "sla_policy": policy,
            "availability_commitment": Decimal("99.800"),
        },
    )
    eventia.desks.add(desks.france)
    for organization, domain in ((kiosk, "kiosk-vision.example"), (eventia, "eventia.example")):
        if not organization.chat_secret:  # managers try the widget at /chat/widget/try/
            organization.chat_domains = domain
            organization.save(update_fields=["chat_domains"])
            chat_services.organization_chat_secret_rotate(organization=organization)
    return Organizations(kiosk=kiosk, eventia=eventia, created=created_kiosk)
