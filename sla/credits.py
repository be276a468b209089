"""Service credits: what a contract owes its organization for a month, from its credit table.

- Availability: the line with the lowest threshold the month's availability falls under
  (99 % → 25 % beats 99.5 % → 10 % when availability is 98.7 %); none when the month has no
  measured time.
- Missed promises: each clock breached among the month's tickets (received that month, as
  the monthly report counts them), for the line's metric and severity (empty: any), owes the
  line's share.
- The sum is capped by the contract's cap, if any; the amount is the share of the monthly fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sla.availability.arithmetic import Availability, month_bounds
from sla.availability.selectors import availability_of
from sla.models import Contract, ServiceCredit
from sla.reports.figures import Report, ReportFilter, report_tickets, sla_report
from tickets.models import Organization, Ticket

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditLine:
    rule: ServiceCredit
    count: int  # missed promises counted (1 for availability)
    percent: Decimal  # of the monthly fee


@dataclass(frozen=True)
class MonthCredit:
    contract: Contract
    lines: list[CreditLine]
    percent: Decimal  # the total, capped
    capped: bool
    amount: Decimal | None  # None: the contract has no fee
    availability: Decimal | None  # the month's, measured

    @property
    def owed(self) -> bool:
        return self.percent > 0


def contract_of_month(organization_id: int, first: date, last: date) -> Contract | None:
    """The contract that covers the month's last day, else the last one in it."""
    contracts = Contract.objects.filter(
        organization_id=organization_id, starts_on__lte=last, ends_on__gte=first
    ).prefetch_related("credits")
    covering = [c for c in contracts if c.starts_on <= last <= c.ends_on]
    ordered = covering or sorted(contracts, key=lambda c: c.ends_on)
    return ordered[-1] if ordered else None


def _availability_line(rules: list[ServiceCredit], availability: Availability) -> CreditLine | None:
    percent = availability.percent
    if percent is None:
        return None
    under = [r for r in rules if r.below_percent is not None and percent < r.below_percent]
    if not under:
        return None
    worst = min(under, key=lambda r: r.below_percent or Decimal(0))
    return CreditLine(worst, 1, worst.percent)


def _missed(report: Report, metric: str, severity: str) -> int:
    return sum(
        g.breached
        for g in report.groups
        if g.metric == metric and (not severity or g.severity == severity)
    )


def month_credit(
    contract: Contract | None, *, report: Report, availability: Availability
) -> MonthCredit | None:
    """The credit a contract owes for a month, from the month's report and availability;
    None when there is no contract or its table is empty."""
    if contract is None:
        return None
    rules = list(contract.credits.all())
    if not rules:
        return None
    basis = ServiceCredit.Basis
    lines = []
    line = _availability_line([r for r in rules if r.basis == basis.AVAILABILITY], availability)
    if line is not None:
        lines.append(line)
    for rule in rules:
        if rule.basis in (basis.ACKNOWLEDGEMENT, basis.CORRECTION):
            count = _missed(report, rule.basis, rule.severity)
            if count:
                lines.append(CreditLine(rule, count, rule.percent * count))
    total = sum((line.percent for line in lines), Decimal(0))
    cap = contract.credit_cap_percent
    capped = cap is not None and total > cap
    percent = min(total, cap) if cap is not None else total
    amount = (
        (contract.monthly_fee * percent / 100).quantize(CENT, ROUND_HALF_UP)
        if contract.monthly_fee is not None
        else None
    )
    return MonthCredit(contract, lines, percent, capped, amount, availability.percent)


def months_of(year: int, now: datetime) -> list[int]:
    """The months of a year up to `now`'s."""
    return list(range(1, (now.month if now.year == year else 12) + 1))


def credit_for_month(
    organization: Organization, *, year: int, month: int, zone: ZoneInfo, now: datetime
) -> MonthCredit | None:
    """The credit owed to an organization for one month (four queries and its tickets'
    figures), as the monthly report shows it."""
    start, end = month_bounds(year, month, zone)
    contract = contract_of_month(organization.pk, start.date(), (end - timedelta(days=1)).date())
    if contract is None:
        return None
    filters = ReportFilter(start=start, end=end, organization_id=organization.pk)
    tickets = report_tickets(Ticket.objects.all(), filters)
    return month_credit(
        contract,
        report=sla_report(tickets, start=start, end=end, zone=zone),
        availability=availability_of(organization, start=start, end=end, now=now),
    )
