"""Fixtures of the SLA tests."""

from __future__ import annotations

import pytest

from sla.models import SlaPolicyVersion, SlaTarget
from tests.factories import World


@pytest.fixture
def promises(world: World) -> SlaPolicyVersion:
    """The standard policy with a next reply of 2 business hours (blocking) or 1 business day
    (major), and an update every 4 business hours for blocking tickets."""
    version = SlaPolicyVersion.objects.get(policy__slug="standard")
    for severity, metric, amount, kind in (
        ("blocking", "next_reply", 2, "business_hours"),
        ("major", "next_reply", 1, "business_days"),
        ("blocking", "update", 4, "business_hours"),
    ):
        SlaTarget.objects.create(
            version=version, severity=severity, metric=metric, amount=amount, kind=kind
        )
    return version
