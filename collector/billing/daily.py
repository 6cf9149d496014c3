"""Fold cost lines into one line per ingest key (day range, provider, service, resource, ...), summing costs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from collector.records import CostRecord

# the fields that identify a stored cost line (services.ingest.ingest.cost_dedup_key) plus the currency
LineKey = tuple[str, date, date, str, str, str, str, str, str]


def line_key(record: CostRecord) -> LineKey:
    return (
        record.provider,
        record.charge_period_start,
        record.charge_period_end,
        record.resource_id,
        record.service_name,
        record.charge_category,
        record.region_id,
        record.sub_account_id,
        record.billing_currency,
    )


class DailyLines:
    """Accumulates records: lines with the same key become one line whose costs are the sums and whose tags
    are those every folded line agrees on. Billing files hold hourly or per-SKU lines that share a key; stored
    one by one, each would overwrite the last."""

    def __init__(self) -> None:
        self.lines: dict[LineKey, CostRecord] = {}

    def add(self, record: CostRecord) -> None:
        key = line_key(record)
        seen = self.lines.get(key)
        if seen is None:
            self.lines[key] = record
            return
        self.lines[key] = replace(
            seen,
            billed_cost=seen.billed_cost + record.billed_cost,
            effective_cost=seen.effective_cost + record.effective_cost,
            list_cost=seen.list_cost + record.list_cost,
            tags={k: v for k, v in seen.tags.items() if record.tags.get(k) == v},
            source=seen.source if seen.source == record.source else "",
        )

    def update(self, records: Iterable[CostRecord]) -> None:
        for record in records:
            self.add(record)

    def merge(self, other: DailyLines) -> None:
        self.update(other.lines.values())
