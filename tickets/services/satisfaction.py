"""Customer satisfaction: once a ticket is resolved its customer rates the help, good or bad,
with an optional comment; one rating a ticket, which they may change. The resolution mail
carries a signed link per rating (no sign-in needed); the ticket's page carries buttons.
Managers read the ratings by desk and by agent on the SLA report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import SatisfactionRating, Status, Ticket, User

SALT = "pacte.satisfaction"
RATED_STATUSES = (Status.RESOLVED, Status.CLOSED)
COMMENT_MAX = 2000


def satisfaction_token(ticket: Ticket) -> str:
    return signing.dumps(ticket.pk, salt=SALT, compress=True)


def satisfaction_url(ticket: Ticket, score: str) -> str:
    """The link a resolution mail carries for one rating (absolute: read in a mail client)."""
    path = reverse("satisfaction:rate", args=[satisfaction_token(ticket)])
    return f"{settings.PACTE_BASE_URL}{path}?score={score}"


def ticket_of_token(token: str) -> Ticket | None:
    """The ticket a link was made for, while the link lasts (PACTE_SATISFACTION_DAYS)."""
    try:
        pk = signing.loads(token, salt=SALT, max_age=settings.PACTE_SATISFACTION_DAYS * 86400)
    except signing.BadSignature:
        return None
    return Ticket.objects.select_related("desk", "assignee").filter(pk=pk).first()


@transaction.atomic
def satisfaction_rate(
    *, ticket: Ticket, score: str, comment: str = "", actor: User | None = None
) -> SatisfactionRating:
    """Record (or change) the customer's rating of a resolved ticket. ``actor``: the signed-in
    customer; None for a mail's signed link, which stands for the ticket's customer."""
    if actor is not None and not access.owns_as_customer(actor, ticket):
        raise PermissionDeniedError(_("Only the ticket's customer rates the help they got."))
    if ticket.status not in RATED_STATUSES or ticket.merged_into_id is not None:
        raise TicketError(_("A ticket is rated once it is resolved."), field="score")
    if score not in SatisfactionRating.Score.values:
        raise TicketError(_("Choose good or bad."), field="score")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise TicketError(
            _("The comment is too long (%(n)d characters at most).") % {"n": COMMENT_MAX},
            field="comment",
        )
    rating, _created = SatisfactionRating.objects.update_or_create(
        ticket=ticket,
        defaults={
            "score": score,
            "comment": comment,
            "agent": ticket.assignee,
            "desk": ticket.desk,
            "rated_at": timezone.now(),
        },
    )
    return rating


@dataclass(frozen=True)
class SatisfactionRow:
    name: str
    good: int
    bad: int

    @property
    def share(self) -> float | None:
        total = self.good + self.bad
        return self.good / total if total else None


def satisfaction_rows(ratings: QuerySet[SatisfactionRating], by: str) -> list[SatisfactionRow]:
    """Good and bad ratings grouped by ``desk`` or ``agent`` (named; "—" for none)."""
    name = {"desk": "desk__name", "agent": "agent"}[by]
    keys = ("desk", name) if by == "desk" else (name,)  # two desks may share a name
    grouped = (
        ratings.values(*keys)
        .annotate(
            good=Count("pk", filter=Q(score=SatisfactionRating.Score.GOOD)),
            bad=Count("pk", filter=Q(score=SatisfactionRating.Score.BAD)),
        )
        .order_by(name)
    )
    rows = list(grouped)
    if by == "agent":
        people = {u.pk: u for u in User.objects.filter(pk__in=[r["agent"] for r in rows])}
        return sorted(
            (
                SatisfactionRow(
                    people[r["agent"]].get_full_name() or people[r["agent"]].username
                    if r["agent"] in people
                    else "—",
                    r["good"],
                    r["bad"],
                )
                for r in rows
            ),
            key=lambda row: row.name,
        )
    return [SatisfactionRow(r[name], r["good"], r["bad"]) for r in rows]


def ratings_of_period(
    *,
    start: datetime,
    end: datetime,
    desk_id: int | None = None,
    organization_id: int | None = None,
    severity: str = "",
    agent_id: int | None = None,
    tag_id: int | None = None,
) -> QuerySet[SatisfactionRating]:
    """The ratings given in [start, end), narrowed as the SLA report's filters narrow it (the
    agent: the one rated)."""
    ratings = SatisfactionRating.objects.filter(rated_at__gte=start, rated_at__lt=end)
    if desk_id:
        ratings = ratings.filter(desk_id=desk_id)
    if organization_id:
        ratings = ratings.filter(ticket__organization_id=organization_id)
    if severity:
        ratings = ratings.filter(ticket__severity=severity)
    if agent_id:
        ratings = ratings.filter(agent_id=agent_id)
    if tag_id:
        ratings = ratings.filter(ticket__tags__id=tag_id)
    return ratings
