"""`headroom collect --estimate`: per source and stream, the paid API calls a run and a month make, at list price."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from cli.output import Output, emit, out
from services.settings import Settings

COLUMNS = ("source", "stream", "api", "calls_per_run", "calls_per_month", "usd_per_run", "usd_per_month",
           "monthly_budget_usd")  # fmt: skip


def estimate_rows(settings: Settings, names: list[str]) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """One row per (source, stream, paid API), and each source's month in USD; discovery (free) runs to count what
    a run would ask for."""
    from services.ingest.sources import build_collector
    from services.ingest.spend import estimate

    interval = timedelta(minutes=settings.collect_interval_minutes)
    rows: list[dict[str, Any]] = []
    months: dict[str, Decimal] = {}
    for name in names:
        collector = build_collector(settings, name)
        collector.check()
        lines = estimate(collector, interval)
        months[name] = sum((line.usd_per_month for line in lines), Decimal(0))
        for line in lines:
            rows.append({
                "source": line.source, "stream": line.stream, "api": line.api,
                "calls_per_run": round(line.calls_per_run, 2), "calls_per_month": round(line.calls_per_month),
                "usd_per_run": line.usd_per_run.quantize(Decimal("0.0001")),
                "usd_per_month": line.usd_per_month.quantize(Decimal("0.01")),
                "monthly_budget_usd": collector.monthly_budget_usd,
            })  # fmt: skip
    return rows, months


def print_estimate(settings: Settings, names: list[str], output: Output) -> None:
    rows, months = estimate_rows(settings, names)
    if not rows and output is Output.table:
        out.print(f"no paid API calls: {', '.join(names)} read free APIs or files")
        return
    emit(rows, COLUMNS, output, title=f"API spend at list price (runs every {settings.collect_interval_minutes} min, "
                                      "730-hour month)")  # fmt: skip
    if output is Output.table:
        for name, month in months.items():
            out.print(f"{name}: about ${month:,.2f} a month")
