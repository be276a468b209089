"""Reads of the tickets app. Visibility always comes from tickets.access."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from sla.clocks.calendar import elapsed
from sla.clocks.selectors import calendar_snapshot_by_id
from sla.clocks.snapshots import snapshot_of
from sla.clocks.values import CalendarSnapshot, ClockKind
from sla.models import Clock, Metric
from tickets import access
from tickets.models import (
    Article,
    Attachment,
    CannedReply,
    ChatSession,
    Contact,
    Desk,
    Message,
    ProductArea,
    Ticket,
    TicketEvent,
    User,
)


def _with_deadlines(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with its clocks' due instants, states and outcomes (one subquery
    each, no N+1)."""
    clocks = Clock.objects.filter(ticket=OuterRef("pk"))
    ack = clocks.filter(metric=Metric.ACKNOWLEDGEMENT)
    correction = clocks.filter(metric=Metric.CORRECTION)
    return tickets.annotate(
        ack_due=Subquery(ack.values("due_at")[:1]),
        ack_state=Subquery(ack.values("state")[:1]),
        ack_outcome=Subquery(ack.values("outcome")[:1]),
        correction_due=Subquery(correction.values("due_at")[:1]),
        correction_state=Subquery(correction.values("state")[:1]),
        correction_outcome=Subquery(correction.values("outcome")[:1]),
    )


