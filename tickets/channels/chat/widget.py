"""The chat widget that an organization embeds in its own product (docs/CHAT-WIDGET.md).

The product signs a short-lived token for its signed-in user with the organization's chat
secret (a JWT, HS256: ``email`` and ``exp``, within the hour, required; ``name``, ``language``
and ``region`` optional). The widget hands it to Pacte once; Pacte checks it, finds the
organization's contact with that address (or adds one in the organization's mail domains) and
answers with a *credential*: Pacte's own signed value that
the widget's frame sends with every later request and on its WebSocket (as a subprotocol). A
credential dies when it is 12 hours old or when the organization's secret changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import slug_re, validate_email
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from tickets.exceptions import TicketError
from tickets.models import Contact, Language, Organization, Region, User

TOKEN_ALGORITHM = "HS256"
TOKEN_MAX_SECONDS = 3600  # a token valid for longer than this is refused
TOKEN_LEEWAY_SECONDS = 60  # clocks of the product's servers and Pacte's may differ a little
CREDENTIAL_SECONDS = 12 * 3600
_SALT = "pacte.chat.widget"


class WidgetTokenError(TicketError):
    """The widget's token or credential is refused; nothing was written."""


@dataclass(frozen=True)
class Identity:
    """Who the organization's product says its user is."""

    email: str
    name: str
    language: str
    region: str


def read_token(organization: Organization, token: str, *, now: datetime) -> Identity:
    """Check a token the organization's product signed and return what it says."""
    if not organization.chat_secret:
        raise WidgetTokenError(_("The chat widget is not enabled for this organization."))
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            organization.chat_secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["exp", "email"], "verify_iat": False},
            leeway=TOKEN_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise WidgetTokenError(_("The chat token has expired: reload the page.")) from None
    except jwt.InvalidTokenError:
        raise WidgetTokenError(_("The chat token is not valid.")) from None
    # PyJWT takes any exp that int() takes ("1893456000", true): only a JSON number is one. The
    # comparison is int-to-float exact, so a huge integer cannot overflow either.
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise WidgetTokenError(_("The chat token is not valid."))
    if exp > now.timestamp() + TOKEN_MAX_SECONDS + TOKEN_LEEWAY_SECONDS:
        raise WidgetTokenError(_("The chat token must expire within an hour."))
    email, name = claims["email"], claims.get("name") or ""
    language, region = claims.get("language") or "", claims.get("region") or ""
    try:
        if not isinstance(email, str) or not isinstance(name, str) or "\x00" in email + name:
            raise ValidationError("not text")
        validate_email(email)
    except ValidationError:
        raise WidgetTokenError(_("The chat token does not name a valid email address.")) from None
    if language not in ("", *Language.values) or region not in ("", *Region.values):
        raise WidgetTokenError(_("The chat token names an unknown language or region."))
    return Identity(email=email.strip(), name=name.strip()[:200], language=language, region=region)


def sign_token(
    organization: Organization,
    *,
    email: str,
    now: datetime,
    name: str = "",
    language: str = "",
    seconds: int = 600,
) -> str:
    """A token as the organization's product signs it (for trying the widget, and tests)."""
    claims: dict[str, Any] = {"email": email, "iat": int(now.timestamp())}
    claims["exp"] = claims["iat"] + seconds
    claims.update((k, v) for k, v in (("name", name), ("language", language)) if v)
    return jwt.encode(claims, organization.chat_secret, algorithm=TOKEN_ALGORITHM)


def _may_sign_in(user: User) -> bool:
    """Only customers chat from a widget: never staff, whatever contact row names them."""
    return user.is_active and user.is_customer and not (user.is_staff or user.is_superuser)


@transaction.atomic
def chat_widget_identify(
    *, organization_slug: str, token: str, origin: str, own_origin: str, now: datetime
) -> Contact:
    """The contact a widget token names: the organization's contact with that address, or,
    for an address in the organization's chat domains, a new contact with a login that has no
    password. ``origin`` is the page that sent the token: one of the organization's listed
    origins, or Pacte's own (the managers' sample page); never another site's page, which could
    otherwise sign a visitor in as someone else."""
    organization = None
    if slug_re.match(organization_slug):
        organization = Organization.objects.filter(slug=organization_slug).first()
    if organization is None or not organization.under_contract:
        raise WidgetTokenError(_("The chat widget is not enabled for this organization."))
    if origin != own_origin and origin.lower() not in organization.chat_origin_list:
        raise WidgetTokenError(_("This page may not open the organization's chat."))
    identity = read_token(organization, token, now=now)
    contact = (
        Contact.objects.select_related("user", "organization")
        .filter(email__iexact=identity.email)
        .first()
    )
    if (contact is not None and contact.organization_id != organization.pk) or (
        contact is None and not organization.may_add_chat_contact(identity.email)
    ):
        # The same message whoever holds the address: nothing to learn about other customers.
        raise WidgetTokenError(_("This address cannot use this organization's chat."))
    try:
        with transaction.atomic():
            if contact is None:
                contact = Contact(
                    organization=organization,
                    email=identity.email,
                    name=identity.name or identity.email.split("@")[0],
                    language=identity.language or Language.EN,
                    region=identity.region or Region.EUROPE,
                )
                contact.full_clean()
                contact.save()
            if contact.user is None:
                contact.user = _login_for(contact)
                contact.save(update_fields=["user"])
    except IntegrityError:  # the same new user opened the widget twice at the same instant
        raise WidgetTokenError(_("The chat is starting in another window: try again.")) from None
    except ValidationError:
        raise WidgetTokenError(_("The chat token does not name a valid contact.")) from None
    if not _may_sign_in(contact.user):
        raise WidgetTokenError(_("This address cannot use this organization's chat."))
    return contact


def _login_for(contact: Contact) -> User:
    username = contact.email.lower()[:150]
    try:
        User.username_validator(username)
    except ValidationError:  # an address with characters a username may not have
        username = f"chat-{secrets.token_hex(6)}"
    if User.objects.filter(username=username).exists():
        username = f"{username[:140]}-{secrets.token_hex(4)}"
    first, _space, last = contact.name.partition(" ")
    user = User(
        username=username,
        email=contact.email,
        first_name=first[:150],
        last_name=last[:150],
        role=User.Role.CUSTOMER,
        language=contact.language,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def _secret_mark(organization: Organization) -> str:
    return salted_hmac(_SALT, organization.chat_secret).hexdigest()[:16]


WEBSOCKET_PROTOCOL = "pacte.widget"


def _signer() -> signing.TimestampSigner:
    # "." between the parts: a credential is then a valid WebSocket subprotocol token, the way
    # the frame hands it to the WebSocket (never on the URL, which servers write in their logs).
    return signing.TimestampSigner(salt=_SALT, sep=".")


def credential_for(contact: Contact) -> str:
    return _signer().sign_object({"c": contact.pk, "s": _secret_mark(contact.organization)})


def contact_from_credential(credential: str) -> Contact | None:
    """The contact a credential stands for, or None when it is forged, too old, or its
    organization's secret has changed since."""
    try:
        data = _signer().unsign_object(credential, max_age=CREDENTIAL_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    contact = Contact.objects.select_related("user", "organization").filter(pk=data["c"]).first()
    if (
        contact is None
        or contact.user is None
        or not _may_sign_in(contact.user)
        or not contact.organization.under_contract
        or not contact.organization.chat_secret
        or data.get("s") != _secret_mark(contact.organization)
    ):
        return None
    return contact
