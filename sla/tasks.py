"""Celery tasks of the SLA app: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sla.availability.budget import budget_alert_mail, budget_alerts_raise
from sla.clocks.escalation import clock_escalate, clocks_dispatch, clocks_dispatched_done
from sla.clocks.recount import calendar_clocks_recount, calendars_pending
from sla.contracts import contracts_apply, contracts_remind
from sla.notifications.delivery import notifications_deliver
from sla.policies import policy_version_announce, policy_versions_announce_pending
from sla.reports import rollups
from sla.reports.monthly import monthly_reports_mail

logger = logging.getLogger(__name__)


# A sweep claims clocks in rounds of SWEEP_CLAIM, up to SWEEP_ROUNDS a minute: a backlog of
# 10,000 crossing at once is queued at once (bench/drain.py), yet one sweep stays bounded.
SWEEP_CLAIM, SWEEP_ROUNDS = 5_000, 4


@shared_task
def sla_clock_sweep_task() -> int:
    """Every minute (beat): claim the crossed, unhandled clocks not queued already and queue
    their escalation, in batches.

    Nothing is lost if a task is: the clock stays crossed and unhandled in the database, and a
    sweep queues it again once its lease is over (``PACTE_ESCALATION_LEASE_SECONDS``).
    """
    for calendar_id in calendars_pending():  # an edit whose recount was lost with its worker
        try:
            calendar_clocks_recount(calendar_id=calendar_id)
        except Exception:  # a deadlock victim, a calendar never open: escalate all the same
            logger.exception("recount of calendar %s failed; tried again next minute", calendar_id)
    now, batch, queued = timezone.now(), settings.PACTE_ESCALATION_BATCH, 0
    for _round in range(SWEEP_ROUNDS):  # a backlog drains at the workers' pace, not a sweep's
        ids = clocks_dispatch(now=now, limit=SWEEP_CLAIM)
        for first in range(0, len(ids), batch):  # one publish per batch, not per clock
            sla_clocks_escalate_task.delay(ids[first : first + batch])
        queued += len(ids)
        if len(ids) < SWEEP_CLAIM:
            break
    if queued:
        logger.info("sweep: %d clocks to escalate", queued)
    return queued


@shared_task
def calendar_clocks_recount_task(calendar_id: int, settle: bool = False) -> int:
    """After a calendar edit commits: count its running and paused clocks again; then once
    more two minutes later, to settle tickets written meanwhile under the old calendar."""
    moved = calendar_clocks_recount(calendar_id=calendar_id, settle=settle)
    if not settle:
        calendar_clocks_recount_task.apply_async((calendar_id, True), countdown=120)
    return moved


@shared_task
def policy_version_announce_task(version_id: int) -> int:
    """After a new policy version commits: tell the organizations on the policy."""
    return policy_version_announce(version_id=version_id, now=timezone.now())


@shared_task
def policy_versions_announce_pending_task() -> int:
    """Hourly (beat): announce the versions to come a lost task never announced."""
    return policy_versions_announce_pending(now=timezone.now())


@shared_task
def monthly_reports_mail_task() -> int:
    """Daily (beat): in the first days of a month, the organizations' monthly reports."""
    return monthly_reports_mail(now=timezone.now())


@shared_task
def contracts_apply_task() -> int:
    """Every quarter of an hour (beat): "under contract" follows the contracts' dates."""
    return contracts_apply(now=timezone.now())


@shared_task
def report_rollups_count_task() -> int:
    """Every ten minutes (beat): count the days whose tickets changed into the report's daily
    roll-ups; how many days were counted."""
    return rollups.dirty_days_count()


@shared_task
def contracts_remind_task() -> int:
    """Daily (beat): remind the managers of contracts about to end."""
    return contracts_remind(now=timezone.now())


@shared_task
def sla_clocks_escalate_task(clock_ids: list[int]) -> dict[str, int]:
    """Escalate a batch of clocks, each in its own transaction; then they may be queued again.
    The recipients of a blocking breach are mailed at once."""
    mail_now: set[int] = set()
    counts = {"escalated": 0, "overtaken": 0, "failed": 0}
    try:
        for clock_id in clock_ids:
            try:
                escalation = clock_escalate(clock_id=clock_id, now=timezone.now())
            except Exception:  # one clock's failure does not hold the batch back
                logger.exception("escalation of clock %s failed; queued again later", clock_id)
                counts["failed"] += 1
                continue
            if escalation is not None:
                counts["escalated"] += 1
                counts["overtaken"] += escalation.overtaken
                mail_now.update(escalation.mail_now)
    finally:
        clocks_dispatched_done(clock_ids)
    if counts["overtaken"]:
        logger.warning("%d warnings overtaken by their breach: workers lagged", counts["overtaken"])
    if mail_now:
        notifications_deliver_task.delay(sorted(mail_now))
    return counts


@shared_task
def sla_clock_escalate_task(clock_id: int) -> dict[str, int]:
    """One clock (tasks queued before batches)."""
    return sla_clocks_escalate_task([clock_id])


@shared_task
def notifications_deliver_task(recipient_ids: list[int] | None = None) -> int:
    """Every minute (beat), and at once for a blocking breach: mail what is due."""
    return notifications_deliver(now=timezone.now(), recipient_ids=recipient_ids)


@shared_task
def sla_budget_watch_task() -> int:
    """Hourly (beat): record the error-budget levels crossed; mail each new one after commit."""
    with transaction.atomic():
        raised = budget_alerts_raise(now=timezone.now())
        for alert_id in raised:
            transaction.on_commit(partial(sla_budget_alert_mail_task.delay, alert_id))
    return len(raised)


@shared_task
def sla_budget_alert_mail_task(alert_id: int) -> bool:
    return budget_alert_mail(alert_id=alert_id, now=timezone.now())
