from django.db import migrations, models


def count_stopped_clocks(apps, schema_editor):
    """Stopped clocks get their counted time, as sla.clocks.services now records it at the stop.

    The arithmetic is the product's own (pure functions on a calendar snapshot); the rows are
    the migration's historical models, converted by hand into that snapshot.
    """
    from sla.clocks.deadlines import counted
    from sla.clocks.selectors import calendar_snapshot, clock_runs
    from sla.clocks.values import ClockKind

    Clock = apps.get_model("sla", "Clock")
    Calendar = apps.get_model("sla", "Calendar")
    snapshots = {}
    clocks = Clock.objects.filter(state="stopped", elapsed_seconds__isnull=True).select_related(
        "ticket__desk"
    )
    for clock in clocks.iterator(chunk_size=2000):
        calendar_id = clock.ticket.desk.calendar_id
        if calendar_id not in snapshots:
            calendar = Calendar.objects.prefetch_related(
                "intervals", "closures", "extra_openings"
            ).get(pk=calendar_id)
            snapshots[calendar_id] = calendar_snapshot(calendar)
        elapsed = counted(
            snapshots[calendar_id], ClockKind(clock.kind), clock_runs(clock), clock.stopped_at
        )
        clock.elapsed_seconds = int(elapsed.total_seconds())
        clock.save(update_fields=["elapsed_seconds"])


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0006_availability"),
    ]

    operations = [
        migrations.AddField(
            model_name="clock",
            name="elapsed_seconds",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(count_stopped_clocks, migrations.RunPython.noop),
    ]
