"""Celery tasks of the tickets app: mail in and out. Thin: ids in, one service each."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from tickets.accounts.audit import audit_purge
from tickets.backups.sqlite import Backup
from tickets.backups.watch import backup_run_and_report, backup_watch
from tickets.channels.email.imap import mailbox_poll, mailboxes_to_poll
from tickets.channels.email.ingest import mail_process, mail_unprocessed
from tickets.models import Mailbox
from tickets.services import attachments_sweep
from tickets.services.customer_mail import outbound_due, outbound_send

logger = logging.getLogger(__name__)

# Mail stored this long ago and still unhandled was left by a crash or an outage.
STUCK_AFTER = timedelta(minutes=2)


@shared_task
def mail_sweep_task() -> dict[str, int]:
    """Every PACTE_MAIL_SEND_SECONDS (beat): send what waits in the outbox, and handle mail
    stored but left unhandled (a crash or a database outage right after storing it)."""
    now = timezone.now()
    sent = sum(outbound_send(outbound_id=pk, now=now) for pk in outbound_due(now))
    handled = 0
    for inbound_id in mail_unprocessed(older_than=now - STUCK_AFTER):
        try:
            mail_process(inbound_id=inbound_id)
        except Exception:  # one mail that still cannot be handled must not hold up the rest
            logger.exception("stored mail %s still cannot be handled", inbound_id)
            continue
        handled += 1
    return {"sent": sent, "handled": handled}


@shared_task
def mailboxes_poll_task() -> int:
    """Every PACTE_MAIL_POLL_SECONDS (beat): one poll task per active mailbox."""
    ids = mailboxes_to_poll()
    for mailbox_id in ids:
        mailbox_poll_task.delay(mailbox_id)
    return len(ids)


@shared_task
def mailbox_poll_task(mailbox_id: int) -> int:
    if not Mailbox.objects.filter(pk=mailbox_id, active=True).exists():
        return 0
    return mailbox_poll(mailbox_id=mailbox_id).handled


@shared_task
def attachments_sweep_task() -> int:
    """Daily (beat): delete the stored files no attachment names any more."""
    deleted = attachments_sweep(now=timezone.now())
    if deleted:
        logger.info("attachments sweep: %d stored files no attachment names, deleted", deleted)
    return deleted


@shared_task
def audit_purge_task() -> int:
    """Daily (beat): delete the audit log's lines older than PACTE_AUDIT_RETENTION_DAYS."""
    return audit_purge(now=timezone.now())


@shared_task
def backup_task() -> str:
    """Daily (beat): back up the embedded SQLite database and its attachments, and tell the
    managers if it failed. On PostgreSQL the backup timers (deploy/backup/) run `manage.py
    backup`, and this does nothing."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return "not SQLite"
    backup = backup_run_and_report(now=timezone.now())
    return str(backup.path) if isinstance(backup, Backup) else "failed"


@shared_task
def severity_model_retrain_task() -> dict[str, object]:
    """Daily (beat): train the severity classifier again on the corpus and the tickets whose
    severity agents confirmed or changed, when some were since; it is used from then on only
    if it does at least as well on the held-out corpus (tickets.triage)."""
    from tickets.triage.services import model_retrain  # scikit-learn: loaded when needed

    model = model_retrain()
    if model is None:
        return {"trained": False, "why": "no ticket reviewed since the model in use"}
    return {
        "kept": model.kept,
        "desk_examples": model.desk_examples,
        "macro_f1": model.macro_f1,
        "blocking_recall": model.blocking_recall,
    }


@shared_task
def tickets_close_resolved_task() -> int:
    """Hourly (beat): close the tickets resolved longer ago than PACTE_REOPEN_DAYS."""
    from tickets.services.reopening import tickets_close_resolved

    return tickets_close_resolved(now=timezone.now())


@shared_task
def sqlite_optimize_task() -> bool:
    """Daily (beat): SQLite refreshes the statistics its query planner reads (``PRAGMA
    optimize``, as SQLite advises for long-lived databases); without them it may read a
    period's tickets through the wrong index (the SLA report, sla.reports.rollups).
    PostgreSQL's autovacuum keeps its own, and this does nothing."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")  # a sample of each index: milliseconds
        cursor.execute("PRAGMA optimize=0x10002")  # every table whose statistics are stale
    return True


@shared_task
def backup_watch_task() -> bool:
    """Hourly (beat): mail the managers, once a day, while the last backup is late."""
    return backup_watch(now=timezone.now())
