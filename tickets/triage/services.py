"""Severity triage in the desk: the classifier in use, the severity an incoming ticket takes,
the agents' word on it, the daily retraining on their reviews, and the suggestions' accuracy.

The classifier in use is the latest kept ``SeverityModel``; until one exists, the one each
process trains from the corpus once (a few seconds), which ``migrate`` also keeps."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import PermissionDeniedError
from tickets.history import ticket_event_record
from tickets.models import (
    CONFIRMED_FIELD,
    SOURCE_FIELD,
    Message,
    Severity,
    SeverityModel,
    SeveritySource,
    Ticket,
    TicketEvent,
    TicketTriage,
    User,
    more_urgent,
)
from tickets.triage.classifier import Example, Scores, SeverityClassifier, Suggestion, corpus
from tickets.triage.definitions import nearest_clause

RECHECK_SECONDS = 60.0  # how stale a process's classifier may be after a retraining


@cache
def _corpus_classifier() -> SeverityClassifier:
    return SeverityClassifier.trained(corpus("train"))


@cache
def heldout() -> list[Example]:
    return corpus("heldout")


@cache
def _corpus_scores() -> Scores:
    return _corpus_classifier().scores(heldout())


class _InUse:
    model_id: int | None = None
    classifier: SeverityClassifier | None = None
    checked = float("-inf")


def classifier(*, fresh: bool = False) -> SeverityClassifier:
    """The classifier in use: the latest kept model, looked up at most once a minute (or now,
    when ``fresh``)."""
    if fresh or time.monotonic() - _InUse.checked > RECHECK_SECONDS:
        latest = SeverityModel.objects.filter(kept=True).order_by("-created_at", "-id").first()
        _InUse.checked = time.monotonic()
        if latest is None:
            _InUse.model_id, _InUse.classifier = None, None
        elif latest.pk != _InUse.model_id:
            _InUse.model_id = latest.pk
            _InUse.classifier = SeverityClassifier.from_bytes(bytes(latest.data))
    return _InUse.classifier or _corpus_classifier()


def _kept(model: SeverityClassifier, scores: Scores, *, desk_examples: int, examples: int,
          kept: bool) -> SeverityModel:  # fmt: skip
    return SeverityModel.objects.create(
        examples=examples,
        desk_examples=desk_examples,
        macro_f1=scores.macro_f1,
        blocking_recall=scores.blocking_recall,
        confusion=scores.confusion,
        kept=kept,
        data=model.to_bytes(),
    )


def corpus_model_keep(using: str = "default", **kwargs: object) -> SeverityModel | None:
    """After ``migrate`` (post_migrate): keep the corpus's classifier when no model is kept
    yet, so that no process of a new installation trains its own."""
    if "tickets_severitymodel" not in connections[using].introspection.table_names():
        return None
    if SeverityModel.objects.using(using).filter(kept=True).exists():
        return None
    examples = len(corpus("train"))
    return _kept(
        _corpus_classifier(), _corpus_scores(), desk_examples=0, examples=examples, kept=True
    )


def desk_examples(*, limit: int = 5000) -> list[Example]:
    """The tickets whose severity an agent confirmed or changed, the latest ``limit`` reviews
    (training time grows with them), with their severity as it stands now: the subject, the
    first message, the requester's language."""
    first_body = (
        Message.objects.filter(ticket=OuterRef("pk"), is_internal=False)
        .order_by("received_at", "pk")
        .values("body")[:1]
    )
    reviewed = (
        Ticket.objects.filter(triage__reviewed_at__isnull=False, merged_into__isnull=True)
        .order_by("-triage__reviewed_at", "-pk")
        .values_list("subject", "requester__language", "severity")
        .annotate(body=Subquery(first_body))[:limit]
    )
    return [
        Example(subject, body or "", language or "", severity)
        for subject, language, severity, body in reviewed
    ]


def model_retrain() -> SeverityModel:
    """Train on the corpus and the desk's reviewed tickets; keep the model only when it does
    at least as well on the held-out corpus as the one in use (blocking recall and macro-F1)."""
    desk = desk_examples()
    examples = corpus("train") + desk
    model = SeverityClassifier.trained(examples)
    scores = model.scores(heldout())
    kept = SeverityModel.objects.filter(kept=True).order_by("-created_at", "-id").first()
    current = (
        Scores(kept.examples, kept.macro_f1, kept.blocking_recall, kept.confusion)
        if kept is not None
        else _corpus_scores()
    )
    return _kept(
        model,
        scores,
        desk_examples=len(desk),
        examples=len(examples),
        kept=scores.at_least_as_good_as(current),
    )


