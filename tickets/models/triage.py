"""Severity triage (tickets.triage): where each ticket's severity came from and what the
classifier suggested, the agents' word on it, and the classifiers this installation keeps."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Severity, Ticket

# The history's triage lines (TicketEvent.Kind.TRIAGE, this field), which change nothing:
# where the severity came from at arrival, and an agent confirming it. Staff only.
SOURCE_FIELD, CONFIRMED_FIELD = "source", "confirmed"
TRIAGE_FIELDS = (SOURCE_FIELD, CONFIRMED_FIELD)


class SeveritySource(models.TextChoices):
    CUSTOMER = "customer", _("chosen by the customer")
    TAG = "tag", _("tag in the subject")
    SUGGESTION = "suggestion", _("suggested from the text")
    DEFAULT = "default", _("default for the channel")
    AGENT = "agent", _("set by an agent")


class TicketTriage(models.Model):
    """A ticket's severity at arrival: where it came from, the classifier's suggestion and its
    confidence, and whether it may be more severe than the customer chose (flagged until an
    agent confirms or changes it). Its own table: the tickets' is read by every page."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="triage"
    )
    source = models.CharField(_("severity from"), max_length=16, choices=SeveritySource)
    suggested = models.CharField(_("suggested severity"), max_length=16, choices=Severity)
    confidence = models.FloatField(_("confidence"))
    flagged = models.BooleanField(_("may be more severe"), default=False)
    # The first time an agent confirmed or changed the severity: the suggestion's verdict
    # (kept if the severity was then the suggested one), and a training example from then on.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    reviewed_severity = models.CharField(max_length=16, choices=Severity, blank=True)

    class Meta:
        verbose_name = _("severity triage")
        verbose_name_plural = _("severity triages")
        indexes: ClassVar = [
            models.Index(fields=["flagged"], name="triage_flagged",
                         condition=models.Q(flagged=True)),
            models.Index(fields=["reviewed_at"], name="triage_reviewed"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.source} {self.suggested} {self.confidence:.2f}"


class SeverityModel(models.Model):
    """A classifier this installation trained (from the corpus, then with its reviewed
    tickets), its scores on the held-out corpus, and whether it was kept: the latest kept
    one suggests."""

    created_at = models.DateTimeField(default=timezone.now)
    examples = models.PositiveIntegerField()  # training examples, the desk's among them
    desk_examples = models.PositiveIntegerField(default=0)
    macro_f1 = models.FloatField()
    blocking_recall = models.FloatField()
    confusion = models.JSONField(default=list)
    kept = models.BooleanField(default=False)
    # The scikit-learn version that pickled it: another version does not load it (a model is
    # trained again from the corpus and the reviews instead).
    library = models.CharField(max_length=32, default="")
    data = models.BinaryField()

    class Meta:
        verbose_name = _("severity model")
        verbose_name_plural = _("severity models")
        indexes: ClassVar = [
            models.Index(fields=["kept", "-created_at"], name="severity_model_kept")
        ]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} F1 {self.macro_f1:.3f} {'kept' if self.kept else ''}"
        )
