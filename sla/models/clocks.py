"""SLA policies, their targets and the clocks of tickets. Data only: the arithmetic is in
sla.clocks (calendar, deadlines), every write in sla.clocks.services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sla.clocks.values import ClockKind
from tickets.models import Severity, Ticket


class SlaPolicy(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    warning_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("warning threshold (% of target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    escalation_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("head-of-support threshold (% of target)"),
        default=150,
        validators=[MinValueValidator(101)],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaPolicyVersion(models.Model):
    """The targets of a policy from an instant on. A ticket keeps the version in force when it
    was received, also when its severity changes later (SLA-RULES.md). A version is changed or
    withdrawn only before it takes effect; the organizations on the policy are told of a new
    one ahead of it, in their language (`sla.policies`)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="versions")
    effective_at = models.DateTimeField(_("in force from"))
    note = models.TextField(
        _("what changes and why"), blank=True, help_text=_("Shown to customers with the change.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)

    class Meta:
        ordering = ["policy", "-effective_at"]
        verbose_name = _("SLA policy version")
        verbose_name_plural = _("SLA policy versions")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["policy", "effective_at"], name="sla_policy_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy} ({self.effective_at:%Y-%m-%d %H:%M})"


class PauseReason(models.Model):
    """Why a ticket is on hold, beyond waiting on the customer (its own status), and which of
    its clocks that pauses (SLA-RULES.md, "Pause reasons"). An internal reason is shown to
    customers as "on hold" only."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="pause_reasons")
    slug = models.SlugField(_("slug"))
    name = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100)
    pauses_acknowledgement = models.BooleanField(_("pauses the acknowledgement"), default=False)
    pauses_correction = models.BooleanField(_("pauses the correction"), default=True)
    internal = models.BooleanField(
        _("internal"), default=False, help_text=_('Customers see "on hold" without it.')
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["policy", "position", "pk"]
        verbose_name = _("pause reason")
        verbose_name_plural = _("pause reasons")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["policy", "slug"], name="pause_reason_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language."""
        return self.name_fr if get_language() == "fr" and self.name_fr else self.name

    def pauses(self, metric: str) -> bool:
        """A reply owed (acknowledgement, next reply) pauses with the acknowledgement; the work
        (correction, periodic update) with the correction."""
        if metric in ("acknowledgement", "next_reply"):
            return self.pauses_acknowledgement
        return self.pauses_correction


class Metric(models.TextChoices):
    """The promises of a policy. Acknowledgement and correction are one clock per ticket; next
    reply and periodic update are optional and start again in rounds, one clock each
    (SLA-RULES.md, "Pause reasons and further promises")."""

    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    CORRECTION = "correction", _("Correction")
    NEXT_REPLY = "next_reply", _("Next reply")
    UPDATE = "update", pgettext_lazy("promise", "Update")


# The promises kept in rounds: each customer message, each update cycle, is a clock of its own.
ROUND_METRICS = frozenset({Metric.NEXT_REPLY, Metric.UPDATE})


TARGET_KINDS = [
    (ClockKind.BUSINESS_HOURS.value, _("business hours (the desk's support hours)")),
    (ClockKind.BUSINESS_DAYS.value, _("business days (24 h of each working day)")),
    (ClockKind.WALL.value, _("hours, round the clock")),
]


class SlaTarget(models.Model):
    """One promise of a policy: for a severity and metric, an amount of a clock kind.

    The amount is in hours for wall and business_hours clocks, in days for business_days.
    """

    version = models.ForeignKey(
        SlaPolicyVersion,
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name=_("version"),
    )
    severity = models.CharField(_("severity"), max_length=16, choices=Severity)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric)
    amount = models.PositiveIntegerField(_("amount"), validators=[MinValueValidator(1)])
    kind = models.CharField(_("clock kind"), max_length=16, choices=TARGET_KINDS)

    class Meta:
        ordering = ["version", "severity", "metric"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["version", "severity", "metric"], name="sla_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.severity} {self.metric}: {self.amount} {self.kind}"

    @property
    def duration(self) -> timedelta:
        if self.kind == ClockKind.BUSINESS_DAYS:
            return timedelta(days=self.amount)
        return timedelta(hours=self.amount)


class StopReason(models.TextChoices):
    """What stopped a clock: the qualifying event, recorded on the clock."""

    PUBLIC_REPLY = "public_reply", _("public reply from support")
    PHONE_CALL = "phone_call", _("phone call logged")
    ACKNOWLEDGE = "acknowledge", _("explicit acknowledgement")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    RECLASSIFIED = "reclassified", _("the new severity has no such promise")


class EscalationLevel(models.IntegerChoices):
    """How far a clock has been escalated in its current cycle; each level fires once."""

    NONE = 0, _("none")
    WARNED = 1, _("warning sent")
    BREACHED = 2, _("breach escalated")
    HEAD = 3, _("head of support alerted")


class Clock(models.Model):
    """One SLA clock of a ticket.

    ``runs`` keeps the intervals during which the clock ran, as [start, end] ISO instants (end
    null while running); counted time is derived from them with the desk's calendar.
    ``warn_at``, ``due_at`` and ``escalate_at`` (the head-of-support threshold) are stored and
    recomputed on every change; the sweep finds crossed ones through indexes that lead with
    the state and the escalation level, so it never reads a clock it has already handled.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    class Outcome(models.TextChoices):
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks")
    metric = models.CharField(max_length=16, choices=Metric)
    # Next reply and update come in rounds (1, 2, …); acknowledgement and correction have one.
    round = models.PositiveIntegerField(default=1)
    # What the round answers: the customer's message for a next reply, the last public reply
    # for an update; null for the clocks that start at the ticket's arrival.
    origin_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=[(k, k) for k in ClockKind])
    target = models.DurationField()
    warning_percent = models.PositiveSmallIntegerField(default=75)
    state = models.CharField(max_length=8, choices=State, default=State.RUNNING)
    started_at = models.DateTimeField()
    runs = models.JSONField(default=list)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Counted time in the clock's own kind when it stopped, in whole seconds (None while it
    # runs): what reports aggregate (medians, percentiles, how late) without replaying runs
    # through calendars; an integer, so that SQL buckets it by the minute on every database.
    elapsed_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome, blank=True)
    # Met after a downgrade, but the severity before it (the latest such) would have missed:
    # the report counts the breaches that reclassifications avoided from it.
    spared_from = models.CharField(max_length=16, choices=Severity, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=16, choices=StopReason, blank=True)
    stop_message = models.ForeignKey(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(
        choices=EscalationLevel, default=EscalationLevel.NONE
    )
    # A new cycle starts when a stopped clock is reopened or the targets are recomputed:
    # every level may then fire again, once, for the new instants.
    cycle = models.PositiveIntegerField(default=1)
    # When a sweep queued this clock's escalation; cleared when its task has run. A sweep
    # queues it again only after the lease (a task lost with its worker), so lagging workers
    # never find the same clock queued twice.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    escalation_percent = models.PositiveSmallIntegerField(default=150)

    class Meta:
        ordering = ["ticket", "metric"]
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "round"], name="clock_unique_per_round"
            )
        ]
        # Equality on state and level, then a range on the instant: both SQLite and PostgreSQL
        # seek straight to the unhandled, crossed clocks (partial indexes would not be used by
        # SQLite, whose planner ignores them when the values are bound parameters).
        indexes: ClassVar = [
            models.Index(fields=["state", "escalation_level", "warn_at"], name="clock_sweep_warn"),
            models.Index(fields=["state", "escalation_level", "due_at"], name="clock_sweep_due"),
            models.Index(
                fields=["state", "escalation_level", "escalate_at"], name="clock_sweep_escalate"
            ),
            # The SLA report reads its figures from this index alone, never from the rows
            # (whose runs make them wide): a year of clocks is one pass over narrow entries.
            models.Index(
                fields=[
                    "ticket",
                    "metric",
                    "kind",
                    "elapsed_seconds",
                    "state",
                    "outcome",
                    "breached_at",
                    "spared_from",
                ],
                name="clock_report",
            ),
            # The report's missed deadlines, latest first, read in order: a page stops after
            # its rows instead of sorting every breach of the period. No bound parameter in
            # the condition, so SQLite's planner uses it too.
            models.Index(
                fields=["-due_at", "-id"],
                condition=models.Q(breached_at__isnull=False),
                name="clock_breached_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"

    @property
    def origin(self) -> datetime:
        """The instant the promise answers: its message or reply, else the ticket's arrival."""
        return self.origin_at or self.ticket.received_at

    @property
    def elapsed(self) -> timedelta | None:
        return None if self.elapsed_seconds is None else timedelta(seconds=self.elapsed_seconds)

    @elapsed.setter
    def elapsed(self, value: timedelta | None) -> None:
        self.elapsed_seconds = None if value is None else int(value.total_seconds())

    @property
    def late_by(self) -> timedelta | None:
        """How far past its target a stopped clock counted, in its own kind (None while it
        runs: only the ticket's calendar can count that)."""
        elapsed = self.elapsed
        return None if elapsed is None else max(timedelta(0), elapsed - self.target)
