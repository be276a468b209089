"""The models of the SLA app, one module per capability; every model and its choices are
importable from here (``from sla.models import Clock``), where Django looks for them."""

from sla.models.availability import BudgetAlert, MaintenanceWindow, Outage
from sla.models.calendars import (
    Calendar,
    CalendarChange,
    Closure,
    ExtraOpening,
    OpeningInterval,
    Weekday,
)
from sla.models.clocks import (
    ROUND_METRICS,
    Clock,
    EscalationLevel,
    Metric,
    PauseReason,
    SlaPolicy,
    SlaPolicyVersion,
    SlaTarget,
    StopReason,
)
from sla.models.contracts import Contract, ServiceCredit
from sla.models.notifications import Notification
from sla.models.rollups import RollupClocks, RollupDay, RollupDirty, RollupTickets

__all__ = [
    "BudgetAlert",
    "Calendar",
    "CalendarChange",
    "Clock",
    "Contract",
    "Closure",
    "EscalationLevel",
    "ExtraOpening",
    "MaintenanceWindow",
    "Metric",
    "ROUND_METRICS",
    "Notification",
    "OpeningInterval",
    "Outage",
    "SlaPolicy",
    "PauseReason",
    "RollupClocks",
    "RollupDay",
    "RollupDirty",
    "RollupTickets",
    "ServiceCredit",
    "SlaPolicyVersion",
    "SlaTarget",
    "StopReason",
    "Weekday",
]
