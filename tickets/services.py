"""Every write to tickets. Views, the API, commands and tasks all call these functions."""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sla.models import Clock, StopReason
from sla.services import ClockChange, clocks_apply
from tickets import access
from tickets.exceptions import (
    AttachmentRejected,
    InvalidTransition,
    NotUnderContract,
    PermissionDeniedError,
    TicketError,
)
from tickets.mail import outbound
from tickets.models import (
    ATTACHMENTS_DIR,
    Article,
    Attachment,
    CannedReply,
    Channel,
    Contact,
    Desk,
    Language,
    MailThreadId,
    Message,
    QueueView,
    Severity,
    Status,
    SystemNote,
    Ticket,
    TicketEvent,
    User,
)
from tickets.workflow import CUSTOMER_TARGETS, can_transition

# What customers may attach: documents, images, logs and archives. Nothing a browser would
# execute or render as a page (no HTML, SVG, scripts or executables).
ALLOWED_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".pdf",
        ".txt",
        ".log",
        ".csv",
        ".json",
        ".xml",
        ".zip",
        ".gz",
        ".tgz",
        ".7z",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".odt",
        ".ods",
        ".odp",
        ".rtf",
        ".eml",
        ".har",
        ".md",
    }
)


def _validate_files(files: Sequence[File]) -> None:  # type: ignore[type-arg]  # any content
    if len(files) > settings.PACTE_ATTACHMENTS_PER_MESSAGE:
        limit = settings.PACTE_ATTACHMENTS_PER_MESSAGE
        raise AttachmentRejected(
            ngettext(
                "At most %(count)d attachment per message.",
                "At most %(count)d attachments per message.",
                limit,
            )
            % {"count": limit},
            field="attachments",
        )
    for upload in files:
        name = PurePath(upload.name or "").name
        extension = PurePath(name).suffix.lower()
        if extension not in ALLOWED_EXTENSIONS:
            raise AttachmentRejected(
                _("%(name)s: files of this type are not accepted. Accepted: %(types)s.")
                % {"name": name, "types": ", ".join(sorted(ALLOWED_EXTENSIONS))},
                field="attachments",
            )
        if upload.size is None or upload.size > settings.PACTE_ATTACHMENT_MAX_BYTES:
            raise AttachmentRejected(
                _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
                % {
                    "name": name,
                    "size": filesizeformat(upload.size or 0),
                    "limit": filesizeformat(settings.PACTE_ATTACHMENT_MAX_BYTES),
                },
                field="attachments",
            )
        if upload.size == 0:
            raise AttachmentRejected(_("%(name)s is empty.") % {"name": name}, field="attachments")


class MailFile(ContentFile):  # type: ignore[type-arg]  # bytes content
    """A file received by mail: its declared type, and its Content-ID if shown inline."""

    def __init__(
        self, content: bytes, *, name: str, content_type: str, content_id: str = "", inline: bool
    ) -> None:
        super().__init__(content, name=name)
        self.content_type = content_type
        self.content_id = content_id
        self.inline = inline


@dataclass(frozen=True)
class MailContent:
    """What a received mail adds to a message besides its text (vetted by tickets.mail)."""

    body_html: str = ""
    quoted: str = ""
    files: Sequence[MailFile] = ()
    sender: str = ""  # the address, when the sender is not a contact
    mail_id: str = ""  # its Message-ID (thread key): answers to it find the ticket


def _remember_mail_id(message: Message, mail: MailContent) -> None:
    if mail.mail_id:
        MailThreadId.objects.get_or_create(
            key=mail.mail_id, defaults={"ticket_id": message.ticket_id, "message": message}
        )