@dataclass(frozen=True)
class Triage:
    severity: str
    source: str
    suggestion: Suggestion


def intake_severity(
    *, subject: str, body: str, language: str, severity: str, source: str
) -> Triage:
    """The severity an incoming ticket takes. A severity given (by the customer, a subject
    tag or an agent) stands; otherwise the suggestion when its confidence reaches
    PACTE_TRIAGE_CONFIDENCE, else PACTE_MAIL_DEFAULT_SEVERITY. The suggestion is made for
    every ticket."""
    suggestion = classifier().suggest(subject, body, language)
    if severity:
        return Triage(severity, source, suggestion)
    if suggestion.confidence >= settings.PACTE_TRIAGE_CONFIDENCE:
        return Triage(suggestion.severity, SeveritySource.SUGGESTION, suggestion)
    return Triage(settings.PACTE_MAIL_DEFAULT_SEVERITY, SeveritySource.DEFAULT, suggestion)


def triage_record(
    ticket: Ticket, triage: Triage, *, actor: User | None, at: datetime
) -> TicketTriage:
    """Keep the ticket's triage, flagged when the customer chose a severity milder than a
    confident suggestion, and say in its history where its severity came from."""
    suggestion = triage.suggestion
    ticket_event_record(
        ticket_id=ticket.pk,
        actor=actor,
        kind=TicketEvent.Kind.TRIAGE,
        at=at,
        field=SOURCE_FIELD,
        after=ticket.severity,
        note=f"{triage.source} {suggestion.severity} {suggestion.confidence:.2f}",
    )
    return TicketTriage.objects.create(
        ticket=ticket,
        source=triage.source,
        suggested=suggestion.severity,
        confidence=round(suggestion.confidence, 4),
        flagged=triage.source == SeveritySource.CUSTOMER
        and more_urgent(suggestion.severity, ticket.severity)
        and suggestion.confidence >= settings.PACTE_TRIAGE_CONFIDENCE,
    )


def triage_review(ticket: Ticket, actor: User, *, at: datetime) -> None:
    """An agent confirmed or set the ticket's severity: the flag is lowered, and the first
    review is the suggestion's verdict and a training example."""
    TicketTriage.objects.filter(ticket=ticket).update(flagged=False)
    TicketTriage.objects.filter(ticket=ticket, reviewed_at__isnull=True).update(
        reviewed_at=at, reviewed_by=actor, reviewed_severity=ticket.severity
    )


@dataclass(frozen=True)
class Accuracy:
    severity: str  # the suggested one
    confirmed: int
    changed: int

    @property
    def share(self) -> float | None:
        total = self.confirmed + self.changed
        return None if not total else self.confirmed / total


def accuracy(*, now: datetime, days: int = 90) -> list[Accuracy]:
    """Suggestions confirmed against suggestions changed by the agents' first review, over
    the last ``days``, per suggested severity."""
    rows = {
        row["suggested"]: row
        for row in TicketTriage.objects.filter(reviewed_at__gte=now - timedelta(days=days))
        .values("suggested")
        .annotate(
            total=Count("pk"),
            confirmed=Count("pk", filter=Q(reviewed_severity=F("suggested"))),
        )
    }
    return [
        Accuracy(s, rows[s]["confirmed"], rows[s]["total"] - rows[s]["confirmed"])
        if s in rows
        else Accuracy(s, 0, 0)
        for s in Severity.values
    ]


def severity_confirm(*, ticket: Ticket, actor: User) -> None:
    """An agent confirms the ticket's severity as it is (one click): the flag is lowered,
    the suggestion gets its verdict, the history says who confirmed it."""
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not confirm this ticket's severity."))
    now = timezone.now()
    with transaction.atomic():
        ticket_event_record(
            ticket_id=ticket.pk,
            actor=actor,
            kind=TicketEvent.Kind.TRIAGE,
            at=now,
            field=CONFIRMED_FIELD,
            after=ticket.severity,
        )
        triage_review(ticket, actor, at=now)


@dataclass(frozen=True)
class Explanation:
    reasons: list[str]  # the ticket's words that weighed most toward the suggestion
    clause: str  # the nearest clause of the SLA's definition of the suggested severity


def explanation(ticket: Ticket, triage: TicketTriage) -> Explanation:
    """Why the classifier in use suggests what the ticket's triage kept."""
    first = ticket.messages.filter(is_internal=False).order_by("received_at", "pk").first()
    body = first.body if first is not None else ""
    reasons = classifier().reasons(ticket.subject, body, triage.suggested)
    return Explanation(reasons, str(nearest_clause(f"{ticket.subject}\n{body}", triage.suggested)))
