"""The demo's bill: per machine and day a compute line and, on the clouds, a usage-priced line (data transfer and
storage) that follows the working week, grows month on month and now and then spikes; a credit per cloud account on
the 1st of each month. Every line is a function of (seed, machine or account, day) only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from collector.demo_fleet import DemoMachine
from collector.demo_random import key, normal, uniform
from collector.records import CostRecord

COMPUTE_SERVICES = {
    "aws": "Amazon Elastic Compute Cloud",
    "gcp": "Compute Engine",
    "azure": "Virtual Machines",
    "onprem": "On-Premises Compute",
}
TRANSFER_SERVICES = {"aws": "AWS Data Transfer", "gcp": "Cloud Storage", "azure": "Bandwidth"}
# Usage-priced spend of a machine on a weekday at GROWTH_EPOCH, as a share of its list compute cost; it grows by
# GROWTH_PER_MONTH (traffic and stored data grow, the machines do not), and drops at weekends.
TRANSFER_SHARE = 0.4
GROWTH_EPOCH = date(2026, 1, 1)
GROWTH_PER_MONTH = 0.04
WEEKEND_FACTOR = {"production": 0.7, "staging": 0.35, "dev": 0.2}
DAILY_NOISE = 0.08  # log-normal sigma of a day's usage-priced spend
# Every SPIKE_EVERY_DAYS days one production machine (drawn by the day) moves a backfill: SPIKE_FACTOR times its
# usual usage-priced spend, for that day only.
SPIKE_EVERY_DAYS = 23
SPIKE_FACTOR = 12.0


def _money(amount: float) -> Decimal:
    return Decimal(f"{amount:.6f}")


def _day_number(day: date) -> int:
    return day.toordinal() - date(1970, 1, 1).toordinal()


def spike_machine(fleet: Sequence[DemoMachine], day: date, seed: int) -> DemoMachine | None:
    """The production cloud machine whose usage-priced spend spikes on `day`, or None on an ordinary day."""
    n = _day_number(day)
    candidates = [m for m in fleet if m.provider in TRANSFER_SERVICES and m.environment == "production"]
    if n % SPIKE_EVERY_DAYS or not candidates:
        return None
    pick = uniform(key(seed, "spike"), np.array([n]))[0]
    return candidates[int(pick * len(candidates))]


def transfer_cost(m: DemoMachine, day: date, seed: int, spiking: bool = False) -> float:
    """A machine's usage-priced spend on `day`: weekday level, growth since GROWTH_EPOCH, daily noise, a spike."""
    n = np.array([_day_number(day)])
    months = (day - GROWTH_EPOCH).days / 30.4375
    level = m.entry.hourly_price * 24.0 * TRANSFER_SHARE * (1.0 + GROWTH_PER_MONTH) ** months
    week = 1.0 if day.weekday() < 5 else WEEKEND_FACTOR[m.environment]
    noise = float(np.exp(DAILY_NOISE * normal(key(seed, m.index, "transfer"), n)[0]))
    return level * week * noise * (SPIKE_FACTOR if spiking else 1.0)


def cost_records(fleet: Sequence[DemoMachine], days: Sequence[date], seed: int, source: str) -> Iterator[CostRecord]:
    """The demo bill of `days`: compute and usage-priced lines per machine, credits on the 1st."""
    accounts = sorted({(m.provider, m.account) for m in fleet if m.provider != "onprem"})
    for day in days:
        spiking = spike_machine(fleet, day, seed)
        for m in fleet:
            yield from _machine_lines(m, day, seed, source, spiking=m is spiking)
        if day.day != 1:
            continue
        for provider, account in accounts:
            u = uniform(key(seed, account, "credit"), np.array([0]))[0]
            credit = -(40.0 + 160.0 * float(u))
            yield CostRecord(
                provider=provider,
                charge_period_start=day,
                charge_period_end=day + timedelta(days=1),
                billed_cost=_money(credit),
                effective_cost=_money(credit),
                list_cost=Decimal("0"),
                charge_category="Credit",
                service_name=COMPUTE_SERVICES[provider],
                sub_account_id=account,
                source=source,
            )


def _machine_lines(m: DemoMachine, day: date, seed: int, source: str, *, spiking: bool) -> Iterator[CostRecord]:
    """The compute line (list price, or the 1-year price when committed) and a cloud machine's usage-priced line."""
    entry = m.entry
    list_cost = entry.hourly_price * 24.0
    effective = (entry.price_1y or entry.hourly_price) * 24.0 if m.committed else list_cost
    common: dict[str, Any] = {
        "provider": m.provider,
        "charge_period_start": day,
        "charge_period_end": day + timedelta(days=1),
        "resource_id": m.resource_id,
        "region_id": m.region,
        "sub_account_id": m.account,
        "source": source,
    }
    yield CostRecord(
        billed_cost=_money(effective),
        effective_cost=_money(effective),
        list_cost=_money(list_cost),
        charge_category="Usage",
        service_name=COMPUTE_SERVICES[m.provider],
        tags={**m.tags, **({"commitment": "1y"} if m.committed else {})},
        **common,
    )
    if m.provider not in TRANSFER_SERVICES:
        return
    usage = _money(transfer_cost(m, day, seed, spiking))
    yield CostRecord(
        billed_cost=usage,
        effective_cost=usage,
        list_cost=usage,
        charge_category="Usage",
        service_name=TRANSFER_SERVICES[m.provider],
        tags=dict(m.tags),
        **common,
    )
