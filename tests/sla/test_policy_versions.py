"""Policies are versioned (SLA-RULES.md, "When the rules change under a running clock"): a new
version takes effect at a date ahead; a ticket keeps the version in force when it was
received, also when its severity changes later; the organizations on the policy are mailed
the change ahead, each contact in their language; the portal shows the promises in force and
the ones announced; in the admin a version in force is read-only and a new one starts as a
copy of it. Deadlines computed by hand and checked against the naive reference."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from sla.clocks.selectors import calendar_snapshot_by_slug
from sla.clocks.values import ClockKind
from sla.defaults import STANDARD_TARGETS
from sla.exceptions import SlaError
from sla.models import Clock, SlaPolicy, SlaPolicyVersion
from sla.policies import policy_version_add
from tests.factories import World, open_ticket
from tests.sla.naive import naive_add
from tickets import services
from tickets.models import OutboundMail, Ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
Commits = Callable[..., AbstractContextManager[Any]]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def faster_blocking(commits: Commits, *, made: datetime) -> SlaPolicyVersion:
    """From Monday 8 June, a blocking incident is acknowledged within 2 business hours."""
    targets = [
        (s, m, 2 if (s, m) == ("blocking", "acknowledgement") else a, k)
        for s, m, a, k in STANDARD_TARGETS
    ]
    with time_machine.travel(made, tick=False), commits(execute=True):
        return policy_version_add(
            policy=SlaPolicy.objects.get(slug="standard"), effective_at=at(8, 0),
            targets=targets, note="Faster answers for outages.",
        )  # fmt: skip


def due(ticket: Ticket, metric: str = "acknowledgement") -> datetime | None:
    return Clock.objects.get(ticket=ticket, metric=metric).due_at


def test_a_ticket_keeps_the_version_in_force_when_it_was_received(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    faster_blocking(django_capture_on_commit_callbacks, made=at(1, 8))
    before = open_ticket(world.alice, severity="blocking", received_at=at(5, 15))
    after = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    # Friday 15–16 and Monday 09–13: five business hours; from Monday, two: 09–11.
    europe = calendar_snapshot_by_slug("europe")
    hours = ClockKind.BUSINESS_HOURS
    assert due(before) == at(8, 13) == naive_add(europe, hours, at(5, 15), timedelta(hours=5))
    assert due(after) == at(8, 11) == naive_add(europe, hours, at(8, 9), timedelta(hours=2))
    # Reclassified after the change, a ticket received before it reads its own version.
    minor = open_ticket(world.alice, severity="minor", received_at=at(5, 15))
    with time_machine.travel(at(8, 10), tick=False):
        services.ticket_reclassify(
            ticket=minor, actor=world.agent_eu, severity="blocking", reason="All tills down"
        )
    minor_ack = Clock.objects.get(ticket=minor, metric="acknowledgement")
    assert minor_ack.due_at == at(8, 13) and minor_ack.breached_at is None


def test_a_new_version_takes_effect_ahead_only(world: World) -> None:
    with time_machine.travel(at(10, 12), tick=False), pytest.raises(SlaError, match="future"):
        policy_version_add(
            policy=SlaPolicy.objects.get(slug="standard"), effective_at=at(8, 0),
            targets=STANDARD_TARGETS,
        )  # fmt: skip
    assert SlaPolicyVersion.objects.count() == 1


def test_the_organizations_on_the_policy_are_told_ahead_in_their_language(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    world.amir.language = "fr"
    world.amir.save()
    version = faster_blocking(django_capture_on_commit_callbacks, made=at(1, 8))
    mails = {m.to_address: m for m in OutboundMail.objects.filter(kind="announcement")}
    # Acme's administrator (not every member), and Globex's contact (it has no administrator).
    assert set(mails) == {world.amir.email, world.bob.email}
    french, english = mails[world.amir.email], mails[world.bob.email]
    assert french.subject == "Nos niveaux de service changent le 8 juin 2026"
    assert "Bloquant : pris en compte sous 2 heures ouvrées" in french.text
    assert "Faster answers for outages." in french.text
    assert english.subject == "Our service levels change on 8 Jun 2026"
    assert "Blocking: acknowledged within 5 business hours" in english.text  # until then
    assert "/tickets/service-levels/" in english.text
    version.refresh_from_db()
    assert version.announced_at == at(1, 8)


def test_the_portal_shows_the_promises_in_force_and_those_announced(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    faster_blocking(django_capture_on_commit_callbacks, made=at(1, 8))
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    with time_machine.travel(at(3, 12), tick=False):
        html = customer.get("/tickets/service-levels/").content.decode()
        listed = customer.get("/tickets/").content.decode()
    assert "Announced: from 8 Jun 2026" in html and "Faster answers for outages." in html
    assert "2 business hours" in html and "5 business hours" in html
    assert "/tickets/service-levels/" in listed
    with time_machine.travel(at(9, 12), tick=False):
        html = customer.get("/tickets/service-levels/").content.decode()
    assert "Announced" not in html and "In force since 8 Jun 2026" in html
    assert "5 business hours" not in html
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.get("/tickets/service-levels/").status_code == 404


def test_the_admin_copies_the_version_in_force_and_locks_it(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    world.manager.is_staff = True
    world.manager.save()
    manager = Client()
    manager.force_login(world.manager)
    standard = SlaPolicy.objects.get(slug="standard")
    (current,) = standard.versions.all()
    form = manager.get(f"/admin/sla/slapolicyversion/add/?policy={standard.pk}").content.decode()
    assert form.count('name="targets-') > 6 * 4 and 'value="business_hours" selected' in form
    locked = manager.post(f"/admin/sla/slapolicyversion/{current.pk}/change/", {})
    assert locked.status_code == 403
    data = {
        "policy": str(standard.pk), "effective_at_0": "2026-06-08", "effective_at_1": "00:00:00",
        "note": "", "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0",
        "targets-0-severity": "blocking", "targets-0-metric": "acknowledgement",
        "targets-0-amount": "2", "targets-0-kind": "business_hours",
    }  # fmt: skip
    with time_machine.travel(at(10, 12), tick=False):
        refused = manager.post("/admin/sla/slapolicyversion/add/", data)
    assert refused.status_code == 200 and "takes effect in the future" in refused.content.decode()
    with (
        time_machine.travel(at(1, 8), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        saved = manager.post("/admin/sla/slapolicyversion/add/", data)
    assert saved.status_code == 302
    assert standard.versions.count() == 2
    assert OutboundMail.objects.filter(kind="announcement").exists()


def test_a_version_promises_only_what_it_lists(world: World) -> None:
    """A version without a severity does not fall back on the version before for it."""
    from sla.policies import targets_in_force

    standard = SlaPolicy.objects.get(slug="standard")
    with time_machine.travel(at(1, 8), tick=False):
        policy_version_add(
            policy=standard, effective_at=at(8, 0),
            targets=[t for t in STANDARD_TARGETS if t[0] != "minor"],
        )  # fmt: skip
    assert targets_in_force(standard.pk, "minor", at(5, 12))  # the first version's
    assert targets_in_force(standard.pk, "minor", at(9, 12)) == {}
    assert set(targets_in_force(standard.pk, "major", at(9, 12))) == {
        "acknowledgement", "correction",
    }  # fmt: skip


def test_a_version_is_announced_once(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    from sla.policies import policy_version_announce, policy_versions_announce_pending

    version = faster_blocking(django_capture_on_commit_callbacks, made=at(1, 8))
    sent = OutboundMail.objects.filter(kind="announcement").count()
    assert sent == 2
    assert policy_version_announce(version_id=version.pk, now=at(2, 8)) == 0
    assert policy_versions_announce_pending(now=at(2, 8)) == 0
    assert OutboundMail.objects.filter(kind="announcement").count() == sent


def test_the_first_day_of_a_version_is_the_organizations_wherever_its_reader_is(
    world: World, django_capture_on_commit_callbacks: Commits
) -> None:
    faster_blocking(django_capture_on_commit_callbacks, made=at(1, 8))  # 8 June 00:00 Berlin
    world.alice.user.time_zone = "America/Chicago"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    with time_machine.travel(at(3, 12), tick=False):
        html = customer.get("/tickets/service-levels/").content.decode()
    assert "Announced: from 8 Jun 2026" in html  # not 7 June, Chicago's evening
