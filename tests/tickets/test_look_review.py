"""One consistent look (issue 23, point 5): what a reviewer noticed on the staff pages, in
English and French — people named by their names, forms that start where their user would,
a short list of time zones, one date-time form, a neutral empty state, received mail."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, World, client_for, open_ticket
from tickets import services
from tickets.accounts.audit import audit_record
from tickets.models import AuditEvent, User

pytestmark = pytest.mark.django_db


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
    assert "Eva Weber assigned the ticket to Eva Weber" in html
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
