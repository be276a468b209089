"""Merging a duplicate ticket into the one that goes on."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.services import ClockChange
from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.history import ticket_event_record
from tickets.models import (
    Attachment,
    MailThreadId,
    Message,
    Status,
    SystemNote,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services import customer_mail
from tickets.services.lifecycle import apply_clocks, set_status


@transaction.atomic
def ticket_merge(
    *, source: Ticket, target: Ticket, actor: User, note: str = "", share_note: bool = False
) -> Ticket:
    """Merge a duplicate into another ticket of the same contact: its messages, files and mail
    threads move to the target (later replies by mail land there), the duplicate is closed
    (its clocks stop) and points to the target. The customer is told by mail which ticket
    goes on; the note is for staff unless `share_note`, then it is in that mail and on the
    customer's history too. Returns the target."""
    source, target = _lock_mergeable(source=source, target=target, actor=actor)
    now = timezone.now()
    note = note.strip()
    if share_note and not note:
        raise TicketError(_("Write the note to share, or do not share it."), field="note")
    Message.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    MailThreadId.objects.filter(ticket=source).update(ticket=target)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    for ticket, before, after in ((source, "", target.reference), (target, source.reference, "")):
        ticket_event_record(
            ticket_id=ticket.pk,
            actor=actor,
            kind=TicketEvent.Kind.MERGED,
            at=now,
            before=before,
            after=after,
            note=note,
            note_shared=share_note,
        )
    if source.status != Status.CLOSED:
        # The merge mail below says what happened; "went from New to Closed" would not.
        set_status(source, Status.CLOSED, actor=actor, at=now, note=SystemNote.MERGED, notify=False)
    target.updated_at = now
    target.save(update_fields=["updated_at"])
    # A message of the duplicate's that support has not answered is now the target's to answer.
    apply_clocks(ticket=target, change=ClockChange.MESSAGES_MOVED, at=now, actor=actor)
    customer_mail.mail_ticket_merged(source=source, target=target, note=note if share_note else "")
    return target


def _lock_mergeable(*, source: Ticket, target: Ticket, actor: User) -> tuple[Ticket, Ticket]:
    """Both tickets locked (in id order) and read again, once the merge is allowed: two
    tickets, both worked by the actor, neither merged yet, of the same contact."""
    if source.pk == target.pk:
        raise TicketError(_("A ticket cannot be merged into itself."), field="target")
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .select_related("desk", "requester")
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if not access.can_work(actor, source) or not access.can_work(actor, target):
        raise PermissionDeniedError(_("You may not merge these tickets."))
    if source.merged_into_id is not None:
        raise TicketError(_("This ticket is already merged."), field="target")
    if target.merged_into_id is not None:
        raise TicketError(
            _("%(ref)s was itself merged; merge into the ticket it points to.")
            % {"ref": target.reference},
            field="target",
        )
    if source.requester_id != target.requester_id:
        # Another contact may not see the target: their own messages would disappear for them.
        raise TicketError(
            _("Only tickets of the same contact can be merged; %(ref)s is %(name)s's.")
            % {"ref": target.reference, "name": target.requester.name},
            field="target",
        )
    return source, target
