"""Bulk rows shaped as tickets.demo and the services would leave them, over one year: the
data of bench/agent_queue.py and bench/reports.py. Imported once Django is set up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.db import transaction

from sla.clocks.calendar import clock_start
from sla.clocks.deadlines import counted, instant_reaching, spared_by_downgrade
from sla.clocks.selectors import calendar_snapshot
from sla.clocks.values import ClockKind
from sla.models import Calendar, Clock, Metric, SlaPolicy
from tickets.models import (
    Channel,
    Contact,
    Desk,
    Message,
    Organization,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    User,
)

BATCH = 5_000
RECLASSIFIED = 0.03  # share of tickets downgraded an hour after arrival, by their agent
# Weights of new, acknowledged, in progress, waiting, resolved and closed, by age in days.
# Weights of each status (in Status order: new, acknowledged, in progress, waiting on the
# customer, on hold, resolved, closed) by the ticket's age in days.
STATUSES = [
    (2, (40, 30, 20, 10, 0, 0, 0)),
    (30, (5, 10, 20, 15, 0, 30, 20)),
    (366, (0, 0, 1, 1, 0, 8, 90)),
]


class Seeder:
    """Bulk rows shaped as tickets.demo and the services would leave them, over one year."""

    def __init__(self) -> None:
        self.rng, self.now, self.seeded = random.Random(2024), datetime.now(UTC), 0
        policy = SlaPolicy.objects.get(slug="standard")
        self.warning = policy.warning_percent
        self.targets = {(t.severity, t.metric): t for t in policy.versions.get().targets.all()}
        calendars = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings")
        self.calendars = {c.slug: calendar_snapshot(c) for c in calendars}
        self.cache: dict[tuple[object, ...], datetime] = {}
        self.people = {"maya": User.objects.create(username="maya", role=User.Role.MANAGER)}
        self.agents: dict[int, list[User]] = {}
        desks = {}
        for slug, lead in [("europe", "anna"), ("north-america", "nate"), ("france", "fanny")]:
            staff = [User(username=f"{slug}-{i}" if i else lead, role="agent") for i in range(6)]
            User.objects.bulk_create(staff)
            desks[slug] = desk = Desk.objects.create(
                slug=slug,
                name=slug.replace("-", " ").title(),
                email=f"{slug}@pacte.example",
                lead=staff[0],
                region="north-america" if slug == "north-america" else "europe",
                calendar=Calendar.objects.get(slug=slug),
            )
            desk.agents.add(*staff)
            self.agents[desk.pk], self.people[lead] = staff, staff[0]
        self.pool: list[tuple[Contact, Desk]] = []  # Kiosk Vision, first, has a tenth of all
        for i in range(200):
            served = (
                [desks["europe"], desks["north-america"]]
                if i == 0
                else [desks["france"]]
                if i % 7 == 1
                else [desks[self.rng.choice(["europe", "north-america"])]]
            )
            org = Organization.objects.create(
                name=f"Customer {i:03d}" if i else "Kiosk Vision",
                slug=f"org-{i}",
                sla_policy=policy,
            )
            org.desks.add(*served)
            users = [
                User(username=f"org-{i}-{n}" if i or n else "klaus", role="customer")
                for n in range(self.rng.randint(3, 6))
            ]
            contacts = [
                Contact(
                    organization=org,
                    user=user,
                    name=user.username.title(),
                    email=f"{user.username}@customer.example",
                    region=served[n % len(served)].region,
                    role=Contact.Role.MEMBER if n else Contact.Role.ADMIN,
                )
                for n, user in enumerate(User.objects.bulk_create(users))
            ]
            Contact.objects.bulk_create(contacts)
            self.people.setdefault("klaus", users[0])
            weight = 20 if i == 0 else 1
            self.pool += [(c, served[n % len(served)]) for n, c in enumerate(contacts)] * weight

    def reach(self, desk: str, kind: str, start: datetime, amount: timedelta) -> datetime:
        """When a clock running since `start` has counted `amount` (sla.clocks.deadlines)."""
        key = (desk, kind, start, amount)
        if key not in self.cache:  # business clocks of tickets sent when closed share a start
            due = instant_reaching(self.calendars[desk], ClockKind(kind), [(start, None)], amount)
            assert due is not None
            self.cache[key] = due
        return self.cache[key]

    def clock(self, ticket: Ticket, metric: str, end: datetime | None, paused: bool) -> Clock:
        """A clock as sla.clocks.services leaves it: running, or paused or stopped at `end`."""
        target, desk = self.targets[(ticket.severity, metric)], ticket.desk.slug
        start = clock_start(self.calendars[desk], ClockKind(target.kind), ticket.received_at)
        due = self.reach(desk, target.kind, start, target.duration)
        stop = None if end is None else max(end, start)
        clock = Clock(
            ticket=ticket,
            metric=metric,
            kind=target.kind,
            target=target.duration,
            warning_percent=self.warning,
            started_at=start,
            due_at=due,
            runs=[[start.isoformat(), stop and stop.isoformat()]],
        )
        if stop is None or paused:
            warning = target.duration * self.warning / 100
            clock.warn_at = self.reach(desk, target.kind, start, warning)
            clock.breached_at = due if due < self.now else None  # as the sweep marks it
        if stop is not None and paused:  # instants the closed run does not reach are unknown
            clock.state = Clock.State.PAUSED
            clock.due_at = clock.breached_at = due if due <= stop else None
            clock.warn_at = clock.warn_at if clock.warn_at and clock.warn_at <= stop else None
        elif stop is not None:
            clock.state, clock.stopped_at = Clock.State.STOPPED, end
            clock.elapsed = counted(
                self.calendars[desk], ClockKind(target.kind), [(start, stop)], stop
            )
            clock.breached_at = due if due < stop else None
            clock.outcome = Clock.Outcome.BREACHED if clock.breached_at else Clock.Outcome.MET
        return clock

    def downgrade(self, ticket: Ticket, clocks: list[Clock]) -> TicketEvent | None:
        """A reclassification to the ticket's severity from the one above, an hour in; its
        clocks (counted from the arrival, as after sla.clocks.services' recompute) learn whether
        the old severity would have missed them."""
        order = list(Severity)
        if ticket.severity == order[0] or ticket.assignee is None:
            return None
        before = order[order.index(Severity(ticket.severity)) - 1]
        desk = ticket.desk.slug
        for clock in clocks:
            if clock.outcome == Clock.Outcome.MET and clock.stopped_at is not None:
                old = self.targets[(before, clock.metric)]
                earlier = [(before.value, ClockKind(old.kind), old.duration)]
                clock.spared_from = spared_by_downgrade(
                    self.calendars[desk],
                    ticket.received_at,
                    [(clock.started_at, clock.stopped_at)],
                    clock.stopped_at,
                    earlier,
                )
        return TicketEvent(
            ticket=ticket,
            actor=ticket.assignee,
            kind=TicketEvent.Kind.SEVERITY,
            field="severity",
            before=before,
            after=ticket.severity,
            note="Only one kiosk is affected.",
            created_at=min(ticket.received_at + timedelta(hours=1), self.now),
        )

    def ticket(self, age: float) -> tuple[Ticket, list[Message | Clock | TicketEvent]]:
        rng, now = self.rng, self.now
        contact, desk = rng.choice(self.pool)
        status = rng.choices(list(Status), next(w for days, w in STATUSES if age < days))[0]
        received = now - timedelta(days=age)
        acked = min(received + timedelta(minutes=rng.uniform(5, 36 * 60)), now)
        later = min(acked + timedelta(hours=rng.uniform(1, 240)), now)
        ticket = Ticket(
            subject=f"Kiosk {rng.randrange(10_000)} shows a blank screen",
            status=status,
            severity=rng.choices(list(Severity), (10, 35, 55))[0],
            desk=desk,
            channel=rng.choices(list(Channel), (50, 30, 5, 5, 10))[0],
            requester=contact,
            organization=contact.organization,
            received_at=received,
            updated_at=received if status == Status.NEW else later,
        )
        if status != Status.NEW or rng.random() < 0.3:
            ticket.assignee = rng.choice(self.agents[desk.pk])
        working = status in (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
        clocks = [
            self.clock(
                ticket,
                Metric.ACKNOWLEDGEMENT,
                None if status == Status.NEW else acked,
                paused=False,
            ),
            self.clock(
                ticket,
                Metric.CORRECTION,
                None if working else later,
                paused=status == Status.WAITING_ON_CUSTOMER,
            ),
        ]
        running = [c.due_at for c in clocks if c.state == Clock.State.RUNNING and c.due_at]
        ticket.sla_due_at = min(running, default=None)
        rows: list[Message | Clock | TicketEvent] = [
            *clocks,
            Message(
                ticket=ticket,
                author=contact.user,
                author_contact=contact,
                channel=ticket.channel,
                body="Since the update, our kiosks show a blank screen.",
                received_at=received,
            ),
        ]
        if rng.random() < RECLASSIFIED and (event := self.downgrade(ticket, clocks)):
            rows.append(event)
        if status != Status.NEW:
            rows.append(
                Message(
                    ticket=ticket,
                    author=ticket.assignee,
                    from_agent=True,
                    channel=Channel.WEB,
                    body="We reproduce it.",
                    received_at=acked,
                )
            )
        return ticket, rows

    def seed(self, total: int, days: float = 365) -> None:
        """Add tickets up to `total`, received over the past `days`, oldest first, in batches."""
        ages = sorted((self.rng.uniform(0, days) for _ in range(total - self.seeded)), reverse=True)
        self.seeded = total
        for first in range(0, len(ages), BATCH):
            batch = [self.ticket(age) for age in ages[first : first + BATCH]]
            rows = [row for _, ticket_rows in batch for row in ticket_rows]
            with transaction.atomic():
                Ticket.objects.bulk_create([ticket for ticket, _ in batch])
                Message.objects.bulk_create([r for r in rows if isinstance(r, Message)])
                Clock.objects.bulk_create([r for r in rows if isinstance(r, Clock)])
                TicketEvent.objects.bulk_create([r for r in rows if isinstance(r, TicketEvent)])
