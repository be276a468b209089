"""Date formats per language (FORMAT_MODULE_PATH): one date-time form per language everywhere."""

from __future__ import annotations

from django.utils import formats


def named(name: str) -> str:
    """A format of the active language's module here that Django does not know by name
    (WEEKDAY_TIME_FORMAT, DAY_MONTH_TIME_FORMAT, MONTH_ABBREVIATION_FORMAT)."""
    for module in formats.get_format_modules():
        if hasattr(module, name):
            return str(getattr(module, name))
    raise LookupError(name)
