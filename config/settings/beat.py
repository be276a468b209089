"""Celery beat's schedule: every periodic task and how often it runs (settings.base reads it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import environ

env = environ.Env()


# Over 60 lines: one table, an entry per periodic task, read whole.
def beat_schedule(sweep: timedelta) -> dict[str, dict[str, Any]]:
    """The schedule; ``sweep``: PACTE_SWEEP_SECONDS, the SLA clocks' sweep and deliveries."""
    SWEEP_INTERVAL = sweep  # noqa: N806  (the name the entries below read)
    return {
        "sla-clock-sweep": {
            "task": "sla.tasks.sla_clock_sweep_task",
            "schedule": SWEEP_INTERVAL,
        },
        "notifications-deliver": {
            "task": "sla.tasks.notifications_deliver_task",
            "schedule": SWEEP_INTERVAL,
        },
        # Customer mail waiting in the outbox, and received mail left unhandled.
        "mail-sweep": {
            "task": "tickets.tasks.mail_sweep_task",
            "schedule": timedelta(seconds=env.float("PACTE_MAIL_SEND_SECONDS", default=10.0)),
        },
        "mailboxes-poll": {
            "task": "tickets.tasks.mailboxes_poll_task",
            "schedule": timedelta(seconds=env.float("PACTE_MAIL_POLL_SECONDS", default=60.0)),
        },
        # Managers are mailed when an organization's yearly error budget runs low or out.
        "budget-watch": {
            "task": "sla.tasks.sla_budget_watch_task",
            "schedule": timedelta(hours=1),
        },
        # The embedded database and its attachments, backed up (SQLite only; PostgreSQL:
        # pgBackRest).
        "sqlite-backup": {
            "task": "tickets.tasks.backup_task",
            "schedule": timedelta(hours=24),
        },
        # The severity classifier learns from the agents' reviews (tickets.triage).
        "severity-model-retrain": {
            "task": "tickets.tasks.severity_model_retrain_task",
            "schedule": timedelta(hours=24),
        },
        "sqlite-optimize": {
            "task": "tickets.tasks.sqlite_optimize_task",
            "schedule": timedelta(hours=24),
        },
        # Resolved tickets not reopened within PACTE_REOPEN_DAYS close.
        "tickets-close-resolved": {
            "task": "tickets.tasks.tickets_close_resolved_task",
            "schedule": timedelta(hours=1),
        },
        "sqlite-backup-watch": {
            "task": "tickets.tasks.backup_watch_task",
            "schedule": timedelta(hours=1),
        },
        # A policy version to come that a lost task never announced.
        "policy-announcements": {
            "task": "sla.tasks.policy_versions_announce_pending_task",
            "schedule": timedelta(hours=1),
        },
        # The SLA report's daily roll-ups: the days changed since they were counted, again.
        "report-rollups": {
            "task": "sla.tasks.report_rollups_count_task",
            "schedule": timedelta(minutes=10),
        },
        # "Under contract" follows the contracts' dates; managers hear of contracts ending.
        "contracts-apply": {
            "task": "sla.tasks.contracts_apply_task",
            "schedule": timedelta(minutes=15),
        },
        "contracts-remind": {
            "task": "sla.tasks.contracts_remind_task",
            "schedule": timedelta(hours=24),
        },
        # Each organization's administrators get the report of the month before, once.
        "monthly-reports": {
            "task": "sla.tasks.monthly_reports_mail_task",
            "schedule": timedelta(hours=6),
        },
        # Lines of the security audit log older than its retention.
        "audit-purge": {
            "task": "tickets.tasks.audit_purge_task",
            "schedule": timedelta(hours=24),
        },
        # Stored files of deleted tickets and messages, or of writes that failed, are deleted.
        "attachments-sweep": {
            "task": "tickets.tasks.attachments_sweep_task",
            "schedule": timedelta(hours=24),
        },
    }
