"""Count every day of the SLA report's roll-ups again, after writes the database triggers did
not see: a PostgreSQL TRUNCATE, a restore or a replication with triggers disabled
(``session_replication_role=replica``, ``pg_restore --disable-triggers``), an import made
with them dropped.

    python manage.py rollups_recount

The triggers are installed again, every day with tickets is marked dirty, then counted (the
report reads a dirty day from its tickets meanwhile: it is right all along, only slower).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from sla.reports.rollups import dirty_days_count
from sla.reports.triggers import triggers_install


class Command(BaseCommand):
    help = "Mark every day of the report's roll-ups dirty, then count them again."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        triggers_install(connection, all_days_dirty=True)
        days = dirty_days_count(limit=1_000_000)
        seconds = time.perf_counter() - started
        self.stdout.write(f"{days} days counted again in {seconds:.1f} s")
