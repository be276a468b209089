"""Values every page shows staff members: unread notifications, mail waiting for review."""

from __future__ import annotations

from django.db.models import Count, IntegerField, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.query import QuerySet
from django.http import HttpRequest

from sla.models import Notification
from sla.notifications.selectors import notifications_of
from tickets import access
from tickets.models import ChatSession, InboundMail, TicketTriage, User


def _counted(
    rows: QuerySet[Notification]
    | QuerySet[InboundMail]
    | QuerySet[TicketTriage]
    | QuerySet[ChatSession],
) -> Coalesce:
    """How many rows, as a subquery of one row (0 when none)."""
    one_group = rows.order_by().annotate(group=Value(1)).values("group")
    count = one_group.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def pacte(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if isinstance(user, User) and access.is_staff_member(user):
        review = access.visible_inbound_mail(user).filter(
            status__in=[InboundMail.Status.REVIEW, InboundMail.Status.QUARANTINED]
        )
        unread = notifications_of(user).filter(read_at__isnull=True)
        flagged = access.flagged_open_triages(user)
        chats = access.waiting_chats(user)
        # The counts in one query: the navigation of every staff page shows them, the queue
        # its tickets that may be more severe than chosen and whether chats wait.
        counts = User.objects.filter(pk=user.pk).values_list(
            _counted(unread), _counted(review), _counted(flagged), _counted(chats)
        )
        unread_count, to_review, more_severe, chats_waiting = counts.get()
        return {
            "unread_notifications": unread_count,
            "mail_to_review": to_review,
            "may_be_more_severe": more_severe,
            "chats_waiting": chats_waiting,
        }
    return {}
