"""Links and Message-IDs in mail (issue 16, point 4): links name where Pacte is served
(`PORT=8080 make run` gives working links) and staff alerts carry Message-IDs of the
configured mail domain, through a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sla.availability.budget import budget_alert_mail
from sla.clocks.escalation import clock_escalate
from sla.models import BudgetAlert, Clock
from sla.notifications.delivery import notifications_deliver
from tests.email.conftest import MailWorld
from tests.factories import open_ticket
from tests.mailservers import SmtpSink
from tests.services import ROOT

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def monday() -> Iterator[None]:
    with time_machine.travel(MONDAY):
        yield


def base_url_with(**env: str) -> str:
    """PACTE_BASE_URL as a freshly started process sees it (settings are read at start)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PACTE_BASE_URL", "PACTE_PORT")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.conf import settings; print(settings.PACTE_BASE_URL)",
        ],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_links_follow_the_port_pacte_is_served_on() -> None:
    assert base_url_with() == "http://127.0.0.1:8000"
    assert base_url_with(PACTE_PORT="8080") == "http://127.0.0.1:8080"  # PORT=8080 make run
    assert (
        base_url_with(PACTE_PORT="8080", PACTE_BASE_URL="https://support.example.com/")
        == "https://support.example.com"
    )


@pytest.mark.django_db(transaction=True)
def test_staff_alerts_carry_message_ids_of_the_mail_domain(
    mail_world: MailWorld, smtp: SmtpSink, settings: object, monday: None
) -> None:
    settings.PACTE_MAIL_DOMAIN = "mail.pacte.test"  # type: ignore[attr-defined]
    ticket = open_ticket(mail_world.alice, severity="blocking")
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    clock_escalate(clock_id=clock.pk, now=MONDAY + timedelta(hours=6))
    assert notifications_deliver(now=MONDAY + timedelta(hours=6)) >= 1
    alerts = [m.message for m in smtp.messages if "alice@acme.test" not in m.rcpt_tos]
    assert alerts
    for alert in alerts:
        assert alert["Message-ID"].endswith("@mail.pacte.test>"), alert["Message-ID"]
        assert alert["Message-ID"].startswith("<pacte."), "made like customer mail's"
    assert len({alert["Message-ID"] for alert in alerts}) == len(alerts)


@pytest.mark.django_db(transaction=True)
def test_error_budget_alerts_carry_message_ids_of_the_mail_domain(
    mail_world: MailWorld, smtp: SmtpSink, settings: object
) -> None:
    settings.PACTE_MAIL_DOMAIN = "mail.pacte.test"  # type: ignore[attr-defined]
    alert = BudgetAlert.objects.create(
        organization=mail_world.acme,
        year=2026,
        level=BudgetAlert.Level.LOW,
        left=timedelta(hours=3),
    )
    assert budget_alert_mail(alert_id=alert.pk, now=MONDAY)
    (sent,) = smtp.wait_for(1)
    assert mail_world.world.manager.email in sent.rcpt_tos
    assert sent.message["Message-ID"].endswith("@mail.pacte.test>"), sent.message["Message-ID"]
