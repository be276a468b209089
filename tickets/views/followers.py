"""Who is copied on a ticket: support and its customer add and remove followers
(tickets.services.followers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.formats import of
from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import Contact, Follower, Ticket, User
from tickets.services.followers import follower_add, follower_remove
from tickets.views.common import current_user


def follower_choices(user: User, ticket: Ticket) -> list[tuple[str, list[tuple[str, str]]]]:
    """Whom the user may copy on the ticket, by group (the form's select): contacts of its
    organization, and for support, the staff who may work it."""
    taken = Follower.objects.filter(ticket=ticket)
    contacts = (
        Contact.objects.filter(organization_id=ticket.organization_id)
        .exclude(pk=ticket.requester_id)
        .exclude(email="")
        .exclude(pk__in=taken.exclude(contact=None).values("contact"))
        .order_by("name")
    )
    groups = [(_("People of %(org)s") % {"org": of(ticket.organization.name)}, [
        (f"contact:{c.pk}", c.name) for c in contacts
    ])]  # fmt: skip
    if access.can_work(user, ticket):
        staff = access.assignable_agents(ticket).exclude(
            pk__in=taken.exclude(user=None).values("user")
        )
        groups.append(
            (_("Support"), [(f"user:{u.pk}", u.get_full_name() or u.username) for u in staff])
        )
    return [(label, options) for label, options in groups if options]


def follower_context(user: User, ticket: Ticket) -> dict[str, object]:
    """What a ticket page shows of its followers (templates/includes/_followers.html)."""
    manage = access.can_work(user, ticket) or access.owns_as_customer(user, ticket)
    return {
        "followers": list(ticket.followers.select_related("contact", "user").order_by("pk")),
        "may_manage_followers": manage,
        "follower_choices": follower_choices(user, ticket) if manage else [],
    }


@login_required
@require_POST
def ticket_follower_add(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    ticket = access.ticket_or_404(user, reference)
    kind, _sep, pk = request.POST.get("who", "").partition(":")
    try:
        if kind == "contact" and pk.isascii() and pk.isdecimal():
            contact = Contact.objects.filter(pk=int(pk)).first()
            if contact is None:
                raise TicketError(_("Choose whom to copy."))
            follower_add(ticket=ticket, actor=user, contact=contact)
        elif kind == "user" and pk.isascii() and pk.isdecimal():
            staff = User.objects.filter(pk=int(pk)).first()
            if staff is None or not access.can_work(user, ticket):
                raise TicketError(_("Choose whom to copy."))
            follower_add(ticket=ticket, actor=user, user=staff)
        else:
            raise TicketError(_("Choose whom to copy."))
    except PermissionDeniedError:
        raise Http404 from None
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Copied on the ticket: they get its public updates."))
    return redirect("tickets:detail", reference=ticket.reference)


@login_required
@require_POST
def ticket_follower_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    user = current_user(request)
    ticket = access.ticket_or_404(user, reference)
    try:
        removed = follower_remove(ticket=ticket, actor=user, follower_id=pk)
    except PermissionDeniedError:
        raise Http404 from None
    if not removed:
        raise Http404
    messages.success(request, _("No longer copied on the ticket."))
    if not access.visible_tickets(user).filter(pk=ticket.pk).exists():
        return redirect("tickets:list")  # a follower who took themselves off
    return redirect("tickets:detail", reference=ticket.reference)
