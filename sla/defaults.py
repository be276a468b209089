"""The calendars and the `standard` policy of SLA-RULES.md, created on an empty database.

`seed_defaults` takes an app registry so that the data migration can pass its historical models;
tests call it with the live registry after a transactional test has flushed the tables.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

# The first version of a seeded policy is in force since before any ticket.
SINCE_ALWAYS = datetime(2000, 1, 1, tzinfo=UTC)

NINE, FOUR_PM, FIVE_PM = 9 * 60, 16 * 60, 17 * 60

CALENDARS = [
    # slug, name, time zone, holidays, weekly hours (weekday, start, end)
    (
        "europe",
        "Europe",
        "Europe/Berlin",
        ("DE", "NW"),
        [(d, NINE, FIVE_PM) for d in range(4)] + [(4, NINE, FOUR_PM)],
    ),
    (
        "north-america",
        "North America",
        "America/New_York",
        ("US", ""),
        [(d, NINE, FIVE_PM) for d in range(5)],
    ),
    ("france", "France", "Europe/Paris", ("FR", ""), [(d, NINE, FIVE_PM) for d in range(5)]),
]

STANDARD_TARGETS = [
    # severity, metric, amount, kind
    ("blocking", "acknowledgement", 5, "business_hours"),
    ("blocking", "correction", 1, "business_days"),
    ("major", "acknowledgement", 1, "business_days"),
    ("major", "correction", 2, "business_days"),
    ("minor", "acknowledgement", 2, "business_days"),
    ("minor", "correction", 5, "business_days"),
]


# Pause reasons every seeded policy lists beyond waiting on the customer: slug, English and
# French names, whether they pause the acknowledgement and the correction.
PAUSE_REASONS = [
    ("third_party", "Waiting on a third party", "En attente d’un tiers", False, True),
    (
        "customer_request",
        "On hold at the customer's request",
        "En pause à la demande du client",
        True,
        True,
    ),
]


def seed_pause_reasons(apps: Any, policy: Any) -> None:
    PauseReason = apps.get_model("sla", "PauseReason")
    for position, (slug, name, name_fr, ack, correction) in enumerate(PAUSE_REASONS):
        PauseReason.objects.get_or_create(
            policy=policy, slug=slug,
            defaults={"name": name, "name_fr": name_fr, "pauses_acknowledgement": ack,
                      "pauses_correction": correction, "position": position},
        )  # fmt: skip


def seed_defaults(apps: Any) -> None:  # Any: a live or historical app registry
    Calendar = apps.get_model("sla", "Calendar")
    OpeningInterval = apps.get_model("sla", "OpeningInterval")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    for slug, name, tz, (country, subdivision), hours in CALENDARS:
        calendar, created = Calendar.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "time_zone": tz,
                "holiday_country": country,
                "holiday_subdivision": subdivision,
            },
        )
        if created:
            OpeningInterval.objects.bulk_create(
                OpeningInterval(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
                for day, start, end in hours
            )
    policy, created = SlaPolicy.objects.get_or_create(
        slug="standard",
        defaults={"name": "Standard", "warning_percent": 75, "escalation_percent": 150},
    )
    if not created:
        return
    try:  # a registry from before policies had versions (sla 0011) keeps targets on the policy
        SlaPolicyVersion = apps.get_model("sla", "SlaPolicyVersion")
    except LookupError:
        SlaTarget.objects.bulk_create(
            SlaTarget(policy=policy, severity=s, metric=m, amount=a, kind=k)
            for s, m, a, k in STANDARD_TARGETS
        )
        return
    version = SlaPolicyVersion.objects.create(policy=policy, effective_at=SINCE_ALWAYS)
    with contextlib.suppress(LookupError):  # a registry from before pause reasons (sla 0015)
        seed_pause_reasons(apps, policy)
    SlaTarget.objects.bulk_create(
        SlaTarget(version=version, severity=s, metric=m, amount=a, kind=k)
        for s, m, a, k in STANDARD_TARGETS
    )