@contextmanager
def _files_removed_on_failure() -> Iterator[list[str]]:
    """Collects the names of stored files and deletes them if the write fails after all."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def _save_files(
    message: Message,
    files: Sequence[File],  # type: ignore[type-arg]  # any content
    stored: list[str],
) -> None:
    for upload in files:
        name = PurePath(upload.name or "file").name[:255]
        mail = upload if isinstance(upload, MailFile) else None
        attachment = Attachment(
            ticket_id=message.ticket_id,
            message=message,
            key=secrets.token_hex(16),
            filename=name,
            content_type=(mail.content_type if mail else "")[:120]
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream",
            size=upload.size or 0,
            content_id=mail.content_id[:255] if mail else "",
            inline=mail.inline if mail else False,
        )
        attachment.file.save(attachment.key, upload, save=False)
        stored.append(attachment.file.name)
        attachment.save()


# A stored file that no attachment row names is left alone this long: the write that stored
# it may still be about to commit.
ORPHAN_GRACE = timedelta(hours=24)


def attachments_sweep(*, now: datetime, grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete the stored attachment files that no attachment names any more — a deleted
    ticket's or message's, or a write's that failed after storing them (a crash, or a
    request rolled back later) — once older than ``grace``; the number deleted. Through the
    storage API, so it works on any storage backend; one query for the names in use."""
    root = ATTACHMENTS_DIR
    if not default_storage.exists(root):
        return 0
    named = set(Attachment.objects.values_list("file", flat=True).iterator(chunk_size=10_000))
    deleted = 0
    for folder in default_storage.listdir(root)[0]:
        for name in default_storage.listdir(f"{root}/{folder}")[1]:
            path = f"{root}/{folder}/{name}"
            if path in named or now - default_storage.get_modified_time(path) < grace:
                continue
            default_storage.delete(path)
            deleted += 1
    return deleted


def _event(
    ticket: Ticket,
    *,
    actor: User | None,
    kind: TicketEvent.Kind,
    at: datetime,
    field: str = "",
    before: str = "",
    after: str = "",
    note: str = "",
    note_shared: bool = False,
) -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        field=field,
        before=before,
        after=after,
        note=note,
        note_shared=note_shared,
        created_at=at,
    )


def _change_field(
    ticket: Ticket,
    field: str,
    value: object,
    *,
    kind: TicketEvent.Kind,
    actor: User | None,
    at: datetime,
    before: str,
    after: str,
    note: str = "",
) -> None:
    """Set one field of the ticket and write its history event (before → after)."""
    setattr(ticket, field, value)
    ticket.updated_at = at
    ticket.save(update_fields=[field, "updated_at"])
    _event(
        ticket, actor=actor, kind=kind, at=at, field=field, before=before, after=after, note=note
    )


def default_desk_for(contact: Contact) -> Desk:
    """The organization's desk for the contact's region, else its first desk."""
    desks = list(contact.organization.desks.all())
    if not desks:
        raise TicketError(
            _("This organization has no support desk yet; please contact us by phone.")
        )
    for desk in desks:
        if desk.region == contact.region:
            return desk
    return desks[0]


@transaction.atomic
def ticket_create(
    *,
    requester: Contact,
    subject: str,
    description: str,
    severity: str,
    channel: str,
    actor: User | None,
    files: Sequence[File] = (),  # type: ignore[type-arg]
    desk: Desk | None = None,
    received_at: datetime | None = None,
    mail: MailContent | None = None,
) -> Ticket:
    """Open a ticket for a contact and start its SLA clocks; the customer gets a mail."""
    if not requester.organization.under_contract:
        raise NotUnderContract(
            _("%(org)s has no support contract: tickets cannot be opened.")
            % {"org": requester.organization.name}
        )
    if severity not in Severity.values:
        raise TicketError(_("Unknown severity: %(value)s.") % {"value": severity}, field="severity")
    if channel not in Channel.values:
        raise TicketError(_("Unknown channel: %(value)s.") % {"value": channel}, field="channel")
    if not description.strip():
        raise TicketError(_("Please describe the incident."), field="description")
    _validate_files(files)
    now = received_at or timezone.now()
    ticket = Ticket(
        subject=" ".join(subject.split()),  # one line: it becomes a mail header
        severity=severity,
        channel=channel,
        organization=requester.organization,
        requester=requester,
        desk=desk or default_desk_for(requester),
        received_at=now,
        updated_at=now,
    )
    with _files_removed_on_failure() as stored:
        # The related rows were just loaded and the database enforces the check constraints:
        # validate the fields, not the foreign keys again (bench/queue.py: 15 queries fewer).
        ticket.full_clean(exclude=["organization", "requester", "desk"], validate_constraints=False)
        ticket.save()
        _open_ticket(
            ticket,
            requester=requester,
            description=description,
            actor=actor,
            files=files,
            stored=stored,
            mail=mail or MailContent(),
        )
    return ticket


