"""The one place that decides who may see or change a ticket.

Pages and the API both build their querysets here. A ticket a user may not see does not exist
for them: lookups raise Http404, never 403, so nobody learns another organization's tickets.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from tickets.models import (
    Article,
    Attachment,
    CannedReply,
    ChatSession,
    Contact,
    Desk,
    Follower,
    InboundMail,
    Message,
    Ticket,
    TicketEvent,
    TicketTriage,
    User,
)


def contact_of(user: User) -> Contact | None:
    if not user.is_authenticated or not user.is_customer:
        return None
    try:
        return user.contact
    except Contact.DoesNotExist:
        return None


def is_staff_member(user: User) -> bool:
    """Agents and managers (and superusers) work tickets; customers do not."""
    return user.is_authenticated and (user.is_agent or user.is_manager or user.is_superuser)


def must_pass_second_factor(user: User) -> bool:
    """Who sees customers' data beyond their own: agents, managers and admins
    (tickets.accounts.second_factor holds them to it)."""
    return user.is_authenticated and (is_staff_member(user) or user.is_staff)


def customer_may_sign_in(user: User) -> bool:
    """A customer signs in (pages and API alike) only as a contact of an organization under
    contract: the SLA serves the customer's users."""
    return Contact.objects.filter(user=user, organization__under_contract=True).exists()


def sees_everything(user: User) -> bool:
    return user.is_authenticated and (user.is_manager or user.is_superuser)


def may_configure(user: User) -> bool:
    """Managers edit the configuration (calendars, policies, desks, customers) in the admin."""
    return user.is_active and user.is_staff and sees_everything(user)


def visible_tickets(user: User) -> QuerySet[Ticket]:
    """Every ticket the user may see."""
    return _visible_tickets(user, None)


def openable_ticket_ids(user: User, ids: Iterable[int]) -> set[int]:
    """Which of these tickets the user may open (one query): a report links only those."""
    wanted = set(ids)
    if not wanted:
        return set()
    return set(visible_tickets(user).filter(pk__in=wanted).values_list("pk", flat=True))


def desks_and_tickets(user: User) -> tuple[list[Desk], QuerySet[Ticket]]:
    """The desks the user works and every ticket the user may see, the desks read once (the
    queue lists them in its filter, and an agent's tickets are theirs)."""
    desks = list(desks_worked_by(user))
    return desks, _visible_tickets(user, desks)


def _visible_tickets(user: User, desks: Sequence[Desk] | None) -> QuerySet[Ticket]:
    """`desks`: ``desks_worked_by(user)``, read by ``desks_and_tickets``; None reads them."""
    tickets = Ticket.objects.all()
    if not user.is_authenticated:
        return tickets.none()
    if sees_everything(user):
        return tickets
    if user.is_agent:
        # The desk ids as literals (one small query): SQLite then walks the (desk, …) indexes
        # in order instead of reading every ticket of the desk and sorting (bench/agent_queue.py).
        if desks is None:
            return tickets.filter(desk__in=list(user.desks.values_list("pk", flat=True)))
        return tickets.filter(desk__in=[desk.pk for desk in desks])
    contact = contact_of(user)
    if contact is None:
        return tickets.none()
    if contact.is_org_admin:
        return tickets.filter(organization_id=contact.organization_id)
    # Their own tickets, and those of their organization they are copied on.
    followed = Follower.objects.filter(ticket=OuterRef("pk"), contact=contact)
    return tickets.filter(
        Q(requester=contact) | Q(Exists(followed), organization_id=contact.organization_id)
    )


def desks_worked_by(user: User) -> QuerySet[Desk]:
    """The desks whose tickets the user works: every desk for managers, an agent's own."""
    if sees_everything(user):
        return Desk.objects.order_by("name")
    if user.is_authenticated and user.is_agent:
        return user.desks.order_by("name")
    return Desk.objects.none()


def contacts_served_by(user: User) -> QuerySet[Contact]:
    """Contacts on whose behalf the user may open a ticket (a phone call, a held mail)."""
    return (
        Contact.objects.filter(
            organization__under_contract=True, organization__desks__in=desks_worked_by(user)
        )
        .distinct()
        .select_related("organization")
        .order_by("organization__name", "name")
    )


def customer_readable(prefix: str = "") -> Q:
    """The messages a customer may read (through `prefix`, from a related model): no internal
    notes, nor mail from outside their organization (anyone holding a Message-ID of the thread
    can send one)."""
    return Q(**{f"{prefix}is_internal": False, f"{prefix}from_outside": False})


def visible_messages(user: User, ticket: Ticket) -> QuerySet[Message]:
    """Messages of a ticket the user may read."""
    messages = Message.objects.filter(ticket=ticket)
    if not is_staff_member(user):
        messages = messages.filter(customer_readable())
    return messages


def event_note_for(user: User, event: TicketEvent) -> str:
    """The note of a history event as the user may read it: a merge note is for staff unless
    the agent shared it with the customer."""
    if event.kind == TicketEvent.Kind.MERGED and not event.note_shared:
        return event.note if is_staff_member(user) else ""
    return event.note


def visible_attachments(user: User) -> QuerySet[Attachment]:
    attachments = Attachment.objects.filter(ticket__in=visible_tickets(user))
    if not is_staff_member(user):
        attachments = attachments.filter(customer_readable("message__"))
    return attachments


