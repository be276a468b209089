"""Tags on tickets: agents set them (a few words each), the history says who added or removed
which; the queue and the SLA report filter by them. Customers never see them."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.history import ticket_event_record
from tickets.models import Tag, Ticket, TicketEvent, User

MAX_TAGS = 8
TAG_RE = re.compile(r"^\w[\w .+#/-]{0,31}$")


def tag_names(text: str) -> list[str]:
    """Comma-separated words as tags: trimmed, in lower case, spaces single, each once."""
    names = (" ".join(part.split()).lower() for part in text.split(","))
    return list(dict.fromkeys(name for name in names if name))


def _tag(name: str) -> Tag:
    try:
        with transaction.atomic():
            return Tag.objects.get_or_create(name=name)[0]
    except IntegrityError:  # another agent created it at the same moment
        return Tag.objects.get(name=name)


def _joined(names: list[str], limit: int = 200) -> str:
    """Tag names for the history's field, whole ones only within ``limit`` characters."""
    kept: list[str] = []
    for name in names:
        if len(", ".join([*kept, name])) > limit:
            break
        kept.append(name)
    return ", ".join(kept)


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, actor: User, text: str) -> list[str]:
    """Set the ticket's tags to those named in ``text``; the tags it now has."""
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("Only the desk's agents tag its tickets."))
    wanted = tag_names(text)
    for name in wanted:
        if not TAG_RE.match(name):
            raise TicketError(
                _("“%(tag)s”: a tag is a few words (32 characters at most), letters first.")
                % {"tag": name[:40]},
                field="tags",
            )
    if len(wanted) > MAX_TAGS:
        raise TicketError(_("%(n)d tags at most.") % {"n": MAX_TAGS}, field="tags")
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
    current = list(ticket.tags.values_list("name", flat=True))
    added = [name for name in wanted if name not in current]
    removed = [name for name in current if name not in wanted]
    if added or removed:
        ticket.tags.set([_tag(name) for name in wanted])
        ticket_event_record(
            ticket_id=ticket.pk,
            actor=actor,
            kind=TicketEvent.Kind.TAGS,
            at=timezone.now(),
            field="tags",
            before=_joined(removed),
            after=_joined(added),
        )
    return wanted