def _open_ticket(
    ticket: Ticket,
    *,
    requester: Contact,
    description: str,
    actor: User | None,
    files: Sequence[File],  # type: ignore[type-arg]  # any content
    stored: list[str],
    mail: MailContent,
) -> None:
    now = ticket.received_at
    channel = ticket.channel
    message = Message(
        ticket=ticket,
        author=actor if actor is not None and actor.is_customer else None,
        author_contact=requester,
        channel=channel,
        body=description.strip(),
        body_html=mail.body_html,
        quoted=mail.quoted,
        received_at=now,
    )
    if actor is not None and access.is_staff_member(actor):
        # An agent logging a call or a mail on the contact's behalf.
        message.author = actor
    message.full_clean(exclude=["ticket", "author", "author_contact"], validate_constraints=False)
    message.save()
    _save_files(message, [*files, *mail.files], stored)
    _remember_mail_id(message, mail)
    _event(
        ticket, actor=actor, kind=TicketEvent.Kind.CREATED, at=now, after=Status.NEW, note=channel
    )
    clocks_apply(ticket=ticket, change=ClockChange.RECEIVED, at=now, actor=actor)
    outbound.mail_ticket_opened(ticket=ticket, message=message)


def _set_status(
    ticket: Ticket,
    status: Status,
    *,
    actor: User | None,
    at: datetime,
    note: str = "",
    message: Message | None = None,
    notify: bool = True,
) -> None:
    before = ticket.status
    _change_field(
        ticket,
        "status",
        status,
        kind=TicketEvent.Kind.STATUS,
        actor=actor,
        at=at,
        before=before,
        after=status,
        note=note,
    )
    change = _clock_change_for(Status(before), status)
    if change is not None:
        clocks_apply(
            ticket=ticket,
            change=change,
            at=at,
            actor=actor,
            reason=_stop_reason(status, message),
            message=message,
        )
    if notify and message is None and actor is not None and access.is_staff_member(actor):
        # The customer hears of what support did; a reply already says it in its own mail.
        outbound.mail_status_changed(ticket=ticket, before=Status(before), actor=actor)


def _stop_reason(status: Status, message: Message | None) -> StopReason:
    """The qualifying event, should this status change stop a clock."""
    if message is not None:
        return (
            StopReason.PHONE_CALL if message.channel == Channel.PHONE else StopReason.PUBLIC_REPLY
        )
    if status == Status.ACKNOWLEDGED:
        return StopReason.ACKNOWLEDGE
    return StopReason.CLOSED if status == Status.CLOSED else StopReason.RESOLVED


def _clock_change_for(before: Status, after: Status) -> ClockChange | None:
    if after == Status.ACKNOWLEDGED:
        return ClockChange.ACKNOWLEDGED
    if after == Status.WAITING_ON_CUSTOMER:
        return ClockChange.WAITING
    if after in (Status.RESOLVED, Status.CLOSED):
        return ClockChange.RESOLVED
    if after == Status.IN_PROGRESS and before in (Status.RESOLVED, Status.CLOSED):
        return ClockChange.REOPENED
    if after == Status.IN_PROGRESS and before == Status.WAITING_ON_CUSTOMER:
        return ClockChange.RESUMED
    return None


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    channel: str = Channel.WEB,
    files: Sequence[File] = (),  # type: ignore[type-arg]
    received_at: datetime | None = None,
    automatic: bool = False,
) -> Message:
    """Add a public reply or an internal note; move the ticket and its clocks accordingly.

    A public reply of support on any channel (a logged phone call included) acknowledges a
    new ticket; an internal note or an automatic reply never does.
    """
    if not body.strip():
        raise TicketError(_("The message is empty."), field="body")
    if channel not in Channel.values:
        raise TicketError(_("Unknown channel: %(value)s.") % {"value": channel}, field="channel")
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    from_agent = access.can_work(author, ticket)
    if not from_agent and not access.can_reply_as_customer(author, ticket):
        raise PermissionDeniedError(_("You may not reply to this ticket."))
    if internal and not from_agent:
        raise PermissionDeniedError(_("Only support staff write internal notes."))
    if ticket.status == Status.CLOSED and not internal:
        raise InvalidTransition(
            _("This ticket is closed. Reopen it or open a new ticket."), field="body"
        )
    _validate_files(files)
    now = min(received_at or timezone.now(), timezone.now())
    if now < ticket.received_at:
        raise TicketError(_("A message cannot predate its ticket."), field="called_at")
    message = Message(
        ticket=ticket,
        author=author,
        author_contact=None if from_agent else access.contact_of(author),
        is_internal=internal,
        from_agent=from_agent,
        is_automatic=automatic,
        channel=channel,
        body=body.strip(),
        received_at=now,
    )
    with _files_removed_on_failure() as stored:
        message.full_clean()
        message.save()
        _save_files(message, files, stored)
        _after_reply(ticket, message, author=author, now=now)
    return message


