"""The customer's rating of a resolved ticket: from the resolution mail's links (signed, no
sign-in: the page records the rating as it opens, so the click in the mail is the only one)
or from the ticket's page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import SatisfactionRating, Ticket
from tickets.services.customer_mail import contact_language
from tickets.services.satisfaction import COMMENT_MAX, satisfaction_rate, ticket_of_token
from tickets.views.common import current_user, form_error


class RatingForm(forms.Form):
    score = forms.ChoiceField(
        label=gettext_lazy("How did we do?"),
        choices=SatisfactionRating.Score.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Anything to add? (optional)"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@require_http_methods(["GET", "POST"])
def rate_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the rating chosen in the mail and records it through the page's script
    (a mail scanner that follows links runs none); POST records it, and a comment."""
    ticket = ticket_of_token(token)
    if ticket is None:
        return render(request, "tickets/satisfaction_expired.html", status=404)
    # Opened from a mail, signed in or not: the page speaks the mail's language.
    with translation.override(contact_language(ticket.requester)):
        return _rate(request, ticket)


def _rate(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    existing = SatisfactionRating.objects.filter(ticket=ticket).first()
    if request.method == "GET":
        score = request.GET.get("score", "")
        initial = {"score": score if score in SatisfactionRating.Score.values else ""}
        if existing is not None:
            initial = {"score": initial["score"] or existing.score, "comment": existing.comment}
        form = RatingForm(initial=initial)
        auto = bool(initial["score"]) and (existing is None or existing.score != score)
        return _page(request, ticket, form, existing, auto=auto)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rating = satisfaction_rate(
                ticket=ticket,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"] or (existing.comment if existing else ""),
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            form = RatingForm(initial={"score": rating.score, "comment": rating.comment})
            return _page(request, ticket, form, rating, thanks=True)
    return _page(request, ticket, form, existing, status=400)


def _page(
    request: HttpRequest,
    ticket: Ticket,
    form: RatingForm,
    rating: SatisfactionRating | None,
    *,
    auto: bool = False,
    thanks: bool = False,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "tickets/satisfaction.html",
        {"ticket": ticket, "form": form, "rating": rating, "auto": auto, "thanks": thanks},
        status=status,
    )


@login_required
@require_POST
def rate_on_ticket(request: HttpRequest, reference: str) -> HttpResponse:
    """The ticket page's buttons: the signed-in customer rates their resolved ticket."""
    user = current_user(request)
    ticket = access.ticket_or_404(user, reference)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose good or bad."))
        return redirect("tickets:detail", reference=ticket.reference)
    try:
        satisfaction_rate(
            ticket=ticket,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
            actor=user,
        )
    except PermissionDeniedError:
        raise Http404 from None  # staff, or another contact of the organization
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your rating is recorded."))
    return redirect("tickets:detail", reference=ticket.reference)
