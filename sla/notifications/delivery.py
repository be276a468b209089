"""Mail the notifications that are due: one mail per person, a digest when several wait.

Rows are claimed (pending → sending) before the mail goes out and marked sent after; a
worker that dies in between leaves them "sending", and they are mailed again once the lease
has expired. So an alert may, rarely, be mailed twice but is never lost.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sla.models import Notification
from tickets.models import User
from tickets.services.customer_mail import new_mail_id

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)


def _due(now: datetime) -> Q:
    pending = Q(email=Notification.Email.PENDING, deliver_after__lte=now)
    stale = Q(email=Notification.Email.SENDING, sending_since__lt=now - LEASE)
    return pending | stale


def _claim(recipient_id: int, now: datetime) -> list[Notification]:
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now), recipient_id=recipient_id)
            .select_related("ticket", "clock", "recipient")
            .order_by("created_at", "pk")
        )
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
            email=Notification.Email.SENDING, sending_since=now
        )
    return rows


def _message(recipient: User, items: list[Notification]) -> EmailMultiAlternatives:
    language = recipient.language or settings.LANGUAGE_CODE
    try:
        zone = zoneinfo.ZoneInfo(recipient.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        if len(items) == 1:
            item = items[0]
            subject = _("[%(ref)s] %(alert)s: %(subject)s") % {
                "ref": item.ticket.reference,
                "alert": item.get_kind_display(),
                "subject": " ".join(item.ticket.subject.split()),
            }
        else:
            subject = ngettext(
                "Pacte: %(count)d SLA alert", "Pacte: %(count)d SLA alerts", len(items)
            ) % {"count": len(items)}
        context = {"recipient": recipient, "items": items, "base_url": settings.PACTE_BASE_URL}
        text = render_to_string("sla/email/alerts.txt", context)
        html = render_to_string("sla/email/alerts.html", context)
    mail = EmailMultiAlternatives(
        subject, text, to=[recipient.email], headers={"Message-ID": new_mail_id()}
    )
    mail.attach_alternative(html, "text/html")
    return mail


def notifications_deliver(*, now: datetime, recipient_ids: Iterable[int] | None = None) -> int:
    """Mail every due notification, grouped per recipient; returns the number of mails."""
    waiting = Notification.objects.filter(_due(now))
    if recipient_ids is not None:
        waiting = waiting.filter(recipient_id__in=list(recipient_ids))
    people = sorted(set(waiting.values_list("recipient_id", flat=True)))
    sent = 0
    for recipient_id in people:
        rows = _claim(recipient_id, now)
        if not rows:
            continue
        recipient = rows[0].recipient
        ids = [row.pk for row in rows]
        if not recipient.email:
            # Nobody to mail: the alert stays in the app.
            Notification.objects.filter(pk__in=ids).update(email=Notification.Email.CANCELLED)
            continue
        try:
            _message(recipient, rows).send()
        except Exception:
            logger.exception("mail to %s failed; will retry", recipient.email)
            Notification.objects.filter(pk__in=ids).update(
                email=Notification.Email.PENDING, sending_since=None
            )
            continue
        Notification.objects.filter(pk__in=ids).update(
            email=Notification.Email.SENT, emailed_at=now
        )
        sent += 1
    return sent
