"""Personal data on request (GDPR articles 15, 17 and 20): everything Pacte holds about one
contact, exported as a zip of JSON and their files; and erasure, which pseudonymises the
contact in tickets, messages, mail and history and deletes their files, while the SLA facts the
reports need (tickets, severities, times, clocks, outcomes) stay."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tickets.accounts.audit import audit_record
from tickets.exceptions import TicketError
from tickets.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    AutoAnswer,
    Contact,
    InboundMail,
    Message,
    OutboundMail,
    Ticket,
    TicketEvent,
    User,
)

ERASED = "[erased]"


def _messages_of(contact: Contact) -> Any:
    return Message.objects.filter(
        Q(author_contact=contact) | (Q(author__isnull=False) & Q(author=contact.user_id))
    ).select_related("ticket")


def _account_data(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": user.language,
        "time_zone": user.time_zone,
        "active": user.is_active,
        "joined": user.date_joined,
        "last_sign_in": user.last_login,
        "second_factors": list(
            Authenticator.objects.filter(user=user).values_list("type", flat=True)
        ),
        "api_tokens": list(
            ApiToken.objects.filter(user=user).values(
                "name", "prefix", "created_at", "expires_at", "revoked_at"
            )
        ),
    }


def _export_data(contact: Contact) -> dict[str, Any]:
    user = contact.user
    tickets = Ticket.objects.filter(requester=contact).order_by("pk")
    messages = _messages_of(contact).order_by("pk")
    address = contact.email.lower()
    return {
        "contact": {
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "organization": contact.organization.name,
            "role": contact.role,
            "region": contact.region,
            "language": contact.language,
        },
        "account": _account_data(user),
        "tickets": [
            {
                "reference": t.reference,
                "subject": t.subject,
                "severity": t.severity,
                "status": t.status,
                "channel": t.channel,
                "received_at": t.received_at,
            }
            for t in tickets
        ],
        "messages": [
            {
                "ticket": m.ticket.reference,
                "received_at": m.received_at,
                "channel": m.channel,
                "body": m.body,
                "attachments": [a.filename for a in m.attachments.all()],
            }
            for m in messages.prefetch_related("attachments")
        ],
        "mail_received": list(
            InboundMail.objects.filter(sender__iexact=address).values(
                "received_at", "subject", "status"
            )
        ),
        "mail_sent": list(
            OutboundMail.objects.filter(to_address__iexact=address).values(
                "created_at", "subject", "state"
            )
        ),
        "security_log": list(
            AuditEvent.objects.filter(Q(actor=user) | Q(target__iexact=address))
            .values("at", "kind", "ip")
            .order_by("at")
        )
        if user is not None
        else [],
    }


def personal_data_export(*, contact: Contact, by: User, ip: str | None = None) -> bytes:
    """A zip: ``data.json`` with what Pacte holds about the contact, and their files under
    ``attachments/``. Recorded in the audit log."""
    data = _export_data(contact)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for attachment in Attachment.objects.filter(message__in=_messages_of(contact)):
            name = f"attachments/{attachment.message.ticket.reference}/{attachment.pk}-"
            name += re.sub(r"[^\w.\- ]", "_", attachment.filename)[:120]
            try:
                with attachment.file.open("rb") as stored:
                    archive.writestr(name, stored.read())
            except FileNotFoundError:
                continue  # listed in data.json; the file itself was already gone
    audit_record(
        AuditEvent.Kind.PERSONAL_DATA_EXPORT, actor=by, target=f"contact #{contact.pk}", ip=ip
    )
    return buffer.getvalue()


def _scrub(text: str, needles: list[str], alias: str) -> str:
    """Whole words and addresses only: a short name must not eat into other words."""
    for needle in needles:
        if needle:
            pattern = rf"(?<![\w@.]){re.escape(needle)}(?![\w@])"
            text = re.sub(pattern, alias, text, flags=re.IGNORECASE)
    return text


@transaction.atomic
def personal_data_erase(*, contact: Contact, by: User, ip: str | None = None) -> Contact:
    """Pseudonymise the contact everywhere and delete their files; the tickets, their times
    and clocks stay for the SLA reports. Cannot be undone."""
    if contact.name.startswith(ERASED):
        raise TicketError(_("This contact is erased already."))
    alias = f"{ERASED} #{contact.pk}"
    address = f"erased-{contact.pk}@erased.invalid"
    needles = sorted({contact.name, contact.email, contact.phone}, key=len, reverse=True)
    user = contact.user
    if user is not None:
        needles += [n for n in (user.get_full_name(), user.email) if n and n not in needles]

    messages = _messages_of(contact)
    files = Attachment.objects.filter(message__in=messages)
    stored = [(a.file.storage, a.file.name) for a in files]
    files.delete()
    # The files go once the rows are gone for good (not if the erasure rolls back).
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored if name])
    messages.update(body=ERASED, body_html="", quoted="", sender="")
    tickets = Ticket.objects.filter(requester=contact)
    _scrub_tickets(tickets, exclude=messages, needles=needles, alias=alias)

    # Their own mail only: what others wrote or were sent on these tickets stays theirs.
    InboundMail.objects.filter(sender__iexact=contact.email).update(
        sender=address, sender_name=alias, raw=b"", subject=ERASED
    )
    to_them = OutboundMail.objects.filter(to_address__iexact=contact.email)
    to_them.filter(state__in=[OutboundMail.State.PENDING, OutboundMail.State.SENDING]).update(
        state=OutboundMail.State.FAILED, error="recipient erased"
    )
    to_them.update(to_address=address, to_name=alias, text="", html="")
    AutoAnswer.objects.filter(address__iexact=contact.email).delete()

    if user is not None:
        _close_account(user, alias)
    contact.name, contact.email, contact.phone = alias, address, ""
    contact.save(update_fields=["name", "email", "phone"])
    audit_record(
        AuditEvent.Kind.PERSONAL_DATA_ERASED,
        actor=by,
        target=f"contact #{contact.pk}",
        ip=ip,
        detail={"tickets kept": tickets.count()},
    )
    return contact


def _scrub_tickets(tickets: Any, *, exclude: Any, needles: list[str], alias: str) -> None:
    """Others' words on the contact's tickets keep their sense, with the contact's name and
    addresses replaced by the pseudonym: subjects, messages and history notes."""
    for message in Message.objects.filter(ticket__in=tickets).exclude(pk__in=exclude):
        scrubbed = _scrub(message.body, needles, alias)
        if scrubbed != message.body or message.body_html or message.quoted:
            Message.objects.filter(pk=message.pk).update(
                body=scrubbed,
                body_html=_scrub(message.body_html, needles, alias),
                quoted=_scrub(message.quoted, needles, alias),
            )
    for ticket in tickets:
        subject = _scrub(ticket.subject, needles, alias)
        if subject != ticket.subject:
            Ticket.objects.filter(pk=ticket.pk).update(subject=subject[:200])
    for event in TicketEvent.objects.filter(ticket__in=tickets).exclude(note=""):
        note = _scrub(event.note, needles, alias)
        if note != event.note:
            TicketEvent.objects.filter(pk=event.pk).update(note=note)


def _close_account(user: User, alias: str) -> None:
    """Signed out everywhere, no factor, token or password left, renamed, turned off."""
    for session in UserSession.objects.filter(user=user):
        session.end()
    Authenticator.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    user.username = f"erased-{user.pk}"
    user.first_name, user.last_name, user.email = alias, "", ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