def _after_reply(ticket: Ticket, message: Message, *, author: User | None, now: datetime) -> None:
    """History, and the status and clock changes a public reply brings."""
    kind = TicketEvent.Kind.NOTE if message.is_internal else TicketEvent.Kind.MESSAGE
    _event(ticket, actor=author, kind=kind, at=now, note=f"message:{message.pk}")
    ticket.updated_at = now
    ticket.save(update_fields=["updated_at"])
    from_agent, channel = message.from_agent, message.channel
    if message.is_internal or message.is_automatic or message.from_outside:
        return
    if from_agent and ticket.status == Status.NEW:
        qualifier = (
            SystemNote.PHONE_CALL if channel == Channel.PHONE else SystemNote.FIRST_PUBLIC_REPLY
        )
        _set_status(
            ticket, Status.ACKNOWLEDGED, actor=author, at=now, note=qualifier, message=message
        )
    elif not from_agent and ticket.status == Status.WAITING_ON_CUSTOMER:
        _set_status(
            ticket, Status.IN_PROGRESS, actor=author, at=now, note=SystemNote.CUSTOMER_ANSWERED
        )
    elif not from_agent and ticket.status == Status.RESOLVED:
        _set_status(
            ticket, Status.IN_PROGRESS, actor=author, at=now, note=SystemNote.REOPENED_BY_REPLY
        )
    if from_agent and channel not in (Channel.PHONE, Channel.CHAT):
        # After the status it brought, which the mail shows. A call or a live chat line is
        # not mailed: the customer heard or read it already.
        outbound.mail_agent_reply(ticket=ticket, message=message)


