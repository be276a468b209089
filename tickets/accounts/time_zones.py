"""The time zones people pick in their preferences: one canonical zone for each country's main
places, grouped by region, rather than the ~600 names of the tz database (old aliases such as
"US/Eastern", "Etc/GMT+3" whose sign is reversed, research stations). A user whose stored zone
is not among them keeps it, offered on its own."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REGIONS: dict[str, Promise] = {
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific"),
}

PICKED_ZONES = (
    # Africa
    "Africa/Abidjan", "Africa/Accra", "Africa/Addis_Ababa", "Africa/Algiers", "Africa/Cairo",
    "Africa/Casablanca", "Africa/Dakar", "Africa/Dar_es_Salaam", "Africa/Johannesburg",
    "Africa/Khartoum", "Africa/Kinshasa", "Africa/Lagos", "Africa/Luanda", "Africa/Maputo",
    "Africa/Nairobi", "Africa/Tripoli", "Africa/Tunis",
    # Americas
    "America/Anchorage", "America/Argentina/Buenos_Aires", "America/Asuncion",
    "America/Bogota", "America/Caracas", "America/Cayenne", "America/Chicago",
    "America/Costa_Rica", "America/Denver", "America/Edmonton", "America/Guadeloupe",
    "America/Guatemala", "America/Halifax", "America/Havana", "America/La_Paz",
    "America/Lima", "America/Los_Angeles", "America/Manaus", "America/Martinique",
    "America/Mexico_City", "America/Montevideo", "America/New_York", "America/Nuuk",
    "America/Panama", "America/Phoenix", "America/Puerto_Rico", "America/Regina",
    "America/Santiago", "America/Santo_Domingo", "America/Sao_Paulo", "America/St_Johns",
    "America/Tijuana", "America/Toronto", "America/Vancouver", "America/Winnipeg",
    # Asia
    "Asia/Almaty", "Asia/Amman", "Asia/Baghdad", "Asia/Baku", "Asia/Bangkok", "Asia/Beirut",
    "Asia/Colombo", "Asia/Dhaka", "Asia/Dubai", "Asia/Ho_Chi_Minh", "Asia/Hong_Kong",
    "Asia/Jakarta", "Asia/Jerusalem", "Asia/Kabul", "Asia/Karachi", "Asia/Kathmandu",
    "Asia/Kolkata", "Asia/Kuala_Lumpur", "Asia/Manila", "Asia/Novosibirsk", "Asia/Qatar",
    "Asia/Riyadh", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Taipei",
    "Asia/Tashkent", "Asia/Tbilisi", "Asia/Tehran", "Asia/Tokyo", "Asia/Vladivostok",
    "Asia/Yangon", "Asia/Yekaterinburg", "Asia/Yerevan",
    # Atlantic
    "Atlantic/Azores", "Atlantic/Canary", "Atlantic/Cape_Verde", "Atlantic/Reykjavik",
    # Australia
    "Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin", "Australia/Hobart",
    "Australia/Melbourne", "Australia/Perth", "Australia/Sydney",
    # Europe
    "Europe/Amsterdam", "Europe/Athens", "Europe/Belgrade", "Europe/Berlin",
    "Europe/Bratislava", "Europe/Brussels", "Europe/Bucharest", "Europe/Budapest",
    "Europe/Chisinau", "Europe/Copenhagen", "Europe/Dublin", "Europe/Helsinki",
    "Europe/Istanbul", "Europe/Kyiv", "Europe/Lisbon", "Europe/Ljubljana", "Europe/London",
    "Europe/Luxembourg", "Europe/Madrid", "Europe/Malta", "Europe/Minsk", "Europe/Monaco",
    "Europe/Moscow", "Europe/Oslo", "Europe/Paris", "Europe/Prague", "Europe/Riga",
    "Europe/Rome", "Europe/Sofia", "Europe/Stockholm", "Europe/Tallinn", "Europe/Vienna",
    "Europe/Vilnius", "Europe/Warsaw", "Europe/Zagreb", "Europe/Zurich",
    # Indian Ocean
    "Indian/Maldives", "Indian/Mauritius", "Indian/Reunion",
    # Pacific
    "Pacific/Auckland", "Pacific/Fiji", "Pacific/Guam", "Pacific/Honolulu", "Pacific/Noumea",
    "Pacific/Tahiti",
)  # fmt: skip


@dataclass(frozen=True)
class ZoneGroup:
    """A region of the list (`name` "" for the zones outside any region: UTC, a kept one)."""

    name: str
    zones: list[tuple[str, str]]  # (zone, label), by label


def zone_label(zone: str, *, at: datetime) -> str:
    """A zone as people look for it: its place and its offset at `at`, "New York (UTC−05:00)"."""
    place = zone.rsplit("/", 1)[-1].replace("_", " ")
    offset = at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or timedelta(0)
    return f"{place} ({utc_offset(offset)})"


def utc_offset(offset: timedelta) -> str:
    """An offset from UTC as "UTC+01:00", "UTC−05:00" (a minus sign, not a hyphen)."""
    minutes = int(offset.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes >= 0 else '−'}{hours:02d}:{rest:02d}"


def time_zone_groups(*, keep: str, at: datetime) -> list[ZoneGroup]:
    """The picked zones by region, each with its offset at `at`, after UTC; `keep` (the user's
    stored zone), when it is a zone outside the list, comes first under its own name."""
    known = zoneinfo.available_timezones()
    first = [("UTC", "UTC")]
    if keep and keep in known and keep not in PICKED_ZONES and keep != "UTC":
        first.insert(0, (keep, keep.replace("_", " ")))
    groups = [ZoneGroup("", first)]
    for prefix, name in REGIONS.items():
        zones = [z for z in PICKED_ZONES if z.split("/", 1)[0] == prefix and z in known]
        labelled = sorted(((z, zone_label(z, at=at)) for z in zones), key=lambda pair: pair[1])
        groups.append(ZoneGroup(str(name), labelled))
    return groups