def ticket_queue_for_agent(visible: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Open tickets of those the agent may see (``access.desks_and_tickets``), nearest
    deadline first."""
    # The columns the database keeps for this order (Ticket.queue_*): read from an index.
    tickets = visible.filter(queue_open=1)
    related = ("organization", "requester", "desk__calendar", "calendar", "assignee", "triage")
    return tickets.select_related(*related).order_by("queue_due", "severity_rank", "received_at")


WAITING_CHAT_ROWS = 20


def waiting_chats(tickets: QuerySet[Ticket]) -> list[Ticket]:
    """The queue's tickets whose chat waits for an agent, longest waiting first (one query)."""
    waiting = tickets.filter(chat__state=ChatSession.State.WAITING).select_related("chat")
    return list(waiting.order_by("chat__started_at")[:WAITING_CHAT_ROWS])


def ticket_queue_page_related(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a queue row needs besides the ticket: the clocks that still count (a long
    conversation's answered rounds stay behind) and its desk's calendar."""
    counting = Clock.objects.exclude(state=Clock.State.STOPPED).order_by("due_at")
    return tickets.prefetch_related(Prefetch("clocks", queryset=counting))


class BadgeState:
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    NONE = "none"


@dataclass(frozen=True)
class SlaBadge:
    """The promise a queue row shows: the nearest counting clock, its time left or overdue,
    counted the way that clock counts (calendar time, business hours or business days)."""

    state: str
    clock: Clock | None = None
    remaining: timedelta | None = None  # time left, or overdue by when state is breached

    @property
    def kind(self) -> str:
        return self.clock.kind if self.clock else ""


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    badge: SlaBadge


def _badge(clocks: Sequence[Clock], cal: CalendarSnapshot, now: datetime) -> SlaBadge:
    counting = [c for c in clocks if c.state != Clock.State.STOPPED and c.due_at is not None]
    running = [c for c in counting if c.state == Clock.State.RUNNING]
    if not running:
        paused = counting[0] if counting else None
        return SlaBadge(BadgeState.PAUSED if paused else BadgeState.NONE, clock=paused)
    clock = min(running, key=lambda c: c.due_at or now)
    assert clock.due_at is not None
    kind = ClockKind(clock.kind)
    if clock.due_at <= now or clock.breached_at is not None:
        return SlaBadge(BadgeState.BREACHED, clock, elapsed(cal, kind, clock.due_at, now))
    state = (
        BadgeState.WARNING if clock.warn_at is not None and clock.warn_at <= now else BadgeState.OK
    )
    # Left: what will count from now, or from the clock's start when it has not started yet
    # (a ticket that arrived outside support hours).
    return SlaBadge(state, clock, elapsed(cal, kind, max(now, clock.started_at), clock.due_at))


def queue_rows(tickets: Sequence[Ticket], *, now: datetime) -> list[QueueRow]:
    """Rows of a queue page (tickets from `ticket_queue_page_related`), each with its badge."""
    # The page's few calendars, once each, kept by the process while unchanged.
    snapshots: dict[int, CalendarSnapshot] = {}
    for ticket in tickets:  # read with the page (ticket_queue_for_agent): no query when kept
        calendar = ticket.calendar or ticket.desk.calendar
        if calendar.pk not in snapshots:
            snapshots[calendar.pk] = snapshot_of(calendar)
    return [
        QueueRow(
            ticket=ticket,
            badge=_badge(list(ticket.clocks.all()), snapshots[ticket.clock_calendar_id], now),
        )
        for ticket in tickets
    ]


def canned_replies_for(user: User, ticket: Ticket) -> QuerySet[CannedReply]:
    """The canned replies an agent may insert on this ticket: for every desk or its own, in
    its customer's language or any."""
    from tickets.services.customer_mail import contact_language

    language = contact_language(ticket.requester)
    return (
        access.visible_canned_replies(user)
        .filter(Q(desk__isnull=True) | Q(desk=ticket.desk_id))
        .filter(language__in=["", language])
        .order_by("title")
    )


def ticket_list_for_customer(user: User) -> QuerySet[Ticket]:
    """The customer's tickets, newest first, each with its deadlines and whether a promise
    was missed (``late``)."""
    from tickets.filters import breached_clocks

    return (
        _with_deadlines(access.visible_tickets(user))
        .annotate(late=Exists(breached_clocks()))
        .select_related("requester", "assignee")
        .order_by("-received_at")
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_timeline(user: User, ticket: Ticket) -> list[TimelineEntry]:
    """Messages and history of a ticket in time order, as the user may see them."""
    messages = (
        access.visible_messages(user, ticket)
        .select_related("author", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )
    entries = [TimelineEntry(at=m.received_at, message=m) for m in messages]
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if not access.is_staff_member(user):
        events = events.exclude(
            kind__in=[
                TicketEvent.Kind.NOTE,
                TicketEvent.Kind.ASSIGNEE,
                TicketEvent.Kind.CLOCK,
                TicketEvent.Kind.ESCALATION,
                TicketEvent.Kind.TRIAGE,
                TicketEvent.Kind.TAGS,
            ]
        )
    shown = [e for e in events if e.kind not in (TicketEvent.Kind.MESSAGE, TicketEvent.Kind.NOTE)]
    assignments = [e for e in shown if e.kind == TicketEvent.Kind.ASSIGNEE]
    names = people_names(name for e in assignments for name in (e.before, e.after))
    for event in assignments:  # stored as usernames, read as the people's names; never saved
        event.before = names.get(event.before, event.before)
        event.after = names.get(event.after, event.after)
    for event in shown:
        event.note = access.event_note_for(user, event)  # read only: never saved
    entries += [TimelineEntry(at=e.created_at, event=e) for e in shown]
    return sorted(entries, key=lambda entry: (entry.at, entry.event is not None))


def people_names(usernames: Iterable[str]) -> dict[str, str]:
    """The people behind usernames, as pages name them: their full name, else their username
    (one query; unknown usernames are left out)."""
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    people = User.objects.filter(username__in=wanted).only("username", "first_name", "last_name")
    return {person.username: person.get_full_name() or person.username for person in people}


def ticket_clocks(ticket: Ticket) -> list[Clock]:
    """Every clock of the ticket, each round of a promise kept in rounds included."""
    return list(Clock.objects.filter(ticket=ticket).order_by("metric", "round"))


# --- FAQ ---------------------------------------------------------------------------------------

# Words too common to say what an article is about (English and French).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "to",
        "in",
        "on",
        "is",
        "it",
        "my",
        "i",
        "for",
        "with",
        "not",
        "does",
        "do",
        "cannot",
        "can't",
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "de",
        "du",
        "et",
        "est",
        "en",
        "ne",
        "pas",
        "sur",
        "pour",
        "dans",
        "mon",
        "ma",
        "mes",
        "je",
        "au",
        "aux",
    ]
)


@dataclass(frozen=True)
class AreaArticles:
    area: ProductArea
    articles: list[Article]


def faq_areas(articles: QuerySet[Article], *, language: str) -> list[AreaArticles]:
    """Published articles by product area, in the reader's language first."""
    rows = list(articles.order_by("area__position", "area__name", "title"))
    preferred = [a for a in rows if a.language == language] or rows
    grouped: dict[int, AreaArticles] = {}
    for article in preferred:
        grouped.setdefault(article.area_id, AreaArticles(article.area, [])).articles.append(article)
    return list(grouped.values())


def articles_matching(
    articles: QuerySet[Article], query: str, *, language: str, limit: int = 20
) -> list[Article]:
    """Articles containing any of the query's words, best first: words in the title count
    most, then keywords, then the text; the reader's language first on equal scores."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2 and w not in STOP_WORDS]
    if not words:
        return []
    match = Q()
    for word in words[:8]:
        match |= Q(title__icontains=word) | Q(keywords__icontains=word) | Q(body__icontains=word)
    candidates = list(articles.filter(match)[:200])

    def score(article: Article) -> tuple[int, int]:
        title, keywords, body = (
            article.title.lower(),
            article.keywords.lower(),
            article.body.lower(),
        )
        points = sum(
            (5 if w in title else 0) + (3 if w in keywords else 0) + (1 if w in body else 0)
            for w in words
        )
        return (points, 1 if article.language == language else 0)

    return sorted(candidates, key=score, reverse=True)[:limit]


# --- support hours -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportHours:
    """What the portal says of a desk's hours: the week, open now or when it opens next."""

    desk: Desk
    time_zone: str
    week: list[tuple[str, str]]  # (weekday name, "09:00–12:30, 13:30–17:00" or "")
    open_now: bool
    next_opening: datetime | None


def chat_open_for(contact: Contact) -> ChatSession | None:
    """The contact's latest conversation still waiting for an agent or under way."""
    return (
        ChatSession.objects.filter(
            ticket__requester=contact,
            state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE],
        )
        .select_related("ticket")
        .order_by("-started_at")
        .first()
    )


def support_hours(desk: Desk, *, now: datetime) -> SupportHours:
    from sla.clocks.calendar import is_open, next_opening
    from sla.clocks.values import NeverOpenError
    from sla.models import Weekday

    cal = calendar_snapshot_by_id(desk.calendar_id)
    week = [
        (
            str(Weekday(day).label),
            ", ".join(
                f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
                for start, end in cal.weekly[day]
            ),
        )
        for day in range(7)
    ]
    open_now = is_open(cal, now)
    try:
        opens = None if open_now else next_opening(cal, now)
    except NeverOpenError:
        opens = None
    return SupportHours(desk, cal.time_zone, week, open_now, opens)
