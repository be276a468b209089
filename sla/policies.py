"""SLA policies in time: the version of a policy in force at an instant, the versions to come,
a new version added, and the organizations on the policy told of it ahead ("les clients en
seront informés en temps utile", seed 000).

A ticket keeps the version in force when it was received, also when its severity changes
later: every read of targets for a ticket goes through `targets_in_force`. A version may be
changed or withdrawn only before it takes effect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from sla.contracts import policy_of
from sla.exceptions import SlaError
from sla.models import Metric, SlaPolicy, SlaPolicyVersion, SlaTarget
from tickets.models import Contact, OutboundMail, Severity


def targets_in_force(policy_id: int | None, severity: str, at: datetime) -> dict[str, SlaTarget]:
    """The targets of the policy's version in force at `at`, for a severity, by metric, in
    one query: that version's rows only (a version without this severity promises nothing for
    it, rather than the version before)."""
    in_force = (
        SlaPolicyVersion.objects.filter(policy_id=policy_id, effective_at__lte=at)
        .order_by("-effective_at")
        .values("pk")[:1]
    )
    rows = SlaTarget.objects.filter(version_id=Subquery(in_force), severity=severity)
    return {target.metric: target for target in rows.select_related("version__policy")}


def version_in_force(policy: SlaPolicy, at: datetime) -> SlaPolicyVersion | None:
    return policy.versions.filter(effective_at__lte=at).order_by("-effective_at").first()


def versions_announced(policy: SlaPolicy, at: datetime) -> list[SlaPolicyVersion]:
    """The versions that take effect after `at`, soonest first."""
    return list(policy.versions.filter(effective_at__gt=at).order_by("effective_at"))


@dataclass(frozen=True)
class TargetRow:
    """One severity of a version, as customers read it."""

    severity: str
    label: str
    acknowledgement: SlaTarget | None
    correction: SlaTarget | None
    next_reply: SlaTarget | None = None
    update: SlaTarget | None = None


def target_rows(version: SlaPolicyVersion) -> list[TargetRow]:
    targets = {(t.severity, t.metric): t for t in version.targets.all()}
    return [
        TargetRow(
            severity,
            str(label),
            targets.get((severity, Metric.ACKNOWLEDGEMENT)),
            targets.get((severity, Metric.CORRECTION)),
            targets.get((severity, Metric.NEXT_REPLY)),
            targets.get((severity, Metric.UPDATE)),
        )
        for severity, label in Severity.choices
        if any((severity, metric) in targets for metric in Metric.values)
    ]


def rows_promise(rows: list[TargetRow], metric: str) -> bool:
    """Whether any severity of the rows has the (optional) promise."""
    return any(getattr(row, metric) is not None for row in rows)


def version_editable(version: SlaPolicyVersion, now: datetime) -> bool:
    """Only a version not in force yet may change: tickets already hold the ones before."""
    return version.pk is None or version.effective_at > now


def policy_version_add(
    *,
    policy: SlaPolicy,
    effective_at: datetime,
    targets: Iterable[tuple[str, str, int, str]],
    note: str = "",
    now: datetime | None = None,
) -> SlaPolicyVersion:
    """A new version of the policy's targets — (severity, metric, amount, clock kind) — in
    force from `effective_at`, which must be ahead; announced after commit."""
    now = now or timezone.now()
    if effective_at <= now and policy.versions.exists():
        raise SlaError(_("A new version takes effect in the future: tickets already received "
                         "keep the targets they were promised."))  # fmt: skip
    with transaction.atomic():
        version = SlaPolicyVersion.objects.create(
            policy=policy, effective_at=effective_at, note=note
        )
        SlaTarget.objects.bulk_create(
            SlaTarget(version=version, severity=s, metric=m, amount=a, kind=k)
            for s, m, a, k in targets
        )
        transaction.on_commit(lambda: policy_version_announce_later(version.pk))
    return version


def policy_version_announce_later(version_id: int) -> None:
    from sla.tasks import policy_version_announce_task  # tasks import this module

    policy_version_announce_task.delay(version_id)


def _recipients(policy: SlaPolicy, now: datetime) -> list[Contact]:
    """Each organization's administrators on the policy (its contract's, else its own), else
    its other contacts."""
    named = Q(organization__sla_policy=policy) | Q(
        organization__contracts__policy=policy, organization__contracts__ends_on__gte=now.date()
    )
    candidates = (
        Contact.objects.filter(named, organization__under_contract=True)
        .exclude(email="")
        .select_related("organization")
        .distinct()
        .order_by("organization_id", "pk")
    )
    on_it: dict[int, bool] = {}
    contacts = []
    for contact in candidates:
        organization = contact.organization
        if organization.pk not in on_it:
            on_it[organization.pk] = policy_of(organization, now=now) == policy
        if on_it[organization.pk]:
            contacts.append(contact)
    admins = {c.organization_id for c in contacts if c.is_org_admin}
    return [c for c in contacts if c.is_org_admin or c.organization_id not in admins]


def policy_version_announce(*, version_id: int, now: datetime) -> int:
    """Mail the organizations on the policy, each contact in their language, the version to
    come beside the one in force; the number of mails written to the outbox."""
    with transaction.atomic():
        claimed = SlaPolicyVersion.objects.filter(
            pk=version_id, announced_at__isnull=True, effective_at__gt=now
        ).update(announced_at=now)
        if not claimed:
            return 0  # announced already, or in force: nothing to say ahead
        return _announce(SlaPolicyVersion.objects.select_related("policy").get(pk=version_id), now)


def policy_versions_announce_pending(*, now: datetime) -> int:
    """Hourly: the versions to come that were never announced (a task lost with a worker)."""
    pending = SlaPolicyVersion.objects.filter(announced_at__isnull=True, effective_at__gt=now)
    return sum(
        policy_version_announce(version_id=pk, now=now)
        for pk in pending.values_list("pk", flat=True)
    )


def _announce(version: SlaPolicyVersion, now: datetime) -> int:
    current = version_in_force(version.policy, now)
    written = 0
    for contact in _recipients(version.policy, now):
        desk = contact.organization.desks.order_by("pk").first()
        if desk is None:
            continue
        with translation.override(contact.language), timezone.override(desk.calendar.time_zone):
            context = {
                "contact": contact,
                "version": version,
                "rows": target_rows(version),
                "current": target_rows(current) if current else [],
                "url": settings.PACTE_BASE_URL + reverse("tickets:service-levels"),
            }
            text = render_to_string("sla/email/policy_version.txt", context)
            subject = _("Our service levels change on %(date)s") % {
                "date": formats.date_format(timezone.localtime(version.effective_at), "DATE_FORMAT")
            }
        OutboundMail.objects.create(
            kind=OutboundMail.Kind.ANNOUNCEMENT,
            from_address=formataddr((desk.name, desk.email)),
            to_address=contact.email,
            to_name=contact.name,
            language=contact.language,
            subject=subject[:255],
            text=text,
            mail_id=_mail_id(),
        )
        written += 1
    return written


def _mail_id() -> str:
    from tickets.services.customer_mail import new_mail_id

    return new_mail_id()
