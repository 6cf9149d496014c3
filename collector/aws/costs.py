"""Cost Explorer GetCostAndUsage, daily, by service and linked account (and a cost-allocation tag).

Every request costs $0.01, so the window is only [since, until) plus the days before `since` that are not
settled yet; settled days are never asked for again. Days Cost Explorer marks `Estimated` come back as estimated
records, which ingest reads again until they are final. Effective cost is NetAmortizedCost: amortised commitments
after discounts (AmortizedCost is before them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from collector.aws.errors import AwsCaller
from collector.records import CostRecord

COST_METRICS = ("UnblendedCost", "NetAmortizedCost")
HISTORY_MONTHS = 13  # "The Cost Explorer API can access up to 13 months of historical data and the current month"


def cost_days(
    since: datetime | None, until: datetime, *, settled_after_days: int, history_days: int
) -> tuple[date, date]:
    """The [start, end) days to ask for: the days [since, until) touch, plus the unsettled days before since, never
    before the oldest day Cost Explorer keeps (older costs come from CUR files, the `billing` source).

    A day is settled once `settled_after_days` whole days have followed it (before `until`).
    """
    end = until.date() + timedelta(days=1) if until.time() != datetime.min.time() else until.date()
    first_unsettled = until.date() - timedelta(days=settled_after_days)
    start = until.date() - timedelta(days=history_days) if since is None else min(since.date(), first_unsettled)
    return max(start, oldest_day(until)), end


def oldest_day(until: datetime) -> date:
    """The first day Cost Explorer still answers for: it keeps 13 months of history and the current month."""
    months = until.year * 12 + until.month - 1 - HISTORY_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def query_pages(ce: AwsCaller, start: date, end: date, group_by: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
    """Every page of one GetCostAndUsage query, following NextPageToken."""
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(COST_METRICS),
        "GroupBy": group_by,
    }
    while True:
        page = ce.call("GetCostAndUsage", **params)
        yield page
        token = page.get("NextPageToken")
        if not token:
            return
        params["NextPageToken"] = token


def _amount(metrics: dict[str, Any], name: str) -> Decimal:
    return Decimal(str(metrics.get(name, {}).get("Amount", "0")))


def _unit(metrics: dict[str, Any]) -> str:
    return str(metrics.get("UnblendedCost", {}).get("Unit", "USD")) or "USD"


def cost_record(day: dict[str, Any], metrics: dict[str, Any], *, service: str, account: str, source: str) -> CostRecord:
    billed = _amount(metrics, "UnblendedCost")  # credits and refunds are negative and stay negative
    return CostRecord(
        provider="aws",
        charge_period_start=date.fromisoformat(day["TimePeriod"]["Start"]),
        charge_period_end=date.fromisoformat(day["TimePeriod"]["End"]),
        billed_cost=billed,
        effective_cost=_amount(metrics, "NetAmortizedCost"),
        list_cost=billed,  # Cost Explorer has no list price: unblended is the closest
        charge_category="Tax" if service == "Tax" else "Usage",
        service_name=service,
        sub_account_id=account,
        billing_currency=_unit(metrics),
        source=source,
        estimated=bool(day.get("Estimated", False)),
    )


def by_service_and_account(ce: AwsCaller, start: date, end: date, source: str) -> list[CostRecord]:
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
    records = []
    for page in query_pages(ce, start, end, group_by):
        for day in page.get("ResultsByTime", []):
            for group in day.get("Groups", []):
                service, account = (list(group.get("Keys", [])) + ["", ""])[:2]
                records.append(cost_record(day, group.get("Metrics", {}), service=service, account=account,
                                           source=source))  # fmt: skip
    return records


def tag_value(key: str) -> str:
    """Cost Explorer names a tag group "key$value" ("key$" when untagged)."""
    return key.split("$", 1)[1] if "$" in key else key


def split_by_tag(ce: AwsCaller, records: list[CostRecord], start: date, end: date, tag: str) -> list[CostRecord]:
    """Split the service x account lines by a cost-allocation tag where that is exact.

    Cost Explorer groups by two keys at most, so the tag query is service x tag. A (day, service) line is
    replaced by its per-tag lines only when one account has it, so totals never count anything twice;
    lines of a service spread over several accounts keep no tag.
    """
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": tag}]
    tagged: dict[tuple[date, str], list[tuple[str, dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for page in query_pages(ce, start, end, group_by):
        for day in page.get("ResultsByTime", []):
            for group in day.get("Groups", []):
                service, tag_key = (list(group.get("Keys", [])) + ["", ""])[:2]
                day_start = date.fromisoformat(day["TimePeriod"]["Start"])
                tagged[(day_start, service)].append((tag_value(tag_key), day, group.get("Metrics", {})))
    lines: dict[tuple[date, str], list[CostRecord]] = defaultdict(list)
    for rec in records:
        lines[(rec.charge_period_start, rec.service_name)].append(rec)
    out: list[CostRecord] = []
    for key, recs in lines.items():
        parts = tagged.get(key, [])
        if len(recs) != 1 or not parts:
            out.extend(recs)
            continue
        base = recs[0]
        for value, day, metrics in parts:
            line = cost_record(day, metrics, service=base.service_name, account=base.sub_account_id, source=base.source)
            # resource_id keeps the per-tag lines apart in the store's dedup key (which has no tags)
            if value:
                line = replace(line, tags={tag: value}, resource_id=f"tag:{tag}={value}")
            out.append(line)  # the untagged part keeps the key of the line it replaces
    return out
