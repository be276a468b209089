"""The FAQ customers read (no login needed): by product area, searchable, and suggested while
a new ticket's subject is typed — the SLA's first level of support."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from tickets import access, selectors
from tickets.models import ProductArea, User


def _reader(request: HttpRequest) -> User:
    # Anonymous readers too: access.visible_articles looks at is_authenticated first.
    return request.user  # type: ignore[return-value]  # User or AnonymousUser


def faq_index(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    query = " ".join(request.GET.get("q", "").split())[:200]
    articles = access.visible_articles(user)
    if query:
        results = selectors.articles_matching(articles, query, language=get_language())
        return render(request, "tickets/faq_index.html", {"query": query, "results": results})
    areas = selectors.faq_areas(articles, language=get_language())
    return render(request, "tickets/faq_index.html", {"query": "", "areas": areas})


def faq_area(request: HttpRequest, slug: str) -> HttpResponse:
    area = get_object_or_404(ProductArea, slug=slug)
    articles = list(access.visible_articles(_reader(request)).filter(area=area).order_by("title"))
    # In the reader's language; another language's only when the area has none in theirs.
    language = get_language()
    articles = [a for a in articles if a.language == language] or articles
    return render(request, "tickets/faq_area.html", {"area": area, "articles": articles})


def faq_article(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(access.visible_articles(_reader(request)), slug=slug)
    related = (
        access.visible_articles(_reader(request))
        .filter(area=article.area_id, language=article.language)
        .exclude(pk=article.pk)
        .order_by("title")[:5]
    )
    return render(request, "tickets/faq_article.html", {"article": article, "related": related})


def faq_suggest(request: HttpRequest) -> HttpResponse:
    """A fragment for the new-ticket form: articles matching what the customer types."""
    query = " ".join(request.GET.get("subject", request.GET.get("q", "")).split())[:200]
    results = (
        selectors.articles_matching(
            access.visible_articles(_reader(request)), query, language=get_language()
        )[:5]
        if len(query) >= 3
        else []
    )
    return render(request, "tickets/_faq_suggestions.html", {"results": results, "query": query})
