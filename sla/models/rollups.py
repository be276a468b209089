"""Daily roll-ups of the SLA report: each UTC day's tickets and clocks, counted once, so that
a year's report reads a few thousand rows instead of every clock of the year.

A day's roll-up is trusted only while nothing of that day has changed since it was counted.
Database triggers (migration 0020) append the UTC day of a ticket to ``RollupDirty`` whenever
the ticket is created, deleted, moved, reclassified or merged, and whenever one of its clocks
is created, deleted or changes what the report counts; sla.reports.rollups counts a dirty day
again and, until then, the report reads that day's rows themselves.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class RollupDay(models.Model):
    """A UTC day whose roll-up rows were counted, and when."""

    day = models.DateField(primary_key=True)
    counted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} counted {self.counted_at:%Y-%m-%d %H:%M}"


class RollupDirty(models.Model):
    """A change to a day's tickets or clocks since its roll-up was counted: appended by the
    triggers (never updated, so concurrent writers never wait on each other), deleted by the
    count that takes the change in."""

    day = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"{self.day} changed"


class RollupTickets(models.Model):
    """The tickets received on a UTC day (not merged into another), per desk and severity,
    hour by hour (so that a month beginning within the day, at a local midnight, splits it):
    for each of the 24 hours, the tickets received, and of their correction clocks those
    stopped and those met, as 72 unsigned 32-bit little-endian integers."""

    day = models.DateField()
    desk_id = models.BigIntegerField()
    severity = models.CharField(max_length=16)
    hours = models.BinaryField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["day", "desk_id", "severity"], name="rollup_tickets_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} desk {self.desk_id} {self.severity}"


class RollupClocks(models.Model):
    """The clocks of a UTC day's tickets, per desk, severity, metric and clock kind: what the
    report's groups count, and the counted minutes of every clock that has them."""

    day = models.DateField()
    desk_id = models.BigIntegerField()
    severity = models.CharField(max_length=16)
    metric = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    clocks = models.PositiveIntegerField()
    stopped = models.PositiveIntegerField()
    met = models.PositiveIntegerField()
    breached = models.PositiveIntegerField()
    spared = models.PositiveIntegerField()
    # Each counted clock's whole minutes, as unsigned 32-bit little-endian integers: exact
    # medians and percentiles over any set of days, without a row per clock.
    minutes = models.BinaryField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["day", "desk_id", "severity", "metric", "kind"],
                name="rollup_clocks_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} desk {self.desk_id} {self.severity} {self.metric} {self.kind}"
