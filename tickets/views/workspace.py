"""Agents' tools beside the queue: merging duplicates, canned replies, the FAQ they write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tickets import access, services
from tickets.exceptions import TicketError
from tickets.forms import ArticleForm, CannedReplyForm, MergeForm
from tickets.models import Article, CannedReply, Language, Ticket, User
from tickets.views.common import current_user, form_error, staff_user
from tickets.views.desk import agent_ticket_page, worked_ticket


@login_required
@require_POST
def ticket_merge(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    source = worked_ticket(request, reference)
    form = MergeForm(request.POST)
    if form.is_valid():
        target_id = Ticket.id_from_reference(form.cleaned_data["target"])
        target = access.visible_tickets(user).filter(pk=target_id).first() if target_id else None
        if target is None:
            form.add_error("target", _("No ticket of yours has this reference."))
        else:
            try:
                services.ticket_merge(
                    source=source,
                    target=target,
                    actor=user,
                    note=form.cleaned_data["note"],
                    share_note=form.cleaned_data["share_note"],
                )
            except TicketError as error:
                form_error(request, form, error)
            else:
                messages.success(
                    request,
                    _("%(source)s is merged into %(target)s.")
                    % {"source": source.reference, "target": target.reference},
                )
                return redirect("tickets:detail", reference=target.reference)
    return agent_ticket_page(request, source, merge_form=form, status=400)


@login_required
def canned_list(request: HttpRequest) -> HttpResponse:
    staff_user(request)
    replies = access.visible_canned_replies(current_user(request)).order_by("title")
    return render(request, "tickets/canned_list.html", {"replies": replies})


@dataclass(frozen=True)
class EditPage:
    """What differs between the edit pages of canned replies and FAQ articles."""

    title_new: str
    title_edit: str
    saved: str
    list_url: str
    delete_url: str


def _edit_page(
    request: HttpRequest,
    form: forms.ModelForm,  # type: ignore[type-arg]  # of either model
    save: Callable[[], object],
    page: EditPage,
    editing: bool,
) -> HttpResponse:
    """Validate, save through the service, and come back to the list; or show the form."""
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except TicketError as error:
            form_error(request, form, error)
        else:
            messages.success(request, page.saved)
            return redirect(page.list_url)
    return render(
        request,
        "tickets/workspace_form.html",
        {
            "form": form,
            "title": page.title_edit if editing else page.title_new,
            "back": page.list_url,
            "delete_url": page.delete_url if editing else "",
            "object": form.instance,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    staff_user(request)
    user = current_user(request)
    reply = (
        get_object_or_404(access.visible_canned_replies(user), pk=pk)
        if pk is not None
        else CannedReply()
    )
    form = CannedReplyForm(request.POST or None, instance=reply, desks=access.desks_worked_by(user))
    page = EditPage(
        _("New canned reply"),
        _("Canned reply"),
        _("Canned reply saved."),
        "desk:canned-list",
        "desk:canned-delete",
    )
    return _edit_page(
        request,
        form,
        lambda: services.canned_reply_save(reply=form.instance, actor=user),
        page,
        pk is not None,
    )


@login_required
@require_POST
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    staff_user(request)
    user = current_user(request)
    reply = get_object_or_404(access.visible_canned_replies(user), pk=pk)
    services.canned_reply_delete(reply=reply, actor=user)
    messages.success(request, _("Canned reply deleted."))
    return redirect("desk:canned-list")


@login_required
def article_list_staff(request: HttpRequest) -> HttpResponse:
    staff_user(request)
    articles = access.visible_articles(current_user(request)).order_by(
        "area__position", "area__name", "title"
    )
    return render(request, "tickets/article_list_staff.html", {"articles": articles})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    staff_user(request)
    user = current_user(request)
    article = get_object_or_404(Article, pk=pk) if pk is not None else _new_article(user)
    form = ArticleForm(request.POST or None, instance=article)
    page = EditPage(
        _("New FAQ article"),
        _("FAQ article"),
        _("Article saved."),
        "desk:faq-list",
        "desk:faq-delete",
    )
    return _edit_page(
        request,
        form,
        lambda: services.article_save(article=form.instance, actor=user),
        page,
        pk is not None,
    )


def _new_article(author: User) -> Article:
    """A new article starts in its author's language and unpublished: it goes out when they
    tick "published"."""
    language = author.language or translation.get_language() or ""
    if language not in Language.values:
        language = Language.EN
    return Article(language=language, published=False)


@login_required
@require_POST
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    staff_user(request)
    article = get_object_or_404(Article, pk=pk)
    services.article_delete(article=article, actor=current_user(request))
    messages.success(request, _("Article deleted."))
    return redirect("desk:faq-list")
