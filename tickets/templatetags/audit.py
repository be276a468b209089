"""The audit log's details in the reader's language: a line stores its facts under English
keys (tickets.accounts.audit), read here with their labels, roles and instants translated."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.models import Contact

register = template.Library()

LABELS = {
    "organization": _("organization"),
    "role": _("role"),
    "organization role": _("role"),
    "tickets kept": _("tickets kept"),
    "expires": _("expires"),
    "session address": _("session address"),
    "single sign-on": _("single sign-on"),
    "why": _("why"),
    "address": _("address"),
    "type": _("type"),
    "filters": _("filters"),
    "year": _("year"),
    "from": _("from"),
    "to": _("to"),
    "model": _("record"),
    "action": _("action"),
    "fields": _("fields"),
}
ROLES = dict(Contact.Role.choices)


ROLE_KEYS = {"role", "organization role"}


def _value(value: Any, key: str) -> str:
    if isinstance(value, list):
        return " → ".join(_value(item, key) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{name}={item}" for name, item in value.items())
    if isinstance(value, str):
        if key in ROLE_KEYS and value in ROLES:
            return str(ROLES[value])
        try:
            instant = parse_datetime(value) if "T" in value else None
        except ValueError:  # shaped like an instant, not one ("2024-02-30T10:00"): as stored
            instant = None
        if instant is not None and timezone.is_aware(instant):
            return formats.date_format(timezone.localtime(instant), "DATETIME_FORMAT")
    return str(value)


@register.filter
def audit_detail(detail: dict[str, Any]) -> str:
    """ "role: Member → Organization admin · …" (a key Pacte does not know is shown as kept)."""
    return " · ".join(
        gettext("%(label)s: %(value)s")
        % {"label": LABELS.get(key, key), "value": _value(value, key)}
        for key, value in (detail or {}).items()
    )
