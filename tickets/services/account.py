"""A user's own settings: language and time zone."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import TicketError
from tickets.models import Language, User


@transaction.atomic
def user_set_preferences(*, user: User, language: str, time_zone: str) -> None:
    """Language ("" follows the browser) and time zone ("" uses the desk's default) of pages
    and mail; a customer's contact record follows, as mail to them is written in it."""
    if language and language not in Language.values:
        raise TicketError(_("Unknown language: %(value)s.") % {"value": language}, field="language")
    if time_zone and time_zone not in available_time_zones():
        raise TicketError(
            _("Unknown time zone: %(value)s.") % {"value": time_zone}, field="time_zone"
        )
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    contact = access.contact_of(user)
    if contact is not None and language and contact.language != language:
        contact.language = language
        contact.save(update_fields=["language"])


def available_time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def user_set_language(*, user: User, language: str) -> None:
    """Remember the user's language for pages and mail."""
    if language not in Language.values:
        raise TicketError(_("Unknown language: %(value)s.") % {"value": language}, field="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
