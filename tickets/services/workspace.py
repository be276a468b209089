"""The agents' tools: saved queue views, canned replies and FAQ articles."""

from __future__ import annotations

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import Article, CannedReply, QueueView, User

QUEUE_VIEW_KEYS = (
    "view",
    "q",
    "desk",
    "severity",
    "status",
    "assignee",
    "organization",
    "sla",
    "tag",
)
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


def queue_view_delete(*, owner: User, pk: int) -> bool:
    """Delete one of the owner's saved views; False when they have none by that id (another
    agent's view is not theirs to delete)."""
    deleted, _rows = QueueView.objects.filter(owner=owner, pk=pk).delete()
    return deleted > 0


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