def ticket_or_404(user: User, reference: str) -> Ticket:
    """The visible ticket a reference names, with what every ticket page shows loaded."""
    ticket_id = Ticket.id_from_reference(reference)
    if ticket_id is None:
        raise Http404
    tickets = visible_tickets(user).select_related("organization", "requester", "desk", "assignee")
    try:
        return tickets.get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404 from None


def can_work(user: User, ticket: Ticket) -> bool:
    """May the user act as support on this ticket (reply as agent, notes, status, assign)?"""
    if sees_everything(user):
        return True
    return (
        user.is_authenticated and user.is_agent and ticket.desk.agents.filter(pk=user.pk).exists()
    )


def desks_to_open_for(user: User, contact: Contact) -> list[Desk]:
    """The desks of the contact's organization on which the user may open a ticket for them."""
    desks = contact.organization.desks.order_by("pk")
    if sees_everything(user):
        return list(desks)
    if not user.is_authenticated or not user.is_agent:
        return []
    return list(desks.filter(agents=user))


def can_reply_as_customer(user: User, ticket: Ticket) -> bool:
    """The ticket's requester, an admin of its organization, or a colleague copied on it."""
    contact = contact_of(user)
    if contact is None or ticket.organization_id != contact.organization_id:
        return False
    if contact.is_org_admin or ticket.requester_id == contact.pk:
        return True
    return ticket.followers.filter(contact=contact).exists()  # copied on it


def owns_as_customer(user: User, ticket: Ticket) -> bool:
    """The ticket's requester or an admin of its organization: who closes, reopens and rates it
    and chooses who is copied (a colleague copied on it reads and replies, no more)."""
    contact = contact_of(user)
    if contact is None or ticket.organization_id != contact.organization_id:
        return False
    return contact.is_org_admin or ticket.requester_id == contact.pk


def assignable_agents(ticket: Ticket) -> QuerySet[User]:
    return (
        User.objects.filter(Q(desks=ticket.desk_id) | Q(role=User.Role.MANAGER), is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


# --- mail --------------------------------------------------------------------------------------


def visible_inbound_mail(user: User) -> QuerySet[InboundMail]:
    """Received mail staff may look at: every desk's for managers, their desks' for agents
    (mail not yet routed to a desk, e.g. quarantined before routing, is seen by all staff)."""
    mails = InboundMail.objects.all()
    if sees_everything(user):
        return mails
    if not user.is_authenticated or not user.is_agent:
        return mails.none()
    return mails.filter(Q(desk__in=user.desks.all()) | Q(desk__isnull=True))


def inbound_mail_or_404(user: User, pk: int) -> InboundMail:
    try:
        return visible_inbound_mail(user).select_related("desk", "ticket").get(pk=pk)
    except InboundMail.DoesNotExist:
        raise Http404 from None


def desk_for_webhook(slug: str, authorization: str) -> Desk | None:
    """The desk whose inbound-mail webhook this bearer token opens, or None (one answer for
    an unknown desk, a desk without a secret and a wrong token: nothing to probe)."""
    scheme, _, token = authorization.partition(" ")
    desk = Desk.objects.filter(slug=slug).first()
    expected = desk.inbound_secret if desk is not None else ""
    # Compared in constant time, even when there is nothing to compare with.
    matches = hmac.compare_digest(token.strip().encode(), (expected or "\0").encode())
    if desk is None or not expected or scheme.lower() != "bearer" or not matches:
        return None
    return desk


# --- canned replies and the FAQ ----------------------------------------------------------------


def visible_canned_replies(user: User) -> QuerySet[CannedReply]:
    """Canned replies for every desk and for the desks the user works."""
    if not is_staff_member(user):
        return CannedReply.objects.none()
    return CannedReply.objects.filter(
        Q(desk__isnull=True) | Q(desk__in=desks_worked_by(user))
    ).select_related("desk")


def visible_articles(user: User) -> QuerySet[Article]:
    """FAQ articles: published ones for everyone (no login needed), drafts for staff too."""
    articles = Article.objects.select_related("area")
    if user.is_authenticated and is_staff_member(user):
        return articles
    return articles.filter(published=True)


def flagged_open_triages(user: User) -> QuerySet[TicketTriage]:
    """The open tickets the user works on whose text suggests a stricter severity than their
    customer chose (``TicketTriage.flagged``), as one subquery (no query of its own: the
    navigation's counts read it on every staff page)."""
    flagged = TicketTriage.objects.filter(flagged=True, ticket__queue_open=1)
    if sees_everything(user):
        return flagged
    if not user.is_agent:
        return flagged.none()
    return flagged.filter(ticket__desk__in=user.desks.values("pk"))


def waiting_chats(user: User) -> QuerySet[ChatSession]:
    """The chats waiting for an agent of the user's desks, as one subquery (as
    ``flagged_open_triages``: counted with the navigation's other counts)."""
    waiting = ChatSession.objects.filter(state=ChatSession.State.WAITING)
    if sees_everything(user):
        return waiting
    if not user.is_agent:
        return waiting.none()
    return waiting.filter(ticket__desk__in=user.desks.values("pk"))
