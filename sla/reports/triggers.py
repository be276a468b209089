"""The database triggers that keep the report's daily roll-ups honest (sla.models.rollups):
every change to what a report counts of a ticket or a clock appends the ticket's UTC day to
``sla_rollupdirty``, in the same transaction as the change, whichever code path made it (a
model's save, a bulk update, a raw statement).

They are installed by migration sla 0020 and again after every ``migrate`` (sla.apps). Before
a ``migrate`` whose plan touches the ticket or clock models they are dropped (sla.apps): on
SQLite such a migration rebuilds the table (copy, drop, rename), and a trigger of the other
table that names it would make the rename fail; PostgreSQL keeps them, but what the migration
writes meanwhile would be marked, or not, at random. When any was missing at the end, every day
with tickets is marked dirty, since changes may have gone unrecorded.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration

TICKET_COLUMNS = ["received_at", "desk_id", "severity", "merged_into_id"]
CLOCK_COLUMNS = [
    "ticket_id",
    "metric",
    "kind",
    "state",
    "outcome",
    "elapsed_seconds",
    "breached_at",
    "spared_from",
]


def _changed(columns: list[str], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


# A ticket's UTC day: Django keeps SQLite's instants as UTC text, PostgreSQL's as timestamptz.
_SQLITE_DAY = "date({})"
_POSTGRESQL_DAY = "(({}) AT TIME ZONE 'UTC')::date"

_SQLITE_TRIGGERS = {
    "sla_rollup_ticket_insert": """AFTER INSERT ON tickets_ticket BEGIN
        INSERT INTO sla_rollupdirty (day) VALUES (date(NEW.received_at)); END""",
    "sla_rollup_ticket_update": f"""AFTER UPDATE ON tickets_ticket
        WHEN {_changed(TICKET_COLUMNS, "IS NOT")} BEGIN
        INSERT INTO sla_rollupdirty (day)
        VALUES (date(OLD.received_at)), (date(NEW.received_at)); END""",
    "sla_rollup_ticket_delete": """AFTER DELETE ON tickets_ticket BEGIN
        INSERT INTO sla_rollupdirty (day) VALUES (date(OLD.received_at)); END""",
    "sla_rollup_clock_insert": """AFTER INSERT ON sla_clock BEGIN
        INSERT INTO sla_rollupdirty (day)
        SELECT date(received_at) FROM tickets_ticket WHERE id = NEW.ticket_id; END""",
    "sla_rollup_clock_update": f"""AFTER UPDATE ON sla_clock
        WHEN {_changed(CLOCK_COLUMNS, "IS NOT")} BEGIN
        INSERT INTO sla_rollupdirty (day) SELECT date(received_at) FROM tickets_ticket
        WHERE id IN (OLD.ticket_id, NEW.ticket_id); END""",
    "sla_rollup_clock_delete": """AFTER DELETE ON sla_clock BEGIN
        INSERT INTO sla_rollupdirty (day)
        SELECT date(received_at) FROM tickets_ticket WHERE id = OLD.ticket_id; END""",
}

_POSTGRESQL_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION sla_rollup_ticket_dirty() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO sla_rollupdirty (day) VALUES ((OLD.received_at AT TIME ZONE 'UTC')::date);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO sla_rollupdirty (day) VALUES ((NEW.received_at AT TIME ZONE 'UTC')::date);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION sla_rollup_clock_dirty() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO sla_rollupdirty (day) SELECT (received_at AT TIME ZONE 'UTC')::date
            FROM tickets_ticket WHERE id = NEW.ticket_id;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO sla_rollupdirty (day) SELECT (received_at AT TIME ZONE 'UTC')::date
            FROM tickets_ticket WHERE id = OLD.ticket_id;
        ELSE
            INSERT INTO sla_rollupdirty (day) SELECT (received_at AT TIME ZONE 'UTC')::date
            FROM tickets_ticket WHERE id IN (OLD.ticket_id, NEW.ticket_id);
        END IF;
        RETURN NULL;
    END $$""",
]
_POSTGRESQL_TRIGGERS = {
    "sla_rollup_ticket_insert_delete": """AFTER INSERT OR DELETE ON tickets_ticket
        FOR EACH ROW EXECUTE FUNCTION sla_rollup_ticket_dirty()""",
    "sla_rollup_ticket_update": f"""AFTER UPDATE ON tickets_ticket FOR EACH ROW
        WHEN ({_changed(TICKET_COLUMNS, "IS DISTINCT FROM")})
        EXECUTE FUNCTION sla_rollup_ticket_dirty()""",
    "sla_rollup_clock_insert_delete": """AFTER INSERT OR DELETE ON sla_clock
        FOR EACH ROW EXECUTE FUNCTION sla_rollup_clock_dirty()""",
    "sla_rollup_clock_update": f"""AFTER UPDATE ON sla_clock FOR EACH ROW
        WHEN ({_changed(CLOCK_COLUMNS, "IS DISTINCT FROM")})
        EXECUTE FUNCTION sla_rollup_clock_dirty()""",
}
_POSTGRESQL_TABLES = {
    "sla_rollup_ticket_insert_delete": "tickets_ticket",
    "sla_rollup_ticket_update": "tickets_ticket",
    "sla_rollup_clock_insert_delete": "sla_clock",
    "sla_rollup_clock_update": "sla_clock",
}


