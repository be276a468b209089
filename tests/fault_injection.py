"""Loaded by a test worker when PACTE_TEST_SLOW_ESCALATION is set: each escalation task
sleeps that many seconds first, so that a test can kill the worker in the middle of a sweep."""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import task_prerun

DELAY = float(os.environ.get("PACTE_TEST_SLOW_ESCALATION", "0"))


@task_prerun.connect
def _slow_down(sender: Any = None, **kwargs: Any) -> None:
    if sender is not None and sender.name == "sla.tasks.sla_clocks_escalate_task":
        time.sleep(DELAY)
