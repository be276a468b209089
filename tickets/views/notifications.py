"""The staff member's notifications: SLA alerts and messages on the tickets they follow,
newest first, with an unread count."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sla.models import Notification
from sla.notifications.selectors import notifications_of
from sla.notifications.services import notification_mark_read
from tickets.views.common import current_user, staff_user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    page = Paginator(notifications_of(user), 50).get_page(request.GET.get("page"))
    return render(request, "sla/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to its ticket."""
    user = current_user(request)
    try:
        notification = notifications_of(user).get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    notification_mark_read(user=user, ids=[notification.pk], now=timezone.now())
    return redirect("tickets:detail", reference=notification.ticket.reference)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notification_mark_read(user=current_user(request), ids=None, now=timezone.now())
    return redirect("notifications")
