"""The security audit log: what it records, that a line cannot be changed, what managers read,
filter and download, and the retention sweep."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.db import DatabaseError, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.accounts.second_factor import enrol_totp, totp_code
from tests.factories import PASSWORD, World
from tests.test_admin import calendar_form
from tickets.accounts.audit import audit_purge, audit_record
from tickets.models import AuditEvent, Desk, User

pytestmark = pytest.mark.django_db
NEW = "another long passphrase"


def kinds() -> list[str]:
    return list(AuditEvent.objects.order_by("at", "id").values_list("kind", flat=True))


def test_sign_ins_refusals_and_sign_outs(world: World) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/login/", {"login": "alice", "password": "guess"})
    client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    client.post("/accounts/logout/")
    assert kinds() == ["sign_in_failed", "sign_in", "sign_out"]
    failed, signed_in, _out = AuditEvent.objects.order_by("at", "id")
    assert (failed.target, failed.actor, failed.ip) == ("alice", None, "203.0.113.7")
    assert signed_in.actor == world.alice.user and signed_in.actor_name == "alice"


def test_second_factors_passwords_tokens_and_people(world: World) -> None:
    secret = enrol_totp(world.agent_eu)
    agent = Client()
    agent.post("/accounts/login/", {"login": "agent_eu", "password": PASSWORD})
    agent.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    agent.post("/api-tokens/", {"name": "monitoring", "days": "30"})
    token = world.agent_eu.api_tokens.get()
    agent.post(f"/api-tokens/{token.pk}/revoke/")
    agent.post("/accounts/reauthenticate/", {"password": PASSWORD})
    agent.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW},
    )
    Client().post("/accounts/password/reset/", {"email": world.bob.user.email})
    admin = Client()
    admin.force_login(world.amir.user)
    admin.post("/organization/people/", {"name": "Dana", "email": "dana@acme.test"})
    admin.post(f"/organization/people/{world.alice.pk}/", {"action": "deactivate"})
    admin.post(f"/organization/people/{world.alice.pk}/", {"action": "make_admin"})
    recorded = set(kinds())
    assert {
        "sign_in", "token_created", "token_revoked", "password_changed",
        "password_reset_asked", "invitation", "account_off", "role_changed",
    } <= recorded  # fmt: skip
    invitation = AuditEvent.objects.get(kind="invitation")
    assert invitation.actor == world.amir.user and invitation.target == "dana@acme.test"


def test_adding_and_removing_a_second_factor(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(world.alice.user)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = page.split('id="authenticator_secret"')[1].split('value="')[1].split('"')[0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    later = timezone.now() + timedelta(seconds=31)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/2fa/totp/deactivate/", {})
    assert "mfa_added" in kinds() and "mfa_removed" in kinds()


def test_changes_in_the_admin(world: World, rf: RequestFactory) -> None:
    world.manager.is_staff = True
    world.manager.save()
    client = Client()
    client.force_login(world.manager)
    assert client.post("/admin/sla/calendar/add/", calendar_form()).status_code == 302
    added = AuditEvent.objects.get(kind="admin_change")
    assert added.actor == world.manager and added.detail["action"] == "added"
    assert added.detail["model"] == "sla.Calendar" and "Lyon" in added.target
    # What the admin logs after saving a user's role, or a desk's agents (its change message).
    request = rf.post("/admin/")
    request.user = world.manager
    admin.site._registry[User].log_change(
        request, world.agent_eu, [{"changed": {"fields": ["Role"]}}]
    )
    admin.site._registry[Desk].log_change(
        request, world.europe, [{"changed": {"fields": ["agents"]}}]
    )
    role, desks = AuditEvent.objects.filter(kind__in=["role_changed", "desks_changed"]).order_by(
        "id"
    )
    assert (role.kind, role.target) == ("role_changed", "user: agent_eu")
    assert (desks.kind, desks.target) == ("desks_changed", "desk: Europe")


def test_a_line_cannot_be_changed(world: World) -> None:
    line = audit_record(AuditEvent.Kind.SIGN_IN, actor=world.manager, target="manager")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=line.pk).update(target="someone else")
    line.refresh_from_db()
    assert line.target == "manager"


def test_managers_read_filter_and_download_it(world: World) -> None:
    audit_record(AuditEvent.Kind.SIGN_IN, actor=world.agent_eu, target="agent_eu")
    audit_record(AuditEvent.Kind.SIGN_IN_FAILED, target="mallory")
    manager = Client()
    manager.force_login(world.manager)
    page = manager.get("/desk/audit/?kind=sign_in_failed").content.decode()
    assert "mallory" in page and "agent_eu" not in page.split("<tbody>")[1]
    download = manager.get("/desk/audit/log.csv?who=mallory")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["when (UTC)", "what", "by"]
    assert len(rows) == 2 and rows[1][3] == "mallory"
    assert AuditEvent.objects.filter(kind="export", actor=world.manager).exists()
    for who in (world.agent_eu, world.alice.user):
        other = Client()
        other.force_login(who)
        assert other.get("/desk/audit/").status_code == 404
        assert other.get("/desk/audit/log.csv").status_code == 404
    assert manager.get("/desk/audit/?start=nonsense").status_code == 400


def test_the_report_csv_is_an_export(world: World) -> None:
    manager = Client()
    manager.force_login(world.manager)
    assert manager.get("/desk/reports/sla.csv?period=month").status_code == 200
    assert AuditEvent.objects.get(kind="export").target == "SLA report CSV"


def test_old_lines_are_purged(world: World, settings: Any) -> None:
    settings.PACTE_AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    audit_record(AuditEvent.Kind.SIGN_IN, target="old", at=now - timedelta(days=31))
    audit_record(AuditEvent.Kind.SIGN_IN, target="recent", at=now - timedelta(days=29))
    assert audit_purge(now=now) == 1
    assert list(AuditEvent.objects.values_list("target", flat=True)) == ["recent"]


def test_a_lines_details_read_in_the_readers_language(world: World) -> None:
    audit_record(
        AuditEvent.Kind.ROLE_CHANGED,
        actor=world.amir.user,
        target="chloe@acme.example.test",
        detail={"organization role": ["member", "admin"]},
    )
    audit_record(
        AuditEvent.Kind.TOKEN_CREATED,
        actor=world.alice.user,
        target="ci",
        detail={"expires": "2026-07-01T08:00:00+00:00", "unheard of": 3},
    )
    audit_record(  # set by staff: a name shaped like an instant, or like a role
        AuditEvent.Kind.ADMIN_CHANGE,
        actor=world.manager,
        target="x",
        detail={"organization": "2024-02-30T10:00", "name": "admin"},
    )
    manager = Client(HTTP_ACCEPT_LANGUAGE="fr")
    manager.force_login(world.manager)
    page = manager.get("/desk/audit/").content.decode()
    assert "rôle\u00a0: Membre → Administrateur de l’organisation" in page
    # In the reader's zone (Paris); a key Pacte does not know is shown as stored.
    assert "expire le\u00a0: mer. 1 juil. 2026 à 10:00" in page and "unheard of\u00a0: 3" in page
    # As stored (PostgreSQL's jsonb orders a line's keys its own way: each pair, any order).
    assert "organisation\u00a0: 2024-02-30T10:00" in page and "name\u00a0: admin" in page
