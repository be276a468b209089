"""The demo's contracts: Kiosk's for the year with a credit table, Eventia's ending soon (so
the managers are reminded and the admin shows it)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from sla.models import Contract, ServiceCredit
from tickets.models import Organization


def contracts_seed(*, kiosk: Organization, eventia: Organization) -> None:
    today = timezone.localdate()
    year = Contract.objects.create(
        organization=kiosk, reference=f"KIOSK-{today.year}", starts_on=date(today.year, 1, 1),
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
