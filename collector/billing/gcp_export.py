"""Google Cloud billing export rows (BigQuery standard or detailed export saved as CSV/Parquet) as CostRecords.

Nested fields appear flattened with dots (service.description). Mapping:

- usage_start_time, usage_end_time -> charge_period_start / _end (days covered).
- cost + the sum of credits[].amount -> billed_cost and effective_cost: the export carries credits
  (free trial, sustained/committed use discounts) inside the row, and the invoice nets them.
  credits may be JSON or, in CSVs written by Python tools, a Python literal.
- cost_at_list when present, else cost -> list_cost.
- cost_type -> charge_category: regular -> Usage, tax -> Tax, adjustment and rounding_error -> Adjustment.
- service.description -> service_name; resource.global_name, resource.name -> resource_id.
- location.region, else location.location -> region_id; project.id -> sub_account_id; currency.
- project.labels, then labels (resource labels win) -> tags; both are lists of {key, value}.
"""

from __future__ import annotations

from decimal import Decimal

from collector.billing.schema import BillingFormat
from collector.billing.values import CellError, Row, parse_structure, parse_tags, period_days, to_decimal
from collector.records import CostRecord

_CATEGORIES = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding_error": "Adjustment"}


def credits_total(value: object) -> Decimal:
    """The sum of the amounts of a credits cell ([] or missing: 0)."""
    if value is None:
        return Decimal(0)
    credits = parse_structure(value)
    if not isinstance(credits, list):
        raise CellError(f"credits {str(value)[:60]!r} are not a list")
    return sum((to_decimal(c.get("amount", 0), "credits.amount") for c in credits if isinstance(c, dict)), Decimal(0))


def gcp_record(row: Row) -> CostRecord:
    first, last = period_days(row.timestamp("usage_start_time"), row.optional_timestamp("usage_end_time"))
    cost = row.decimal("cost")
    net = cost + credits_total(row.get("credits"))
    return CostRecord(
        provider="gcp",
        charge_period_start=first,
        charge_period_end=last,
        billed_cost=net,
        effective_cost=net,
        list_cost=row.decimal("cost_at_list", default=cost),
        charge_category=_CATEGORIES.get(row.text("cost_type").lower(), "Usage"),
        service_name=row.text("service.description"),
        resource_id=row.text("resource.global_name", "resource.name"),
        region_id=row.text("location.region", "location.location"),
        sub_account_id=row.text("project.id"),
        billing_currency=row.text("currency") or "USD",
        tags={**parse_tags(row.get("project.labels")), **parse_tags(row.get("labels"))},
    )


GCP_EXPORT = BillingFormat(
    name="gcp_export",
    title="GCP billing export",
    required=("usage_start_time", "cost"),
    markers=("usage_start_time", "service.description", "sku.description", "billing_account_id", "invoice.month"),
    to_record=gcp_record,
)
