"""Celery tasks of the SLA app: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from sla.services import clocks_mark_breached

logger = logging.getLogger(__name__)


@shared_task
def sla_clock_sweep_task() -> int:
    """Every minute: mark running clocks whose due instant has passed as breached."""
    count = clocks_mark_breached(now=timezone.now())
    if count:
        logger.info("marked %d clocks breached", count)
    return count
