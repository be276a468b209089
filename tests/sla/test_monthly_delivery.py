"""Reports reach the customer: an organization's administrators read its monthly reports in
the portal, get the month before mailed in their language in the first days of a month (once),
and the error budget counts each organization's year in its own time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from sla.availability import outages
from sla.availability.budget import budget_alerts_raise
from sla.models import BudgetAlert, Calendar
from sla.reports.monthly import monthly_reports_mail
from tests.factories import DeskFactory, OrganizationFactory, World, open_ticket
from tickets import services
from tickets.models import OutboundMail

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def june_ticket(world: World) -> None:
    ticket = open_ticket(world.alice, received_at=datetime(2026, 6, 10, 10, tzinfo=BERLIN))
    with time_machine.travel(datetime(2026, 6, 10, 11, tzinfo=BERLIN), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)


def test_an_organization_admin_reads_its_monthly_report_in_the_portal(world: World) -> None:
    june_ticket(world)
    admin = Client()
    admin.force_login(world.amir.user)  # type: ignore[arg-type]
    with time_machine.travel(datetime(2026, 7, 2, 9, tzinfo=BERLIN), tick=False):
        page = admin.get("/tickets/reports/")  # the month before, by default
        listed = admin.get("/tickets/").content.decode()
    html = page.content.decode()
    assert page.status_code == 200 and "Acme — June 2026" in html
    assert '<p class="kpi-value">1</p>' in html and "/tickets/reports/" in listed
    for user in (world.alice.user, world.agent_eu, world.bob.user):
        other = Client()
        other.force_login(user)  # type: ignore[arg-type]
        assert other.get("/tickets/reports/").status_code == 404


def test_the_month_before_is_mailed_to_the_administrators_once(world: World) -> None:
    june_ticket(world)
    world.amir.language = "fr"
    world.amir.save()
    first = datetime(2026, 7, 1, 6, tzinfo=BERLIN)
    assert monthly_reports_mail(now=first) == 1  # Globex has no administrator
    assert monthly_reports_mail(now=first + 6 * H) == 0  # once
    (mail,) = OutboundMail.objects.filter(kind=OutboundMail.Kind.REPORT)
    assert mail.to_address == world.amir.email
    assert mail.subject == "Acme\u00a0: rapport de service de juin 2026"
    assert "1 ticket reçu" in mail.text and "100 % pris en compte dans le délai" in mail.text
    assert "/tickets/reports/?month=2026-06" in mail.text
    assert monthly_reports_mail(now=datetime(2026, 8, 12, 6, tzinfo=BERLIN)) == 0  # too late


def test_the_error_budget_year_turns_at_the_organizations_midnight(world: World) -> None:
    new_york = DeskFactory(
        slug="na", name="North America", calendar=Calendar.objects.get(slug="north-america")
    )
    initech = OrganizationFactory(
        name="Initech", slug="initech", availability_commitment=Decimal("99.800")
    )
    initech.desks.add(new_york)
    world.acme.availability_commitment = Decimal("99.800")
    world.acme.save()
    december = datetime(2026, 12, 30, 12, tzinfo=UTC)
    for organization in (initech, world.acme):
        outages.outage_record(
            organization=organization, title="Down", started_at=december,
            ended_at=december + 20 * H,
        )  # fmt: skip
    # 1 January 2027 at 02:00 UTC: 2027 in Berlin, still 31 December 2026 in New York.
    budget_alerts_raise(now=datetime(2027, 1, 1, 2, tzinfo=UTC))
    alerts = {(a.organization.slug, a.year) for a in BudgetAlert.objects.all()}
    assert alerts == {("initech", 2026)}


def test_the_report_names_the_organizations_month_wherever_its_reader_is(world: World) -> None:
    world.amir.user.time_zone = "America/New_York"  # type: ignore[union-attr]
    world.amir.user.save()  # type: ignore[union-attr]
    admin = Client()
    admin.force_login(world.amir.user)  # type: ignore[arg-type]
    with time_machine.travel(datetime(2026, 7, 2, 9, tzinfo=BERLIN), tick=False):
        html = admin.get("/tickets/reports/?month=2026-06").content.decode()
    assert "Acme — June 2026" in html and "1 Jun 2026 – 30 Jun 2026" in html


def test_the_report_counts_promises_missed_and_still_open(world: World) -> None:
    from sla.tasks import sla_clock_sweep_task

    june_ticket(world)  # acknowledged within target
    open_ticket(world.alice, received_at=datetime(2026, 6, 12, 10, tzinfo=BERLIN))  # never
    admin = Client()
    admin.force_login(world.amir.user)  # type: ignore[arg-type]
    with time_machine.travel(datetime(2026, 7, 2, 9, tzinfo=BERLIN), tick=False):
        sla_clock_sweep_task()  # the missed deadlines are marked as the sweep passes them
        html = admin.get("/tickets/reports/?month=2026-06").content.decode()
    # One acknowledged in time, one never and late already: the share counts the promises
    # decided (stopped), and says beside it how many more wait past their deadline.
    kpis = re.findall(r'<p class="kpi-value">([^<]*)</p>', html)
    assert kpis[1] == "100.00%"  # of the acknowledgements that stopped
    assert "and 1 still open past its deadline" in html  # the one never acknowledged
