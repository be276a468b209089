from datetime import timedelta

from django.db import migrations, models

SEVERITIES = ("blocking", "major", "minor")


def duration(target):
    """SlaTarget.duration (a property, which historical models do not carry)."""
    if target.kind == "business_days":
        return timedelta(days=target.amount)
    return timedelta(hours=target.amount)


def mark_spared_clocks(apps, schema_editor):
    """Met clocks of downgraded tickets learn whether the downgrade spared them a breach, as
    sla.clocks.services now records it when a clock stops or is recomputed.

    The arithmetic is the product's own (pure functions on a calendar snapshot); the rows are
    the migration's historical models.
    """
    from sla.clocks.deadlines import spared_by_downgrade
    from sla.clocks.selectors import calendar_snapshot, clock_runs
    from sla.clocks.values import ClockKind

    Clock = apps.get_model("sla", "Clock")
    Calendar = apps.get_model("sla", "Calendar")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    changes = TicketEvent.objects.filter(kind="severity")
    downgrades = {}
    for ticket_id, before, after in changes.order_by("-created_at", "-pk").values_list(
        "ticket_id", "before", "after"
    ):
        if order.get(after, -1) > order.get(before, len(order)):
            downgrades.setdefault(ticket_id, []).append(before)
    # Targets belong to the policy here; from sla 0011 on to a version of it (the live
    # registry the tests call this with): the first version's are the policy's.
    if any(f.name == "policy" for f in SlaTarget._meta.get_fields()):
        targets = {(t.policy_id, t.severity, t.metric): t for t in SlaTarget.objects.all()}
    else:
        rows = SlaTarget.objects.select_related("version").order_by("-version__effective_at")
        targets = {(t.version.policy_id, t.severity, t.metric): t for t in rows}
    snapshots = {}
    clocks = Clock.objects.filter(
        ticket__in=changes.values("ticket_id"), state="stopped", outcome="met"
    ).select_related("ticket__desk", "ticket__organization")
    for clock in clocks.iterator(chunk_size=2000):
        ticket = clock.ticket
        calendar_id = ticket.desk.calendar_id
        if calendar_id not in snapshots:
            calendar = Calendar.objects.prefetch_related(
                "intervals", "closures", "extra_openings"
            ).get(pk=calendar_id)
            snapshots[calendar_id] = calendar_snapshot(calendar)
        current = order.get(ticket.severity, len(order))
        earlier = [
            (severity, ClockKind(target.kind), duration(target))
            for severity in downgrades.get(ticket.pk, [])
            if order[severity] < current
            and (target := targets.get((ticket.organization.sla_policy_id, severity, clock.metric)))
        ]
        clock.spared_from = spared_by_downgrade(
            snapshots[calendar_id], ticket.received_at, clock_runs(clock), clock.stopped_at, earlier
        )
        if clock.spared_from:
            clock.save(update_fields=["spared_from"])


class Migration(migrations.Migration):
    """The SLA report's indexes, and the field it counts the downgrades' saves from."""

    dependencies = [
        ("sla", "0008_budget_alert"),
        ("tickets", "0011_report_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="clock",
            name="spared_from",
            field=models.CharField(
                blank=True,
                choices=[("blocking", "Blocking"), ("major", "Major"), ("minor", "Minor")],
                max_length=16,
            ),
        ),
        migrations.RunPython(mark_spared_clocks, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="clock",
            index=models.Index(
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
        ),
        migrations.AddIndex(
            model_name="clock",
            index=models.Index(
                condition=models.Q(("breached_at__isnull", False)),
                fields=["-due_at", "-id"],
                name="clock_breached_due",
            ),
        ),
    ]
