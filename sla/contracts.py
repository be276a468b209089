"""Contracts in time (SLA-RULES.md): an organization is under contract between its contract's
first and last days, inclusive, in the local dates of the contract's calendar (else its
desk's). `Organization.under_contract`, which every channel reads, follows the dates of the
organization's contracts (an organization without any keeps the flag as set by hand). A
ticket received under a contract keeps the contract's policy and calendar, when it names them.
Managers are reminded before a contract ends."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from sla.models import Contract, SlaPolicy
from tickets.models import Desk, Organization, User

REMINDER_DAYS = 30  # managers hear of a contract's end this many days ahead


def _local_day(contract: Contract, desk: Desk | None, at: datetime) -> date:
    calendar = contract.calendar or (desk.calendar if desk is not None else None)
    zone = zoneinfo.ZoneInfo(calendar.time_zone if calendar else settings.TIME_ZONE)
    return at.astimezone(zone).date()


def contract_in_force(
    organization: Organization, desk: Desk | None, at: datetime
) -> Contract | None:
    """The organization's contract covering `at` (its local date), if any; one query."""
    day = at.date()
    candidates = (
        Contract.objects.filter(
            organization=organization,
            starts_on__lte=day + timedelta(days=1),
            ends_on__gte=day - timedelta(days=1),
        )
        .select_related("calendar", "policy")
        .order_by("starts_on")
    )
    for contract in candidates:
        if contract.starts_on <= _local_day(contract, desk, at) <= contract.ends_on:
            return contract
    return None


@dataclass(frozen=True)
class ContractState:
    """Why an organization may or may not file: no contract at all, or the dates of the one
    in force, the last one ended, or the next one."""

    under_contract: bool
    ended_on: date | None = None
    starts_on: date | None = None


def policy_of(organization: Organization, *, now: datetime) -> SlaPolicy | None:
    """The policy a ticket filed now would be promised: its contract's, else the
    organization's."""
    desk = organization.desks.select_related("calendar").order_by("pk").first()
    contract = contract_in_force(organization, desk, now)
    if contract is not None and contract.policy is not None:
        return contract.policy
    return organization.sla_policy


def contract_state(organization: Organization, *, now: datetime) -> ContractState:
    contracts = list(Contract.objects.filter(organization=organization).select_related("calendar"))
    if not contracts:
        return ContractState(organization.under_contract)
    desk = organization.desks.select_related("calendar").order_by("pk").first()
    today = {c.pk: _local_day(c, desk, now) for c in contracts}
    if any(c.starts_on <= today[c.pk] <= c.ends_on for c in contracts):
        return ContractState(True)
    future = sorted(c.starts_on for c in contracts if c.starts_on > today[c.pk])
    past = sorted(c.ends_on for c in contracts if c.ends_on < today[c.pk])
    return ContractState(
        False, ended_on=past[-1] if past else None, starts_on=future[0] if future else None
    )


def contracts_apply(*, now: datetime, organization_ids: list[int] | None = None) -> int:
    """Set `under_contract` of the organizations with contracts from their dates; the number
    of organizations whose flag changed."""
    organizations = Organization.objects.filter(contracts__isnull=False).distinct()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    changed = 0
    for organization in organizations:
        state = contract_state(organization, now=now)
        if state.under_contract != organization.under_contract:
            Organization.objects.filter(pk=organization.pk).update(
                under_contract=state.under_contract
            )
            if not state.under_contract:
                _sessions_end(organization)
            changed += 1
    return changed


def _sessions_end(organization: Organization) -> None:
    """The contract ended: its people signed in now are signed out, as they could not sign in
    again (their API tokens stop too, checked on each request)."""
    for session in UserSession.objects.filter(user__contact__organization=organization):
        session.end()


def _contract_changed(sender: type[Contract], instance: Contract, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    organization_id = instance.organization_id
    transaction.on_commit(
        lambda: contracts_apply(now=timezone.now(), organization_ids=[organization_id])
    )


def connect_signals() -> None:
    post_save.connect(_contract_changed, sender=Contract, dispatch_uid="pacte.contract.saved")
    post_delete.connect(_contract_changed, sender=Contract, dispatch_uid="pacte.contract.deleted")


def contracts_remind(*, now: datetime) -> int:
    """Daily: mail the managers, each in their language, of every contract ending within
    REMINDER_DAYS that no later contract follows; once per contract."""
    today = timezone.localdate(now)
    ending = Contract.objects.filter(
        reminded_at__isnull=True,
        ends_on__gte=today,
        ends_on__lte=today + timedelta(days=REMINDER_DAYS),
    ).select_related("organization")
    reminded = 0
    for contract in ending:
        followed = Contract.objects.filter(
            organization_id=contract.organization_id, starts_on__gt=contract.ends_on
        ).exists()
        claimed = Contract.objects.filter(pk=contract.pk, reminded_at__isnull=True).update(
            reminded_at=now
        )
        if followed or not claimed:
            continue
        _remind_managers(contract)
        reminded += 1
    return reminded


def _remind_managers(contract: Contract) -> None:
    page = settings.PACTE_BASE_URL + reverse("admin:sla_contract_change", args=[contract.pk])
    managers = User.objects.filter(role=User.Role.MANAGER, is_active=True).exclude(email="")
    for manager in managers:
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            values = {
                "organization": contract.organization.name,
                "day": formats.date_format(contract.ends_on, "DATE_FORMAT"),
            }
            subject = _("Contract ending: %(organization)s on %(day)s") % values
            body = (
                _(
                    "The support contract of %(organization)s ends on %(day)s, and no contract "
                    "follows it. From the day after, its tickets, mails and chats are refused or "
                    "held for review. Renew it or let it end:"
                )
                % values
            )
        EmailMessage(subject, f"{body}\n{page}\n", to=[manager.email]).send()


def filing_refused_reason(organization: Organization, *, now: datetime) -> str:
    """Why this organization cannot file, in the reader's language."""
    state = contract_state(organization, now=now)
    values = {"org": organization.name}
    if state.starts_on is not None:
        values["day"] = formats.date_format(state.starts_on, "DATE_FORMAT")
        return _("%(org)s's support contract starts on %(day)s: tickets can be opened from "
                 "that day.") % values  # fmt: skip
    if state.ended_on is not None:
        values["day"] = formats.date_format(state.ended_on, "DATE_FORMAT")
        return _("%(org)s's support contract ended on %(day)s: tickets cannot be opened. "
                 "Please contact your account manager.") % values  # fmt: skip
    return _("%(org)s has no support contract: tickets cannot be opened.") % values