@transaction.atomic
def ticket_receive_mail(
    *,
    ticket: Ticket,
    contact: Contact | None,
    body: str,
    mail: MailContent,
    received_at: datetime,
    automatic: bool = False,
    outside: bool = False,
    internal: bool = False,
) -> Message:
    """A mail that threads into a ticket: the customer's answer (or a machine's, or one from
    outside the organization, or an internal note from a staff address, which change
    nothing). Threading headers, or a reference from the ticket's organization, are what
    authorizes it (tickets.mail decides); there is no signed-in user, so a note has no author:
    its From proves nothing."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    if ticket.status == Status.CLOSED and not (automatic or outside or internal):
        raise InvalidTransition(_("This ticket is closed."))
    if internal and contact is not None:
        raise ValueError("an internal note by mail has no contact for author")
    message = Message(
        ticket=ticket,
        author=contact.user if contact is not None else None,
        author_contact=contact,
        sender="" if contact is not None else mail.sender,
        is_internal=internal,
        from_agent=internal,  # support's side of the ticket (notes are); no author is claimed
        is_automatic=automatic,
        from_outside=outside,
        channel=Channel.EMAIL,
        body=body.strip() or _("(no text)"),
        body_html=mail.body_html,
        quoted=mail.quoted,
        received_at=received_at,
    )
    with _files_removed_on_failure() as stored:
        message.full_clean(exclude=["ticket", "author", "author_contact"])
        message.save()
        _save_files(message, mail.files, stored)
        _remember_mail_id(message, mail)
        _after_reply(ticket, message, author=message.author, now=received_at)
    return message


@transaction.atomic
def ticket_change_status(
    *, ticket: Ticket, actor: User, status: str, note: str = "", at: datetime | None = None
) -> Ticket:
    """Move a ticket along the workflow; `at` (default now) dates a change that happened a
    little earlier, such as an acknowledgement given during a phone call logged afterwards."""
    if status not in Status.values:
        raise TicketError(_("Unknown status: %(value)s.") % {"value": status}, field="status")
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    customer_may = access.can_reply_as_customer(actor, ticket) and status in CUSTOMER_TARGETS
    if not access.can_work(actor, ticket) and not customer_may:
        raise PermissionDeniedError(_("You may not change the status of this ticket."))
    if not can_transition(ticket.status, status):
        raise InvalidTransition(
            _("A ticket that is %(before)s cannot become %(after)s.")
            % {"before": Status(ticket.status).label, "after": Status(status).label},
            field="status",
        )
    now = timezone.now()
    if at is None or at > now:
        at = now
    elif at < ticket.received_at:
        raise TicketError(_("A change cannot predate the ticket."), field="at")
    _set_status(ticket, Status(status), actor=actor, at=at, note=note)
    return ticket


def ticket_acknowledge(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """Explicit acknowledgement: stops the acknowledgement clock (at `at`, default now)."""
    return ticket_change_status(
        ticket=ticket,
        actor=actor,
        status=Status.ACKNOWLEDGED,
        note=SystemNote.ACKNOWLEDGED,
        at=at,
    )


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("desk", "assignee")
        .get(pk=ticket.pk)
    )
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not assign this ticket."))
    if (
        assignee is not None
        and not access.assignable_agents(ticket).filter(pk=assignee.pk).exists()
    ):
        raise TicketError(
            _("%(name)s does not work on the %(desk)s desk.")
            % {"name": assignee.get_username(), "desk": ticket.desk.name},
            field="assignee",
        )
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    _change_field(
        ticket,
        "assignee",
        assignee,
        kind=TicketEvent.Kind.ASSIGNEE,
        actor=actor,
        at=timezone.now(),
        before=ticket.assignee.get_username() if ticket.assignee else "",
        after=assignee.get_username() if assignee else "",
    )
    return ticket


@transaction.atomic
def ticket_reclassify(*, ticket: Ticket, actor: User, severity: str, reason: str) -> Ticket:
    """Change the severity with a reason; both clocks are recomputed from the original start."""
    if severity not in Severity.values:
        raise TicketError(_("Unknown severity: %(value)s.") % {"value": severity}, field="severity")
    if not reason.strip():
        raise TicketError(_("Please give the reason for the change."), field="reason")
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("desk", "organization")
        .get(pk=ticket.pk)
    )
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not reclassify this ticket."))
    if ticket.severity == severity:
        return ticket
    now = timezone.now()
    _change_field(
        ticket,
        "severity",
        severity,
        kind=TicketEvent.Kind.SEVERITY,
        actor=actor,
        at=now,
        before=ticket.severity,
        after=severity,
        note=reason.strip(),
    )
    clocks_apply(ticket=ticket, change=ClockChange.RECLASSIFIED, at=now, actor=actor)
    return ticket


@transaction.atomic
def tickets_bulk_update(
    *,
    tickets: Sequence[Ticket],
    actor: User,
    assignee: User | None = None,
    unassign: bool = False,
    status: str = "",
) -> int:
    """Assign and/or change the status of several tickets, all or none: the first refusal
    (named with its ticket's reference) rolls every change back. Returns the tickets changed."""
    if not tickets:
        raise TicketError(_("Select at least one ticket."), field="tickets")
    if not status and assignee is None and not unassign:
        raise TicketError(_("Choose an assignee or a status."), field="action")
    for ticket in tickets:
        try:
            if assignee is not None or unassign:
                ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
            if status:
                ticket_change_status(ticket=ticket, actor=actor, status=status)
        except TicketError as error:
            raise type(error)(
                _("%(ref)s: %(error)s Nothing was changed.")
                % {"ref": ticket.reference, "error": error.message},
                field=error.field,
            ) from error
    return len(tickets)


@transaction.atomic
def ticket_merge(
    *, source: Ticket, target: Ticket, actor: User, note: str = "", share_note: bool = False
) -> Ticket:
    """Merge a duplicate into another ticket of the same contact: its messages, files and mail
    threads move to the target (later replies by mail land there), the duplicate is closed
    (its clocks stop) and points to the target. The customer is told by mail which ticket
    goes on; the note is for staff unless `share_note`, then it is in that mail and on the
    customer's history too. Returns the target."""
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
        _event(
            ticket,
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
        _set_status(
            source, Status.CLOSED, actor=actor, at=now, note=SystemNote.MERGED, notify=False
        )
    target.updated_at = now
    target.save(update_fields=["updated_at"])
    outbound.mail_ticket_merged(source=source, target=target, note=note if share_note else "")
    return target


@dataclass(frozen=True)
class DeadlinePreview:
    """One clock's promise before and after a severity change that has not been made."""

    metric: str
    metric_label: str
    kind: str
    state: str
    due_before: datetime | None
    due_after: datetime | None
    breached_after: bool


class _DryRun(Exception):
    pass


def ticket_reclassify_preview(
    *, ticket: Ticket, actor: User, severity: str, reason: str
) -> list[DeadlinePreview]:
    """The deadlines a reclassification would give, computed by making it inside a savepoint
    that is then rolled back (so the preview is exactly what confirming will do; nothing is
    written and no mail or notification leaves)."""
    before = {c.metric: c.due_at for c in Clock.objects.filter(ticket=ticket)}
    after: list[Clock] = []
    try:
        with transaction.atomic():
            ticket_reclassify(ticket=ticket, actor=actor, severity=severity, reason=reason)
            after = list(Clock.objects.filter(ticket=ticket).order_by("metric"))
            raise _DryRun
    except _DryRun:
        pass
    now = timezone.now()
    return [
        DeadlinePreview(
            metric=clock.metric,
            metric_label=clock.get_metric_display(),
            kind=clock.kind,
            state=clock.state,
            due_before=before.get(clock.metric),
            due_after=clock.due_at,
            breached_after=bool(
                clock.breached_at
                or (clock.state != Clock.State.STOPPED and clock.due_at and clock.due_at <= now)
            ),
        )
        for clock in after
    ]


QUEUE_VIEW_KEYS = ("view", "q", "desk", "severity", "status", "assignee", "organization", "sla")
QUEUE_VIEWS_PER_USER = 20


@transaction.atomic
def queue_view_save(*, owner: User, name: str, query: QueryDict) -> QueueView:
    """Save the queue's current filters under a name (the same name replaces the old one)."""
    if not access.is_staff_member(owner):
        raise PermissionDeniedError(_("Only support staff have a queue."))
    name = " ".join(name.split())[:60]
    if not name:
        raise TicketError(_("Give the view a name."), field="name")
    kept = QueryDict(mutable=True)
    for key in QUEUE_VIEW_KEYS:
        value = query.get(key, "").strip()
        if value:
            kept[key] = value[:200]
    if not kept:
        raise TicketError(_("Choose some filters first."), field="name")
    existing = QueueView.objects.filter(owner=owner, name=name).first()
    if existing is None and owner.queue_views.count() >= QUEUE_VIEWS_PER_USER:
        raise TicketError(
            _("You have %(n)d saved views already; delete one first.")
            % {"n": QUEUE_VIEWS_PER_USER},
            field="name",
        )
    view = existing or QueueView(owner=owner, name=name)
    view.query = kept.urlencode()
    view.full_clean(exclude=["owner"])
    view.save()
    return view


@transaction.atomic
def canned_reply_save(*, reply: CannedReply, actor: User) -> CannedReply:
    """Create or update a canned reply, for one of the agent's desks or every desk."""
    if not access.is_staff_member(actor):
        raise PermissionDeniedError(_("Only support staff write canned replies."))
    if (
        reply.desk_id is not None
        and not access.desks_worked_by(actor).filter(pk=reply.desk_id).exists()
    ):
        raise PermissionDeniedError(_("You do not work on this desk."))
    if reply.created_by_id is None:
        reply.created_by = actor
    reply.updated_at = timezone.now()
    reply.full_clean()
    reply.save()
    return reply


@transaction.atomic
def canned_reply_delete(*, reply: CannedReply, actor: User) -> None:
    if not access.visible_canned_replies(actor).filter(pk=reply.pk).exists():
        raise PermissionDeniedError(_("You may not delete this canned reply."))
    reply.delete()


@transaction.atomic
def article_save(*, article: Article, actor: User) -> Article:
    """Create or update a FAQ article; its address comes from the title on creation."""
    if not access.is_staff_member(actor):
        raise PermissionDeniedError(_("Only support staff write FAQ articles."))
    if not article.slug:
        base = slugify(article.title)[:180] or "article"
        slug, n = base, 1
        while Article.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        article.slug = slug
    article.author = actor
    article.updated_at = timezone.now()
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def article_delete(*, article: Article, actor: User) -> None:
    if not access.is_staff_member(actor):
        raise PermissionDeniedError(_("Only support staff delete FAQ articles."))
    article.delete()


@transaction.atomic
def user_set_preferences(*, user: User, language: str, time_zone: str) -> None:
    """Language ("" follows the browser) and time zone ("" uses the desk's default) of pages
    and mail; a customer's contact record follows, as mail to them is written in it."""
    if language and language not in Language.values:
        raise TicketError(_("Unknown language: %(value)s.") % {"value": language}, field="language")
    if time_zone and time_zone not in available_time_zones():
        raise TicketError(
            _("Unknown time zone: %(value)s.") % {"value": time_zone}, field="time_zone"
        )
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    contact = access.contact_of(user)
    if contact is not None and language and contact.language != language:
        contact.language = language
        contact.save(update_fields=["language"])


def available_time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def user_set_language(*, user: User, language: str) -> None:
    """Remember the user's language for pages and mail."""
    if language not in Language.values:
        raise TicketError(_("Unknown language: %(value)s.") % {"value": language}, field="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
