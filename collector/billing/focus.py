"""FOCUS 1.0-1.2 billing data (CSV or Parquet) as CostRecords.

Mapping (FOCUS column -> CostRecord field):

- ChargePeriodStart / ChargePeriodEnd (timestamps) -> charge_period_start / charge_period_end, as the days
  they cover (an hour inside a day is that day, [day, day + 1)).
- BilledCost, EffectiveCost, ListCost -> Decimal, exactly as written; negative credits stay negative. An
  empty EffectiveCost or ListCost falls back to BilledCost.
- ChargeCategory (Usage, Purchase, Tax, Credit, Adjustment) -> charge_category.
- ServiceName, ResourceId, RegionId (1.0-preview: Region), SubAccountId, BillingCurrency -> same fields.
- ProviderName (1.3: ServiceProviderName) -> provider: "AWS" -> aws, "Microsoft"/"Azure" -> azure,
  "Google Cloud" -> gcp, anything else lower-cased.
- Tags (a JSON object) -> tags.

The literal string NULL (any case) and empty cells are missing values.
"""

from __future__ import annotations

import re

from collector.billing.schema import BillingFormat
from collector.billing.values import Row, parse_tags, period_days
from collector.records import CostRecord

_PROVIDERS = {
    "aws": "aws",
    "amazon web services": "aws",
    "microsoft": "azure",
    "azure": "azure",
    "microsoft azure": "azure",
    "google cloud": "gcp",
    "google": "gcp",
    "gcp": "gcp",
}


def provider_of(name: str) -> str:
    """Headroom's provider label for a FOCUS ProviderName."""
    lowered = name.strip().lower()
    return _PROVIDERS.get(lowered) or re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")[:32] or "unknown"


def focus_record(row: Row) -> CostRecord:
    start = row.timestamp("ChargePeriodStart")
    first, last = period_days(start, row.optional_timestamp("ChargePeriodEnd"))
    billed = row.decimal("BilledCost")
    return CostRecord(
        provider=provider_of(row.text("ProviderName", "ServiceProviderName", "Provider")),
        charge_period_start=first,
        charge_period_end=last,
        billed_cost=billed,
        effective_cost=row.decimal("EffectiveCost", default=billed),
        list_cost=row.decimal("ListCost", default=billed),
        charge_category=row.text("ChargeCategory") or "Usage",
        service_name=row.text("ServiceName"),
        resource_id=row.text("ResourceId"),
        region_id=row.text("RegionId", "Region"),
        sub_account_id=row.text("SubAccountId"),
        billing_currency=row.text("BillingCurrency") or "USD",
        tags=parse_tags(row.get("Tags")),
    )


FOCUS = BillingFormat(
    name="focus",
    title="FOCUS",
    required=("BilledCost", "ChargePeriodStart", "ChargePeriodEnd"),
    markers=("BilledCost", "ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost", "ListCost"),
    to_record=focus_record,
)
