"""Date formats per language (FORMAT_MODULE_PATH): one date-time form per language everywhere."""

from __future__ import annotations

from django.utils import formats, translation


def named(name: str) -> str:
    """A format of the active language's module here that Django does not know by name
    (WEEKDAY_TIME_FORMAT, DAY_MONTH_TIME_FORMAT, MONTH_ABBREVIATION_FORMAT)."""
    for module in formats.get_format_modules():
        if hasattr(module, name):
            return str(getattr(module, name))
    raise LookupError(name)


FRENCH_ELIDING = "aeiouyhàâäéèêëîïôöûüù"


def of(name: str) -> str:
    """A name as it follows "of" in the active language: in French with its preposition,
    elided before a vowel or a mute h ("d’Eventia", "d’octobre 2026", "de Kiosk Vision"), so
    that the French sentence ("Les personnes %(org)s") reads right; in English, the name."""
    if translation.get_language() != "fr" or not name:
        return name
    return f"d’{name}" if name[0].lower() in FRENCH_ELIDING else f"de {name}"
