"""Backups, as managers see them: each one, the age of the last, and whether it is late."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tickets.backups.watch import FULL_LATE_AFTER, LATE_AFTER, backup_status
from tickets.views.common import manager_user


@login_required
def backups(request: HttpRequest) -> HttpResponse:
    manager_user(request)
    status = backup_status(now=timezone.now())
    return render(
        request,
        "tickets/backups.html",
        {
            "status": status,
            "late_hours": int(LATE_AFTER.total_seconds() // 3600),
            "full_days": FULL_LATE_AFTER.days,
        },
    )
