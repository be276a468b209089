"""What agents write for reuse: canned replies, and the FAQ knowledge base customers read."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models.people import Desk, Language


class CannedReply(models.Model):
    """A ready answer an agent inserts into a reply; for one desk or, without one, every desk."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    desk = models.ForeignKey(
        Desk,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("desk"),
        help_text=_("Leave empty to offer it on every desk."),
    )
    # The customers' language it is written in; empty: any (offered to every customer).
    language = models.CharField(_("language"), max_length=8, choices=Language, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering: ClassVar = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class QueueView(models.Model):
    """An agent's own saved view of the queue: a name for a set of filters."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_views"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["owner", "name"], name="queue_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ProductArea(models.Model):
    """A part of the product the FAQ is organized by (installation, billing, API…)."""

    name = models.CharField(_("name"), max_length=100)
    # The name French readers see (the help centre speaks the reader's language); empty: name.
    name_fr = models.CharField(_("name in French"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering: ClassVar = ["position", "name"]
        verbose_name = _("product area")
        verbose_name_plural = _("product areas")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The area's name in the active language."""
        return self.name_fr if self.name_fr and get_language() == "fr" else self.name


class Article(models.Model):
    """A FAQ article: the SLA's first level of support, written by agents, read by customers."""

    area = models.ForeignKey(
        ProductArea, on_delete=models.PROTECT, related_name="articles", verbose_name=_("area")
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Other words customers use.")
    )
    language = models.CharField(_("language"), max_length=8, choices=Language, default=Language.EN)
    published = models.BooleanField(_("published"), default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering: ClassVar = ["area", "title"]
        verbose_name = _("FAQ article")
        verbose_name_plural = _("FAQ articles")
        indexes: ClassVar = [models.Index(fields=["published", "language", "area"])]

    def __str__(self) -> str:
        return self.title