def triggers_present(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the roll-up triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            return set()
        return {name for (name,) in cursor.fetchall() if name.startswith("sla_rollup_")}


def triggers_expected(connection: BaseDatabaseWrapper) -> set[str]:
    if connection.vendor == "sqlite":
        return set(_SQLITE_TRIGGERS)
    if connection.vendor == "postgresql":
        return set(_POSTGRESQL_TRIGGERS)
    return set()


def triggers_install(connection: BaseDatabaseWrapper, *, all_days_dirty: bool = False) -> None:
    """(Re)create the triggers; mark every day with tickets dirty when asked, or when any
    trigger was missing (changes may have gone unrecorded; with no ticket, nothing is marked)."""
    expected = triggers_expected(connection)
    if not expected:
        raise ImproperlyConfigured(f"Pacte runs on SQLite or PostgreSQL, not {connection.vendor}")
    missing = expected - triggers_present(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            day = _SQLITE_DAY
            for name, body in _SQLITE_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        else:
            day = _POSTGRESQL_DAY
            for statement in _POSTGRESQL_FUNCTIONS:
                cursor.execute(statement)
            for name, body in _POSTGRESQL_TRIGGERS.items():
                cursor.execute(f"CREATE OR REPLACE TRIGGER {name} {body}")
        if all_days_dirty or missing:
            cursor.execute(
                "INSERT INTO sla_rollupdirty (day) SELECT DISTINCT "
                + day.format("received_at")
                + " FROM tickets_ticket"
            )


# The models whose tables the triggers are on, or name.
_WATCHED = {("tickets", "ticket"), ("sla", "clock")}


def _touches_watched(plan: list[tuple[Migration, bool]]) -> bool:
    for migration, _backwards in plan:
        for operation in migration.operations:
            name = getattr(operation, "model_name", None) or getattr(operation, "name", "")
            if (migration.app_label, str(name).lower()) in _WATCHED:
                return True
    return False


def triggers_before_migrate(
    using: str = "default", plan: list[tuple[Migration, bool]] | None = None, **kwargs: object
) -> None:
    """pre_migrate: drop the triggers when the plan touches the tickets' or the clocks' model
    (see the module); post_migrate installs them again and marks every day dirty."""
    connection = connections[using]
    if (
        plan
        and _touches_watched(plan)
        and "sla_rollupdirty" in connection.introspection.table_names()
    ):
        triggers_remove(connection)


def triggers_after_migrate(using: str = "default", **kwargs: object) -> None:
    """post_migrate: the triggers again, once the roll-up tables exist (see the module)."""
    connection = connections[using]
    if "sla_rollupdirty" in connection.introspection.table_names():
        triggers_install(connection)


def triggers_remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            for name, table in _POSTGRESQL_TABLES.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS sla_rollup_ticket_dirty()")
            cursor.execute("DROP FUNCTION IF EXISTS sla_rollup_clock_dirty()")
