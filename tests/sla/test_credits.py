"""Service credits (issue 20, point 7): a contract's credit table — availability under a
threshold, each missed promise — gives the credit owed for a month, capped, as a share of the
monthly fee; the monthly report and the availability page show it, and managers download the
year's credits as CSV. Figures computed by hand."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from sla.availability import outages
from sla.models import Contract, ServiceCredit
from tests.factories import World, open_ticket
from tickets import services

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
JULY_2 = datetime(2026, 7, 2, 9, tzinfo=BERLIN)


@pytest.fixture
def june(world: World) -> Contract:
    """Acme's contract: 1,000.00 a month, credits capped at 30 %: availability under 99.5 %
    owes 10 %, under 99 % 25 %; each blocking incident acknowledged late, 5 %. In June, an
    8-hour outage (availability 1 − 8 h ÷ 720 h = 98.889 %: 25 %) and two blocking incidents
    acknowledged an hour late (2 × 5 %): 35 %, capped at 30 %, so 300.00."""
    contract = Contract.objects.create(
        organization=world.acme, reference="ACME-2026", starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31), monthly_fee=Decimal("1000.00"),
        credit_cap_percent=Decimal("30"),
    )  # fmt: skip
    for below, percent in (("99.5", "10"), ("99.0", "25")):
        ServiceCredit.objects.create(
            contract=contract, basis="availability", below_percent=Decimal(below),
            percent=Decimal(percent),
        )  # fmt: skip
    ServiceCredit.objects.create(
        contract=contract, basis="acknowledgement", severity="blocking", percent=Decimal("5")
    )
    start = datetime(2026, 6, 15, 8, tzinfo=BERLIN)
    outages.outage_record(
        organization=world.acme,
        title="Database lost",
        started_at=start,
        ended_at=start + 8 * timedelta(hours=1),
    )
    for day in (10, 11):  # Wednesday and Thursday 10:00: due 15:00, acknowledged at 16:00
        ticket = open_ticket(
            world.alice, severity="blocking", received_at=datetime(2026, 6, day, 10, tzinfo=BERLIN)
        )
        with time_machine.travel(datetime(2026, 6, day, 16, tzinfo=BERLIN), tick=False):
            services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    return contract


def test_the_monthly_report_shows_the_credit_owed(world: World, june: Contract) -> None:
    manager = Client()
    manager.force_login(world.manager)
    admin = Client()
    admin.force_login(world.amir.user)  # type: ignore[arg-type]
    with time_machine.travel(JULY_2, tick=False):
        pages = [
            manager.get("/desk/reports/monthly/acme/?month=2026-06").content.decode(),
            admin.get("/tickets/reports/?month=2026-06").content.decode(),
        ]
    for html in pages:
        assert "Availability 98.88%, under 99.00%" in html  # the worse tier only
        assert "2 acknowledgement promises missed (Blocking)" in html
        assert "Credit owed (capped at 30%)" in html and "30% = 300.00 EUR" in html
    with time_machine.travel(JULY_2, tick=False):
        may = manager.get("/desk/reports/monthly/acme/?month=2026-05").content.decode()
    assert "No credit is owed for this month" in may


def test_managers_download_the_years_credits(world: World, june: Contract) -> None:
    manager = Client()
    manager.force_login(world.manager)
    with time_machine.travel(JULY_2, tick=False):
        response = manager.get("/desk/reports/credits.csv", {"year": "2026"})
        page = manager.get("/desk/reports/availability/", {"year": "2026"}).content.decode()
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["organization", "month", "contract", "availability %", "credit %"]
    assert [r[1] for r in rows[1:]] == [f"2026-{m:02d}" for m in range(1, 8)]
    june_row = next(r for r in rows if r[1] == "2026-06")
    assert june_row == [
        "Acme",
        "2026-06",
        "ACME-2026",
        "98.889",
        "30.00",
        "yes",
        "1000.00",
        "300.00",
        "EUR",
    ]
    assert next(r for r in rows if r[1] == "2026-05")[4:6] == ["0.00", "no"]
    assert "Credit, June 2026" in page and "credits.csv?year=2026" in page  # the last whole month
    assert "<strong>30%</strong>" in page
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.get("/desk/reports/credits.csv").status_code == 404
