"""API spend of collection: what each stream spent this month, the monthly budget gate, and `collect --estimate`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.base import Collector
from collector.records import ApiUsage
from services.db.models import IngestStreamRow

MONTH = timedelta(hours=730)  # the month of AWS's and Azure's price calculators


def month_key(now: datetime) -> str:
    return f"{now:%Y-%m}"


def month_end(now: datetime) -> datetime:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def record_usage(row: IngestStreamRow, usage: list[ApiUsage], now: datetime, *, scheduled: bool = True) -> Decimal:
    """Add a run's paid calls to the stream's month (a new month starts from zero); the run's cost in USD. A
    scheduled run's cost is kept as the guide to the next one's (budget_gate)."""
    if row.spend_month != month_key(now):
        row.spend_month, row.spend_calls, row.spend_usd = month_key(now), 0, Decimal(0)
    cost = sum((u.usd for u in usage), Decimal(0))
    row.spend_calls = (row.spend_calls or 0) + int(sum(u.calls for u in usage))
    row.spend_usd = Decimal(row.spend_usd or 0) + cost
    if scheduled:
        row.detail = {**(row.detail or {}), "last_run_usd": str(cost)}
    return cost


def month_spend(session: Session, source: str, now: datetime) -> Decimal:
    """What `source` has spent on paid API calls this calendar month, at list price."""
    total = session.scalar(
        select(func.sum(IngestStreamRow.spend_usd)).where(
            IngestStreamRow.source == source, IngestStreamRow.spend_month == month_key(now)
        )
    )
    return Decimal(total or 0)


@dataclass(frozen=True)
class BudgetDecision:
    due: bool
    reason: str = ""  # why the stream waits (slowed) or is refused; "" when the budget does not matter


def budget_gate(
    *, budget: float | None, spent: Decimal, last_run_usd: Decimal, cadence: timedelta, last_run_at: datetime | None,
    now: datetime, stream: str,
) -> BudgetDecision:
    """Run a paid stream only as often as the rest of the month's budget allows, judged by its last run's cost:
    slower than its cadence when the cadence would overspend, not at all when one more run would."""
    if budget is None or last_run_usd <= 0:
        return BudgetDecision(True)
    left = Decimal(str(budget)) - spent
    if left < last_run_usd:
        return BudgetDecision(False, f"{stream} refused: a run costs about ${last_run_usd:.4f} and only "
                                     f"${max(left, Decimal(0)):.2f} of the ${budget:.2f} monthly budget is left; "
                                     "raise monthly_budget_usd or lengthen the interval")  # fmt: skip
    remaining = month_end(now) - now
    affordable = int(left / last_run_usd)
    if remaining / max(cadence, timedelta(minutes=1)) <= affordable:
        return BudgetDecision(True)
    stretched = remaining / max(affordable, 1)
    slowed = (f"{stream} slowed to one run every {stretched.total_seconds() / 60:.0f} min to stay within the "
              f"${budget:.2f} monthly budget")  # fmt: skip
    return BudgetDecision(last_run_at is None or now >= last_run_at + stretched, slowed)


@dataclass(frozen=True)
class EstimateLine:
    source: str
    stream: str
    api: str
    calls_per_run: float
    runs_per_month: float
    usd_per_run: Decimal
    unit: str
    units_per_run: float

    @property
    def calls_per_month(self) -> float:
        return self.calls_per_run * self.runs_per_month

    @property
    def usd_per_month(self) -> Decimal:
        return self.usd_per_run * Decimal(str(self.runs_per_month))


def estimate(collector: Collector, interval: timedelta) -> list[EstimateLine]:
    """Per stream and API: calls and list-price dollars a run and a 730-hour month at the configured cadence."""
    lines = []
    for use in collector.estimate_run(interval):
        cadence = max(collector.stream_cadence.get(use.stream, timedelta(0)), interval)
        lines.append(EstimateLine(collector.name, use.stream, use.api, use.calls, MONTH / cadence, use.usd, use.unit,
                                  use.units))  # fmt: skip
    return lines
