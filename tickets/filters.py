"""The agent queue's filters and saved views (django-filter, bound to what the agent may see)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sla.models import Clock
from tickets import access
from tickets.forms import PlainSelect
from tickets.models import (
    OPEN_STATUSES,
    AuditEvent,
    Contact,
    Desk,
    Message,
    Organization,
    Severity,
    Ticket,
    User,
)

NOBODY = "none"


class SlaFilter:
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MORE_SEVERE = "more_severe"  # the text suggests a stricter severity than the customer's
    CHOICES = (
        (AT_RISK, _("At risk")),
        (BREACHED, _("Breached")),
        (MORE_SEVERE, _("May be more severe")),
    )


class SavedView(models.TextChoices):
    """The queue's tabs: each one a fixed set of filters."""

    ALL = "all", pgettext_lazy("queue tab", "All open")
    MINE = "mine", pgettext_lazy("queue tab", "Mine")
    UNASSIGNED = "unassigned", pgettext_lazy("queue tab", "Unassigned")
    AT_RISK = "at_risk", pgettext_lazy("queue tab", "At risk")
    BREACHED = "breached", pgettext_lazy("queue tab", "Breached")


def breached_clocks() -> QuerySet[Clock]:
    """Clocks of the outer ticket whose promise is broken: late while counting, or stopped late."""
    now = timezone.now()
    return Clock.objects.filter(ticket=OuterRef("pk")).filter(
        Q(outcome=Clock.Outcome.BREACHED)
        | Q(breached_at__isnull=False)
        | (~Q(state=Clock.State.STOPPED) & Q(due_at__lte=now))
    )


def at_risk_clocks() -> QuerySet[Clock]:
    """Running clocks of the outer ticket past their warning threshold, not yet due."""
    now = timezone.now()
    return Clock.objects.filter(
        ticket=OuterRef("pk"),
        state=Clock.State.RUNNING,
        warn_at__lte=now,
        due_at__gt=now,
        breached_at__isnull=True,
    )


def text_search(
    tickets: QuerySet[Ticket], query: str, *, customer: bool = False
) -> QuerySet[Ticket]:
    """Reference, subject, requester (name or address) and message text (for a customer, of
    the messages they may read: an internal note is never matched for them)."""
    query = " ".join(query.split())
    if not query:
        return tickets
    messages = Message.objects.filter(access.customer_readable()) if customer else Message.objects
    ticket_id = Ticket.id_from_reference(query)
    if ticket_id is None and query.isascii() and query.isdecimal():
        ticket_id = int(query)
    match: Q = (
        Q(subject__icontains=query)
        | Q(requester__name__icontains=query)
        | Q(requester__email__icontains=query)
        | Q(Exists(messages.filter(ticket=OuterRef("pk"), body__icontains=query)))
    )
    if ticket_id is not None:
        match |= Q(pk=ticket_id)
    return tickets.filter(match)


class QueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_text")
    desk = django_filters.ChoiceFilter(  # choices: the desks the view read already
        label=_("Desk"),
        empty_label=_("Every desk"),
        widget=PlainSelect,
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"),
        choices=Severity.choices,
        empty_label=_("Any severity"),
        widget=PlainSelect,
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in OPEN_STATUSES],
        empty_label=_("Any open status"),
        widget=PlainSelect,
    )
    assignee = django_filters.ChoiceFilter(
        label=_("Assignee"),
        method="filter_assignee",
        empty_label=_("Anyone"),
        widget=PlainSelect,
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        empty_label=_("Every organization"),
        widget=PlainSelect,
    )
    sla = django_filters.ChoiceFilter(
        label=_("SLA"),
        choices=SlaFilter.CHOICES,
        method="filter_sla",
        empty_label=_("Any"),
        widget=PlainSelect,
    )
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag")

    class Meta:
        model = Ticket
        fields = ["q", "desk", "severity", "status", "assignee", "organization", "sla", "tag"]

    def __init__(
        self, *args: Any, user: User, desks: Sequence[Desk], agents: Sequence[User], **kwargs: Any
    ) -> None:
        """`desks`: those the user works; `agents`: their active agents (read by the view)."""
        super().__init__(*args, **kwargs)
        self.filters["desk"].extra["choices"] = [(str(desk.pk), desk.name) for desk in desks]
        # django-filter ships no type hints: mypy sees a bare Filter, not the model choice one.
        self.filters["organization"].queryset = (  # type: ignore[attr-defined]  # see above
            Organization.objects.filter(desks__in=[desk.pk for desk in desks])
            .distinct()
            .order_by("name")
        )
        self.filters["assignee"].extra["choices"] = [
            (str(user.pk), _("Me")),
            (NOBODY, _("Nobody")),
            *[
                (str(agent.pk), agent.get_full_name() or agent.username)
                for agent in agents
                if agent.pk != user.pk
            ],
        ]

    def filter_text(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return text_search(tickets, value)

    def filter_assignee(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == NOBODY:
            return tickets.filter(assignee__isnull=True)
        return tickets.filter(assignee_id=int(value))

    def filter_tag(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return tickets.filter(tags__name=" ".join(value.split()).lower())

    def filter_sla(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == SlaFilter.BREACHED:
            return tickets.filter(Exists(breached_clocks()))
        if value == SlaFilter.AT_RISK:
            return tickets.filter(Exists(at_risk_clocks())).exclude(Exists(breached_clocks()))
        if value == SlaFilter.MORE_SEVERE:
            return tickets.filter(triage__flagged=True)
        return tickets


class CustomerTicketFilter(django_filters.FilterSet):
    """A customer's ticket list: search, open or closed, late; an organization admin also
    chooses the requester (``requesters``: their organization's contacts)."""

    OPEN, CLOSED, LATE = "open", "closed", "late"
    q = django_filters.CharFilter(label=_("Search"), method="filter_text")
    state = django_filters.ChoiceFilter(
        label=_("Tickets"),
        choices=((OPEN, _("Open")), (CLOSED, _("Resolved or closed")), (LATE, _("Late"))),
        empty_label=_("All tickets"),
        method="filter_state",
        widget=PlainSelect,
    )
    requester = django_filters.ModelChoiceFilter(
        label=_("Requester"),
        queryset=Contact.objects.none(),
        empty_label=_("Everyone"),
        widget=PlainSelect,
    )

    class Meta:
        model = Ticket
        fields: Sequence[str] = []

    def __init__(self, *args: Any, requesters: QuerySet[Contact] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if requesters is None:
            del self.filters["requester"]
        else:
            self.filters["requester"].queryset = requesters

    def filter_text(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return text_search(tickets, value, customer=True)

    def filter_state(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == self.OPEN:
            return tickets.filter(status__in=OPEN_STATUSES)
        if value == self.CLOSED:
            return tickets.exclude(status__in=OPEN_STATUSES)
        if value == self.LATE:
            return tickets.filter(Exists(breached_clocks()))
        return tickets


def apply_saved_view(tickets: QuerySet[Ticket], view: str, user: User) -> QuerySet[Ticket]:
    if view == SavedView.MINE:
        return tickets.filter(assignee=user)
    if view == SavedView.UNASSIGNED:
        return tickets.filter(assignee__isnull=True)
    if view == SavedView.AT_RISK:
        return tickets.filter(Exists(at_risk_clocks())).exclude(Exists(breached_clocks()))
    if view == SavedView.BREACHED:
        return tickets.filter(Exists(breached_clocks()))
    return tickets


class AuditFilter(django_filters.FilterSet):
    """The audit log's filters: what, by whom or on what, from which day to which."""

    kind = django_filters.ChoiceFilter(
        label=_("What"), choices=AuditEvent.Kind.choices, empty_label=_("Everything")
    )
    who = django_filters.CharFilter(label=_("By or on"), method="filter_who")
    start = django_filters.DateFilter(
        label=_("From"), field_name="at", lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    end = django_filters.DateFilter(
        label=_("To (inclusive)"), field_name="at", lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip

    class Meta:
        model = AuditEvent
        fields = ["kind", "who", "start", "end"]

    def filter_who(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.replace("\x00", "").strip()[:150]  # PostgreSQL refuses NUL in text
        # The page names people by their names: "Maya" finds the lines of the username maya.
        named = (
            User.objects.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
            .filter(full_name__icontains=value)
            .values("username")
        )
        return queryset.filter(
            Q(actor_name__icontains=value)
            | Q(target__icontains=value)
            | Q(actor_name__in=named)
            | Q(target__in=named)
        )
