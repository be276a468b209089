"""Severity triage in the desk: the classifier in use, the severity an incoming ticket takes,
the agents' word on it, the daily retraining on their reviews, and the suggestions' accuracy.

The classifier in use is the latest kept ``SeverityModel``; until one exists, the one each
process trains from the corpus once (a few seconds), which ``migrate`` also keeps."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.accounts.personal_data import ERASED
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
from tickets.triage.classifier import (
    MAX_CHARACTERS,
    Example,
    Scores,
    SeverityClassifier,
    Suggestion,
    corpus,
    text_of,
)
from tickets.triage.definitions import nearest_clause

logger = logging.getLogger(__name__)
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
    created_at: datetime | None = None
    classifier: SeverityClassifier | None = None
    checked = float("-inf")


def classifier_forget() -> None:
    """Look the classifier in use up again on the next suggestion (tests, a retraining)."""
    _InUse.model_id, _InUse.created_at, _InUse.classifier = None, None, None
    _InUse.checked = float("-inf")


def _kept_models() -> QuerySet[SeverityModel]:
    """The models this version of scikit-learn can load, latest first."""
    return SeverityModel.objects.filter(kept=True, library=_library()).order_by(
        "-created_at", "-id"
    )


def classifier(*, fresh: bool = False) -> SeverityClassifier:
    """The classifier in use: the latest kept model (its id looked up at most once a minute,
    or now when ``fresh``; its bytes only when it changed), else the corpus's. A model that
    does not load is logged and passed over."""
    if fresh or time.monotonic() - _InUse.checked > RECHECK_SECONDS:
        latest = _kept_models().values_list("pk", "created_at").first()
        _InUse.checked = time.monotonic()
        if latest is None:
            _InUse.model_id, _InUse.created_at, _InUse.classifier = None, None, None
        elif latest != (_InUse.model_id, _InUse.created_at):
            _InUse.model_id, _InUse.created_at = latest
            data = SeverityModel.objects.filter(pk=latest[0]).values_list("data", flat=True)
            try:
                _InUse.classifier = SeverityClassifier.from_bytes(bytes(data.get()))
            except Exception:  # a corrupt row must not stop intake: the corpus's model
                logger.exception("Severity model %s does not load", latest[0])
                _InUse.classifier = None
    return _InUse.classifier or _corpus_classifier()


def _library() -> str:
    import sklearn

    return str(sklearn.__version__)


def _kept(model: SeverityClassifier, scores: Scores, *, desk_examples: int, examples: int,
          kept: bool) -> SeverityModel:  # fmt: skip
    return SeverityModel.objects.create(
        library=_library(),
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
    if _kept_models().exists():
        return None
    examples = len(corpus("train"))
    return _kept(
        _corpus_classifier(), _corpus_scores(), desk_examples=0, examples=examples, kept=True
    )


def desk_examples(*, limit: int = 5000) -> list[Example]:
    """The tickets whose severity an agent confirmed or changed, the latest ``limit`` reviews
    (training time grows with them), each labelled with the severity of that first review (a
    later downgrade after a workaround says nothing of the text): the subject, the first
    message, the requester's language. Not an erased contact's."""
    first_body = (
        Message.objects.filter(ticket=OuterRef("pk"), is_internal=False)
        .order_by("received_at", "pk")
        .values("body")[:1]
    )
    reviewed = (
        Ticket.objects.filter(triage__reviewed_at__isnull=False, merged_into__isnull=True)
        .exclude(requester__name__startswith=ERASED)  # their words erased: no example
        .order_by("-triage__reviewed_at", "-pk")
        .values_list("subject", "requester__language", "triage__reviewed_severity")
        .annotate(body=Subquery(first_body))[:limit]
    )
    return [
        Example(subject, body or "", language or "", severity)
        for subject, language, severity, body in reviewed
    ]


def _in_use_scores() -> Scores:
    return classifier(fresh=True).scores(heldout())


def model_retrain(*, now: datetime | None = None) -> SeverityModel | None:
    """Train on the corpus and the desk's reviewed tickets, unless no ticket was reviewed
    since the model in use was trained (None). The new model is kept only when it does at
    least as well on the held-out corpus (blocking recall and macro-F1) as the model in use,
    both scored now (the corpus may have changed with an upgrade). Rows older than a month
    are pruned, but the model in use."""
    now = now or timezone.now()
    latest = _kept_models().first()
    if (
        latest is not None
        and not TicketTriage.objects.filter(reviewed_at__gte=latest.created_at).exists()
    ):
        return None
    desk = desk_examples()
    examples = corpus("train") + desk
    model = SeverityClassifier.trained(examples)
    scores = model.scores(heldout())
    made = _kept(
        model,
        scores,
        desk_examples=len(desk),
        examples=len(examples),
        kept=scores.at_least_as_good_as(_in_use_scores()),
    )
    in_use = list(_kept_models().values_list("pk", flat=True)[:1])
    SeverityModel.objects.filter(created_at__lt=now - timedelta(days=30)).exclude(
        pk__in=in_use
    ).delete()
    return made


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
    try:
        suggestion = classifier().suggest(subject, body, language)
    except Exception:  # intake goes on without a suggestion: never a lost ticket
        logger.exception("No severity suggestion for %r", subject[:80])
        default = settings.PACTE_MAIL_DEFAULT_SEVERITY
        suggestion = Suggestion(default, 0.0, {default: 0.0})
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
    body = first.body[:MAX_CHARACTERS] if first is not None else ""
    reasons = classifier().reasons(ticket.subject, body, triage.suggested)
    text = text_of(ticket.subject, body)  # cut as the model reads it: a 2 MB mail costs no more
    return Explanation(reasons, str(nearest_clause(text, triage.suggested)))
