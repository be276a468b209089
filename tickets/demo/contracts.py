"""The demo's contracts: Kiosk's for the year with a credit table and the `premium` policy (the
standard promises, plus a next reply and, for blocking incidents, an update every few hours),
Eventia's ending soon (so the managers are reminded and the admin shows it); and a Kiosk
conversation under them, so the queue shows a next reply owed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

from sla.defaults import SINCE_ALWAYS, STANDARD_TARGETS, seed_pause_reasons
from sla.models import Contract, ServiceCredit, SlaPolicy, SlaPolicyVersion, SlaTarget
from tickets import services
from tickets.demo.people import Customers, Staff
from tickets.models import Organization, Severity

PREMIUM_ROUNDS = (
    (Severity.BLOCKING, "next_reply", 2, "business_hours"),
    (Severity.MAJOR, "next_reply", 4, "business_hours"),
    (Severity.MINOR, "next_reply", 1, "business_days"),
    (Severity.BLOCKING, "update", 4, "business_hours"),
)


def _premium() -> SlaPolicy:
    policy = SlaPolicy.objects.create(slug="premium", name="Premium")
    version = SlaPolicyVersion.objects.create(
        policy=policy,
        effective_at=SINCE_ALWAYS,
        note="The standard promises, with a next reply and regular updates on blocking incidents.",
    )
    SlaTarget.objects.bulk_create(
        SlaTarget(version=version, severity=s, metric=m, amount=a, kind=k)
        for s, m, a, k in (*STANDARD_TARGETS, *PREMIUM_ROUNDS)
    )
    seed_pause_reasons(apps, policy)
    return policy


def contracts_seed(*, kiosk: Organization, eventia: Organization) -> None:
    today = timezone.localdate()
    year = Contract.objects.create(
        organization=kiosk, reference=f"KIOSK-{today.year}", policy=_premium(),
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31), monthly_fee=Decimal("4800.00"),
        credit_cap_percent=Decimal("30"),
    )  # fmt: skip
    for below, percent in (("99.5", "10"), ("99.0", "25")):
        ServiceCredit.objects.create(
            contract=year, basis=ServiceCredit.Basis.AVAILABILITY, below_percent=Decimal(below),
            percent=Decimal(percent),
        )  # fmt: skip
    ServiceCredit.objects.create(
        contract=year, basis=ServiceCredit.Basis.ACKNOWLEDGEMENT, severity="blocking",
        percent=Decimal("5"),
    )  # fmt: skip
    Contract.objects.create(
        organization=eventia, reference="EVENTIA-PILOT", starts_on=today - timedelta(days=200),
        ends_on=today + timedelta(days=20), monthly_fee=Decimal("1200.00"),
    )  # fmt: skip


def rounds_seed(*, customers: Customers, staff: Staff) -> None:
    """A blocking Kiosk incident under the premium policy: acknowledged, then a question from
    the customer that is owed a reply, and an update due."""
    now = timezone.now()
    petra = customers.petra
    assert petra.user is not None
    ticket = services.ticket_create(
        requester=petra,
        subject="Payment terminal offline at the Hamburg store",
        description="The card reader of kiosk HH-04 says 'offline' since the store opened.",
        severity=Severity.BLOCKING,
        channel="web",
        actor=petra.user,
        received_at=now - timedelta(minutes=90),
    )
    services.ticket_reply(
        ticket=ticket,
        author=staff.anna,
        body="We see the terminal's connection failing at our gateway and are on it.",
        received_at=now - timedelta(minutes=75),
    )
    services.ticket_reply(
        ticket=ticket,
        author=petra.user,
        body="Could you tell us whether the other Hamburg kiosks are at risk too?",
        received_at=now - timedelta(minutes=20),
    )
