"""Support contracts: when an organization is served, on which policy and in which hours."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.models.calendars import Calendar
from sla.models.clocks import SlaPolicy
from tickets.models import Organization, Severity


class Contract(models.Model):
    """An organization is under contract from its first day to its last, inclusive, in the
    local dates of the contract's calendar (else the organization's desk's): the flag
    `Organization.under_contract` follows its contracts' dates (`sla.contracts`). A contract
    may name its own policy and calendar; otherwise the organization's policy and the desk's
    calendar apply."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contracts",
        verbose_name=_("organization"),
    )  # fmt: skip
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts",
        verbose_name=_("SLA policy"), help_text=_("Empty: the organization's policy."),
    )  # fmt: skip
    calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts",
        verbose_name=_("support hours"), help_text=_("Empty: the desk's calendar."),
    )  # fmt: skip
    monthly_fee = models.DecimalField(
        _("monthly fee"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR, USD.")
    )
    reminded_at = models.DateTimeField(_("managers reminded"), null=True, blank=True)
    credit_cap_percent = models.DecimalField(
        _("credits capped at (% of the monthly fee)"), max_digits=5, decimal_places=2,
        null=True, blank=True,
    )  # fmt: skip

    class Meta:
        ordering = ["organization", "-starts_on"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.starts_on} – {self.ends_on}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day must be on or after the first.")})
        if self.organization_id and self.starts_on and self.ends_on:
            overlapping = Contract.objects.filter(
                organization_id=self.organization_id,
                starts_on__lte=self.ends_on,
                ends_on__gte=self.starts_on,
            ).exclude(pk=self.pk)
            other = overlapping.first()
            if other is not None:
                raise ValidationError(
                    _("This organization's contract %(reference)s (%(start)s – %(end)s) covers "
                      "some of these days.")
                    % {"reference": other.reference or "—", "start": other.starts_on,
                       "end": other.ends_on}
                )  # fmt: skip


class ServiceCredit(models.Model):
    """One line of a contract's credit table: what the customer is owed for a month, as a
    share of the monthly fee (`sla.credits`)."""

    class Basis(models.TextChoices):
        AVAILABILITY = "availability", _("availability under a threshold")
        ACKNOWLEDGEMENT = "acknowledgement", _("each acknowledgement promise missed")
        CORRECTION = "correction", _("each correction promise missed")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="credits")
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    below_percent = models.DecimalField(
        _("availability under (%)"), max_digits=6, decimal_places=3, null=True, blank=True,
        help_text=_("For availability: the month's availability under this owes the credit."),
    )  # fmt: skip
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, blank=True,
        help_text=_("For missed promises: only this severity (empty: any)."),
    )  # fmt: skip
    percent = models.DecimalField(
        _("credit (% of the monthly fee)"), max_digits=5, decimal_places=2
    )

    class Meta:
        ordering = ["contract", "basis", "-below_percent"]
        verbose_name = _("service credit")
        verbose_name_plural = _("service credits")

    def __str__(self) -> str:
        return f"{self.contract}: {self.get_basis_display()} {self.percent} %"

    def clean(self) -> None:
        if self.basis == self.Basis.AVAILABILITY and self.below_percent is None:
            raise ValidationError({"below_percent": _("Give the availability threshold.")})
