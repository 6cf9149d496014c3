"""Daily costs of a subscription from the Cost Management Query API (actual and amortized), as CostRecords."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.costmanagement import CostManagementClient
from azure.mgmt.costmanagement.models import (
    QueryAggregation,
    QueryDataset,
    QueryDefinition,
    QueryGrouping,
    QueryTimePeriod,
)

from collector.base import CollectorError
from collector.records import CostRecord

# The Query API allows two groupings: resource and service. Region is read when a row carries it.
GROUPING = ("ResourceId", "ServiceName")
COST_COLUMNS = ("Cost", "PreTaxCost", "CostUSD", "PreTaxCostUSD")
CostKey = tuple[date, str, str, str, str]  # day, resource id, service, region, currency
COST_TYPES = ("ActualCost", "AmortizedCost")  # one query each per subscription: billed, then effective cost


@dataclass
class Page:
    columns: list[str]
    rows: list[list[Any]]
    next_link: str | None


def query_definition(cost_type: str, first_day: date, last_day: date) -> QueryDefinition:
    """A daily query of `cost_type` (ActualCost or AmortizedCost) over [first_day, last_day], grouped by GROUPING."""
    return QueryDefinition(
        type=cost_type,
        timeframe="Custom",
        time_period=QueryTimePeriod(
            from_property=datetime.combine(first_day, time.min, UTC),
            to=datetime.combine(last_day, time(23, 59, 59), UTC),
        ),
        dataset=QueryDataset(
            granularity="Daily",
            aggregation={"totalCost": QueryAggregation(name="Cost", function="Sum")},
            grouping=[QueryGrouping(type="Dimension", name=name) for name in GROUPING],
        ),
    )


def query_pages(client: CostManagementClient, subscription: str, definition: QueryDefinition) -> Iterator[Page]:
    """Every page of one query: the first through query.usage, the rest by POSTing the same body to nextLink."""
    result = client.query.usage(f"subscriptions/{subscription}", definition)
    if result is None:  # 204: no data for this scope
        return
    page = Page([c.name or "" for c in result.columns or []], list(result.rows or []), result.next_link)
    yield page
    body = definition.as_dict()
    while page.next_link:
        response = client.send_request(HttpRequest("POST", page.next_link, json=body))
        if response.status_code == 204:
            return
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        props = response.json().get("properties") or {}
        page = Page(
            [c.get("name", "") for c in props.get("columns") or []], props.get("rows") or [], props.get("nextLink")
        )
        yield page


def _usage_date(value: Any) -> date:
    """UsageDate comes as a number 20240131 (Daily) or an ISO string."""
    text = str(int(value)) if isinstance(value, int | float) else str(value)
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _cell(row: list[Any], index: dict[str, int], column: str) -> str:
    at = index.get(column)
    return str(row[at] or "") if at is not None and at < len(row) else ""


def sum_rows(pages: Iterator[Page], totals: dict[CostKey, Decimal]) -> None:
    """Add each row's cost into totals by (day, resource, service, region, currency); columns come per page."""
    for page in pages:
        index = {name.lower(): i for i, name in enumerate(page.columns)}
        cost_at = next((index[c.lower()] for c in COST_COLUMNS if c.lower() in index), None)
        if cost_at is None or "usagedate" not in index:
            raise CollectorError(f"azure: Cost Management answered without a cost or UsageDate column: {page.columns}")

        for row in page.rows:
            key = (
                _usage_date(row[index["usagedate"]]),
                _cell(row, index, "resourceid").lower(),
                _cell(row, index, "servicename"),
                _cell(row, index, "resourcelocation").lower(),
                _cell(row, index, "currency") or "USD",
            )
            totals[key] = totals.get(key, Decimal(0)) + Decimal(str(row[cost_at] or 0))


def collect_subscription_costs(
    pages_for: Callable[[str], Iterator[Page]], subscription: str, first_day: date, last_day: date, source: str
) -> Iterator[CostRecord]:
    """CostRecords for [first_day, last_day]: billed = ActualCost, effective = AmortizedCost.

    The Query API has no list price, so ListCost is the billed cost (no discount known).
    """
    actual: dict[CostKey, Decimal] = {}
    amortized: dict[CostKey, Decimal] = {}
    for cost_type, totals in zip(COST_TYPES, (actual, amortized), strict=True):
        sum_rows(pages_for(cost_type), totals)
    for key in sorted(actual.keys() | amortized.keys()):
        day, resource_id, service, region, currency = key
        if not first_day <= day <= last_day:
            continue
        billed = actual.get(key, Decimal(0))
        yield CostRecord(
            provider="azure",
            charge_period_start=day,
            charge_period_end=day + timedelta(days=1),
            billed_cost=billed,
            effective_cost=amortized.get(key, Decimal(0)),
            list_cost=billed,
            charge_category="Usage",
            service_name=service,
            resource_id=resource_id,
            region_id=region,
            sub_account_id=subscription,
            billing_currency=currency,
            source=source,
        )
