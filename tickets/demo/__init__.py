"""Demo data modelled on the two SLA documents: `python manage.py seed_demo` (idempotent).

`demo_seed` writes, in this order: the people (`people`: staff and the customers' contacts,
whose logins it returns), the desks and customer organizations (`organizations`), the FAQ
and canned replies (`knowledge`), and, the first time only, the history: tickets in every
state (`tickets`), a conversation by mail and a held mail (`mail`), outages and maintenance
(`availability`), contracts and a conversation under the premium policy (`contracts`).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sla.models import SlaPolicy
from tickets.demo.availability import availability_seed
from tickets.demo.contracts import contracts_seed, rounds_seed
from tickets.demo.knowledge import knowledge_seed
from tickets.demo.mail import mail_seed
from tickets.demo.organizations import desks_seed, organizations_seed
from tickets.demo.people import DEMO_PASSWORD, LOGINS, DemoLogin, customers_seed, staff_seed
from tickets.demo.tickets import tickets_seed
from tickets.models import OutboundMail

__all__ = ["DEMO_PASSWORD", "LOGINS", "DemoLogin", "demo_seed"]


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    policy = SlaPolicy.objects.get(slug="standard")
    staff = staff_seed()
    desks = desks_seed(staff)
    organizations = organizations_seed(policy=policy, desks=desks)
    customers = customers_seed(kiosk=organizations.kiosk, eventia=organizations.eventia)
    knowledge_seed(anna=staff.anna, europe=desks.europe)
    if organizations.created:
        tickets_seed(customers=customers, staff=staff)
        mail_seed(petra=customers.petra, anna=staff.anna)
        availability_seed(kiosk=organizations.kiosk, eventia=organizations.eventia)
        contracts_seed(kiosk=organizations.kiosk, eventia=organizations.eventia)
        rounds_seed(customers=customers, staff=staff)
        # The demo's history was mailed back then: nothing for the first sweep to print.
        OutboundMail.objects.filter(state=OutboundMail.State.PENDING).update(
            state=OutboundMail.State.SENT, sent_at=timezone.now()
        )
    return LOGINS
