"""Followers: people copied on a ticket — contacts of its organization and support staff. A
contact follower sees the ticket in their list, may reply, and is copied (Cc) on the mails
of its public updates; a staff follower gets a copy of what others write, by mail and among
their notifications in the app. A
customer's mail copying colleagues (Cc) makes them followers."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from email.utils import formataddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sla.models import Notification
from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import (
    Contact,
    Desk,
    Follower,
    MailThreadId,
    Message,
    OutboundMail,
    Ticket,
    User,
)

MAX_FOLLOWERS = 20


def _may_manage(actor: User, ticket: Ticket) -> bool:
    """Support on the ticket, its requester, or an admin of its organization."""
    return access.can_work(actor, ticket) or access.owns_as_customer(actor, ticket)


def _add(ticket: Ticket, **who: Contact | User) -> Follower:
    lookup = Q(ticket=ticket, **who)
    try:
        with transaction.atomic():
            return Follower.objects.filter(lookup).first() or Follower.objects.create(
                ticket=ticket, **who
            )
    except IntegrityError:  # added at the same moment by someone else
        return Follower.objects.get(lookup)


def follower_add(
    *, ticket: Ticket, actor: User | None, contact: Contact | None = None, user: User | None = None
) -> Follower:
    """Copy a contact of the ticket's organization, or a member of support who may work the
    ticket, on it. ``actor`` None: the ticket's own mail (a customer's Cc)."""
    if actor is not None and not _may_manage(actor, ticket):
        raise PermissionDeniedError(_("You may not change who is copied on this ticket."))
    if contact is not None:
        if contact.organization_id != ticket.organization_id or not contact.email:
            raise TicketError(_("Only people of the ticket's organization can be copied."))
        if contact.pk == ticket.requester_id:
            raise TicketError(_("The requester gets every update already."))
        who: dict[str, Contact | User] = {"contact": contact}
    elif user is not None:
        if not access.can_work(user, ticket) or not user.email:
            raise TicketError(_("Only support staff of the ticket's desk can follow it."))
        who = {"user": user}
    else:
        raise TicketError(_("Choose whom to copy."))
    if ticket.followers.count() >= MAX_FOLLOWERS:
        raise TicketError(_("%(n)d people at most are copied on a ticket.") % {"n": MAX_FOLLOWERS})
    return _add(ticket, **who)


@transaction.atomic
def follower_remove(*, ticket: Ticket, actor: User, follower_id: int) -> bool:
    """Stop copying someone; a follower may always take themselves off."""
    follower = ticket.followers.filter(pk=follower_id).select_related("contact").first()
    if follower is None:
        return False
    own = follower.user_id == actor.pk or (
        follower.contact is not None and follower.contact.user_id == actor.pk
    )
    if not own and not _may_manage(actor, ticket):
        raise PermissionDeniedError(_("You may not change who is copied on this ticket."))
    follower.delete()
    return True


def followers_from_cc(
    ticket: Ticket, addresses: Iterable[str], *, sender: Contact | None
) -> list[Follower]:
    """The contacts of the ticket's organization a customer's mail copied (Cc): followers
    now, when the sender may choose who is copied (the requester, an organization admin: a
    colleague cannot copy themselves into a ticket by naming it in a subject). Other
    addresses are not: a stranger copied by mistake sees nothing."""
    if sender is None or not (sender.is_org_admin or sender.pk == ticket.requester_id):
        return []
    if sender.organization_id != ticket.organization_id:
        return []
    wanted = {address.lower() for address in addresses} - {sender.email.lower()}
    contacts = (
        Contact.objects.filter(organization_id=ticket.organization_id)
        .annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .exclude(pk=ticket.requester_id)
    )
    room = max(MAX_FOLLOWERS - ticket.followers.count(), 0)
    return [_add(ticket, contact=contact) for contact in contacts[:room]]


def copied_addresses(ticket: Ticket) -> list[str]:
    """Where a public update's mail is copied: the followers from the organization."""
    followers = Follower.objects.filter(
        ticket=ticket, contact__organization_id=ticket.organization_id
    ).exclude(contact__email="")
    # A contact whose sign-in was turned off is no longer copied.
    followers = followers.exclude(contact__user__is_active=False)
    return sorted(followers.values_list("contact__email", flat=True))


def staff_followers(ticket: Ticket, *, besides: User | None) -> list[User]:
    """Support staff following the ticket (not the one who wrote the update)."""
    users = User.objects.filter(following__ticket=ticket, is_active=True).exclude(email="")
    if besides is not None:
        users = users.exclude(pk=besides.pk)
    return [user for user in users if access.can_work(user, ticket)]  # still on its desk


def mail_staff_followers(*, ticket: Ticket, message: Message) -> list[OutboundMail]:
    """A copy of a public message for each member of support following the ticket (not its
    author), in their language and time zone; answering it by mail adds an internal note. It
    is listed among their notifications too (unread until they open it)."""
    from tickets.services.customer_mail import new_mail_id, ticket_url

    desk = ticket.desk
    copies = []
    followers = staff_followers(ticket, besides=message.author)
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            ticket=ticket,
            message=message,
            kind=Notification.Kind.MESSAGE,
            email=Notification.Email.NONE,
            deliver_after=message.received_at,
        )
        for user in followers
    )
    for user in followers:
        language = user.language or settings.LANGUAGE_CODE
        with translation.override(language), timezone.override(_zone(user, desk)):
            context = {
                "ticket": ticket,
                "message": message,
                "desk": desk,
                "url": ticket_url(ticket),
            }
            text = render_to_string("tickets/email/follower_copy.txt", context)
            html = render_to_string("tickets/email/follower_copy.html", context)
            subject = _("[%(reference)s] %(author)s wrote on “%(subject)s”") % {
                "reference": ticket.reference,
                "author": message.author_name,
                "subject": " ".join(ticket.subject.split()),
            }
        outbound = OutboundMail.objects.create(
            kind=OutboundMail.Kind.FOLLOWER,
            ticket=ticket,
            message=message,
            from_address=formataddr((desk.name, desk.email)),
            to_address=user.email,
            to_name=user.get_full_name() or user.username,
            language=language,
            subject=subject[:255],
            text=text,
            html=html,
            mail_id=new_mail_id(ticket),
        )
        MailThreadId.objects.create(
            key=outbound.mail_id, ticket=ticket, message=message, outgoing=True
        )
        copies.append(outbound)
    return copies


def _zone(user: User, desk: Desk) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or desk.calendar.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
