"""Who is served and who serves: users (customers, agents, managers), the customer
organizations and their contacts, and the desks agents work in with their inbound addresses.
Data only: every write goes through services."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField


class Language(models.TextChoices):
    EN = "en", _("English")
    FR = "fr", _("French")


class Region(models.TextChoices):
    EUROPE = "europe", _("Europe")
    NORTH_AMERICA = "north-america", _("North America")


class User(AbstractUser):
    """Anyone who signs in: a customer contact, an agent or a manager."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        MANAGER = "manager", _("Manager")

    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.CUSTOMER)
    language = models.CharField(_("language"), max_length=8, choices=Language, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    head_of_support = models.BooleanField(
        _("head of support"),
        default=False,
        help_text=_("Alerted when a deadline is far overrun (the policy's last threshold)."),
    )

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CUSTOMER

    @property
    def is_agent(self) -> bool:
        return self.role == self.Role.AGENT

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Desk(models.Model):
    """A support team serving one region, with its inbound addresses and business hours."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    region = models.CharField(_("region"), max_length=32, choices=Region)
    calendar = models.ForeignKey(
        "sla.Calendar", on_delete=models.PROTECT, related_name="desks", verbose_name=_("calendar")
    )
    email = models.EmailField(_("inbound address"), unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_desks",
        verbose_name=_("lead"),
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="desks", blank=True, verbose_name=_("agents")
    )
    inbound_secret = EncryptedTextField(
        _("inbound webhook secret"),
        max_length=128,
        blank=True,
        help_text=_(
            "Bearer token of the inbound mail webhook for this desk; empty turns the webhook off."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("desk")
        verbose_name_plural = _("desks")

    def __str__(self) -> str:
        return self.name


class DeskAddress(models.Model):
    """A further inbound address of a desk (aliases, old addresses)."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="addresses")
    email = models.EmailField(_("address"), unique=True)

    class Meta:
        verbose_name = _("desk address")
        verbose_name_plural = _("desk addresses")

    def __str__(self) -> str:
        return self.email


_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def validate_origins(value: str) -> None:
    """One web origin a line: http(s)://host[:port], nothing before the host nor after it."""
    for line in value.split():
        try:
            parts = urlsplit(line.rstrip("/"))
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if (
            parts.scheme not in ("http", "https")
            or not _HOST.match(parts.hostname or "")
            or not port_ok
            or "@" in parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
        ):
            raise ValidationError(
                _("%(origin)s is not an origin such as https://app.example.com."),
                params={"origin": line},
            )


def validate_domains(value: str) -> None:
    """One mail domain a line (example.com)."""
    for line in value.split():
        if not _HOST.match(line.lower()) or "." not in line:
            raise ValidationError(
                _("%(domain)s is not a mail domain such as example.com."), params={"domain": line}
            )


class Organization(models.Model):
    """A customer company under contract."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    under_contract = models.BooleanField(
        _("under contract"),
        default=True,
        help_text=_("Only contacts of an organization under contract may open tickets."),
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        related_name="organizations",
        verbose_name=_("SLA policy"),
    )
    desks = models.ManyToManyField(Desk, related_name="organizations", verbose_name=_("desks"))
    availability_commitment = models.DecimalField(
        _("availability commitment (%)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("99.500"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    chat_secret = EncryptedTextField(
        _("chat widget secret"),
        max_length=128,
        blank=True,
        validators=[MinLengthValidator(32)],
        help_text=_(
            "Shared with the organization's developers: their product signs its users' chat "
            "tokens with it (HS256). Empty turns the embedded chat widget off; changing it "
            "signs every widget out."
        ),
    )
    chat_domains = models.TextField(
        _("chat widget mail domains"),
        blank=True,
        validators=[validate_domains],
        help_text=_(
            "The widget adds a contact for a new user of the organization's product only when "
            "their address is in one of these domains, one per line (e.g. example.com); "
            "empty: only the organization's existing contacts may chat from the widget."
        ),
    )
    invitation_domains = models.TextField(
        _("invitation mail domains"),
        blank=True,
        validators=[validate_domains],
        help_text=_(
            "The organization's administrators may invite colleagues only with an address in "
            "these domains, one per line (e.g. example.com); empty: any address."
        ),
    )
    chat_origins = models.TextField(
        _("chat widget origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "The addresses of the pages that may embed the chat widget, one per line "
            "(scheme, host and port, e.g. https://app.example.com)."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def chat_origin_list(self) -> list[str]:
        return [line.rstrip("/").lower() for line in self.chat_origins.split()]

    def may_invite(self, email: str) -> bool:
        domains = {line.lower() for line in self.invitation_domains.split()}
        return not domains or email.rpartition("@")[2].lower() in domains

    def may_add_chat_contact(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return domain in {line.lower() for line in self.chat_domains.split()}


class Contact(models.Model):
    """A person of a customer organization; may or may not have a login."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Organization admin")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contacts"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), unique=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.MEMBER)
    region = models.CharField(_("region"), max_length=32, choices=Region, default=Region.EUROPE)
    language = models.CharField(_("language"), max_length=8, choices=Language, default="en")

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints: ClassVar = [
            # Mail addresses are compared without case: one contact per address.
            models.UniqueConstraint(Lower("email"), name="contact_email_unique_ci")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_org_admin(self) -> bool:
        return self.role == self.Role.ADMIN
