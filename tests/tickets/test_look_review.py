"""One consistent look (issue 23, point 5): what a reviewer noticed on the staff pages, in
English and French — people named by their names, forms that start where their user would,
a short list of time zones, one date-time form, a neutral empty state, received mail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import formats, timezone

from sla.models import Notification
from tests.email.conftest import build_mail
from tests.factories import UserFactory, World, client_for, open_ticket
from tickets import services
from tickets.accounts.audit import audit_record
from tickets.accounts.time_zones import time_zone_groups
from tickets.backups import watch
from tickets.forms import PhoneCallForm, PreferencesForm
from tickets.models import AuditEvent, Contact, InboundMail, ProductArea, User

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=PARIS)


def named(user: User, first: str, last: str) -> User:
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def test_the_history_names_the_assignee_by_name_and_the_nameless_by_username(
    world: World,
) -> None:
    eva = named(world.agent_eu, "Eva", "Weber")
    nameless = UserFactory(username="temp_agent", role=User.Role.AGENT, first_name="", last_name="")
    world.europe.agents.add(nameless)
    ticket = open_ticket(world.alice)
    services.ticket_assign(ticket=ticket, actor=eva, assignee=eva)
    services.ticket_assign(ticket=ticket, actor=eva, assignee=nameless)
    html = client_for(eva).get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Eva Weber took the ticket" in html  # to herself
    assert "Eva Weber assigned the ticket to temp_agent" in html
    assert "to agent_eu" not in html


def test_the_audit_log_names_people_and_finds_them_by_name(world: World) -> None:
    named(world.manager, "Maya", "Schneider")
    named(world.agent_eu, "Eva", "Weber")
    audit_record(AuditEvent.Kind.ROLE_CHANGED, actor=world.manager, target="agent_eu")
    audit_record(AuditEvent.Kind.SIGN_IN_FAILED, target="nobody-known")
    manager = client_for(world.manager)
    html = manager.get("/desk/audit/").content.decode()
    assert '<td title="manager">Maya Schneider</td>' in html
    assert '<td title="agent_eu">Eva Weber</td>' in html
    assert "<td>nobody-known</td>" in html  # no such person: as typed
    found = manager.get("/desk/audit/", {"who": "eva web"}).content.decode()
    assert "Role changed" in found and "nobody-known" not in found


def test_the_reports_agent_filter_names_agents(world: World) -> None:
    named(world.agent_eu, "Eva", "Weber")
    html = client_for(world.manager).get("/desk/reports/").content.decode()
    assert ">Eva Weber</option>" in html and ">agent_eu</option>" not in html


@pytest.mark.parametrize(("language", "expected"), [("en", "en"), ("fr", "fr")])
def test_a_new_faq_article_starts_in_its_authors_language_unpublished(
    world: World, language: str, expected: str
) -> None:
    ProductArea.objects.create(name="Billing", slug="billing")
    world.agent_eu.language = language
    world.agent_eu.save(update_fields=["language"])
    html = client_for(world.agent_eu).get("/desk/faq/new/").content.decode()
    assert re.search(rf'<option value="{expected}" selected>', html)
    assert "---------" not in html
    published = re.search(r'<input type="checkbox" name="published"[^>]*>', html)
    assert published is not None and "checked" not in published[0]


def test_a_new_faq_article_of_an_author_who_follows_the_browser(world: World) -> None:
    client = client_for(world.agent_eu)  # no language of their own: the page's
    html = client.get("/desk/faq/new/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<option value="fr" selected>' in html


def test_the_call_form_does_not_claim_an_acknowledgement() -> None:
    """The agent ticks it when they did acknowledge; the form does not assume it (the phone
    call page's view still sets it: tickets/views/desk.py, left to its owner)."""
    form = PhoneCallForm(contacts=Contact.objects.none())
    assert not form["acknowledged"].value()
    assert "checked" not in str(form["acknowledged"])


def zone_values(groups: list[Any]) -> list[str]:
    return [zone for group in groups for zone, _label in group.zones]


def test_the_time_zones_offered_are_the_canonical_ones_by_region() -> None:
    at = datetime(2026, 1, 15, 12, tzinfo=PARIS)
    groups = time_zone_groups(keep="", at=at)
    zones = zone_values(groups)
    assert 100 < len(zones) < 200
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"} <= set(zones)
    assert all("/" in z for z in zones if z != "UTC")  # no "GMT", "EST5EDT", "Cuba"
    assert not [z for z in zones if z.startswith(("Etc/", "US/", "Canada/", "SystemV/"))]
    assert "Europe/Kiev" not in zones and "Asia/Calcutta" not in zones  # old aliases
    europe = next(g for g in groups if g.name == "Europe")
    assert ("Europe/Paris", "Paris (UTC+01:00)") in europe.zones
    assert [label for _zone, label in europe.zones] == sorted(label for _z, label in europe.zones)
    americas = next(g for g in groups if g.name == "Americas")
    assert ("America/New_York", "New York (UTC−05:00)") in americas.zones
    summer = time_zone_groups(keep="", at=datetime(2026, 7, 15, 12, tzinfo=PARIS))
    summer_europe = next(g for g in summer if g.name == "Europe")
    assert ("Europe/Paris", "Paris (UTC+02:00)") in summer_europe.zones


def test_a_stored_zone_outside_the_list_is_kept(world: World) -> None:
    user = world.alice.user
    assert user is not None
    user.time_zone = "US/Eastern"
    user.save(update_fields=["time_zone"])
    assert "US/Eastern" not in zone_values(time_zone_groups(keep="", at=NOW))
    client = client_for(user)
    html = client.get("/accounts/preferences/").content.decode()
    assert '<option value="US/Eastern" selected>US/Eastern</option>' in html
    assert '<optgroup label="Europe">' in html and "Etc/GMT+3" not in html
    response = client.post("/accounts/preferences/", {"language": "", "time_zone": "US/Eastern"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.time_zone == "US/Eastern"
    refused = PreferencesForm({"language": "", "time_zone": "Etc/GMT+3"}, current_zone="")
    assert not refused.is_valid() and "time_zone" in refused.errors


def test_a_notification_says_its_times_in_the_one_date_time_form(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        ticket = open_ticket(world.alice)
        clock = ticket.clocks.get(metric="acknowledgement")
        Notification.objects.create(
            recipient=world.agent_eu, ticket=ticket, clock=clock, cycle=1, kind="warning",
            due_at=NOW + timedelta(hours=2), deliver_after=NOW,
        )  # fmt: skip
        html = client_for(world.agent_eu).get("/notifications/").content.decode()
    with timezone.override(PARIS):
        created = formats.date_format(timezone.localtime(NOW), "DATETIME_FORMAT")
        due = formats.date_format(timezone.localtime(NOW + timedelta(hours=2)), "DATETIME_FORMAT")
    assert f">{created}</time>" in html and f"due {due}" in html


def test_backups_none_taken_yet_is_a_neutral_empty_state(
    world: World, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PACTE_BACKUP_DIR = tmp_path / "backups"
    monkeypatch.setattr(watch, "embedded_database", lambda: True)
    html = client_for(world.manager).get("/desk/backups/").content.decode()
    assert '<section class="card empty"><p>No backup has been taken yet.</p>' in html
    assert 'role="alert"' not in html and "<table" not in html


def test_received_mail_shows_the_senders_name_first_and_its_subject_in_the_breadcrumb(
    world: World,
) -> None:
    inbound = InboundMail.objects.create(
        key="<look@stranger.test>",
        source=InboundMail.Source.PIPE,
        raw=build_mail(sender="Jonas Keller <jonas@stranger.test>", subject="Printer jam"),
        size=1,
        sender="jonas@stranger.test",
        sender_name="Jonas Keller",
        subject="Printer jam",
        desk=world.europe,
        status=InboundMail.Status.REVIEW,
    )
    manager = client_for(world.manager)
    listing = manager.get("/desk/mail/").content.decode()
    assert '<td>Jonas Keller<div class="muted small">jonas@stranger.test</div></td>' in listing
    detail = manager.get(f"/desk/mail/{inbound.pk}/").content.decode()
    assert re.search(r'Received mail</a> / <span class="crumb">Printer jam</span></p>', detail)
    assert f"</a> / {inbound.pk}</p>" not in detail


def test_an_escalation_line_reads_as_one_sentence(world: World) -> None:
    """ "Acknowledgement: escalated (deadline approaching)", the alert in lower case."""
    from sla.models import Notification
    from tickets.models import TicketEvent
    from tickets.templatetags.pacte import event_summary

    ticket = open_ticket(world.alice)
    event = TicketEvent(
        ticket=ticket, kind="escalation", field="acknowledgement", note=Notification.Kind.WARNING
    )
    assert str(event_summary(event)) == "Acknowledgement: escalated (deadline approaching)"


def test_an_organization_admin_reaches_people_and_reports_from_the_menu(world: World) -> None:
    def menu(user: User) -> str:
        page = client_for(user).get("/tickets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        return page.split('<nav aria-label="Main">')[1].split("</nav>")[0]

    admin, member = menu(world.amir.user), menu(world.alice.user)
    assert 'href="/organization/people/">People<' in admin and ">Reports<" in admin
    assert ">Tickets<" in admin and ">My tickets<" not in admin
    assert ">My tickets<" in member and "People" not in member and "Reports" not in member
