"""Azure Cost Management exports (EA and MCA, actual or amortized cost, CSV or Parquet) as CostRecords.

Columns are matched without case, so the PascalCase (EA, older MCA) and camelCase (newer exports) names
both work. Mapping (first column present wins):

- Date, UsageDate (ISO 8601, EA's MM/DD/YYYY, or YYYYMMDD) -> charge_period_start; the end is the next day.
- CostInBillingCurrency, PreTaxCost, Cost -> billed_cost and effective_cost (an amortized export's cost is
  its effective cost; import actual-cost exports for billed figures).
- list_cost: PayGPrice x Quantity when PayGPrice is positive, else the billed cost.
- ChargeType -> charge_category: Usage, UnusedReservation, UnusedSavingsPlan -> Usage; Purchase -> Purchase;
  Refund -> Credit; Tax -> Tax; RoundingAdjustment and anything else -> Adjustment.
- MeterCategory, ServiceName, ConsumedService -> service_name; ResourceId, InstanceId -> resource_id.
- ResourceLocation, else MeterRegion -> region_id, lower-cased without spaces ("UK South" -> uksouth);
  "Unassigned" is left empty.
- SubscriptionGuid, SubscriptionId -> sub_account_id.
- BillingCurrencyCode, BillingCurrency, Currency -> billing_currency.
- Tags: a JSON object, or EA's brace-less '"key": "value", ...' -> tags.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from collector.billing.schema import BillingFormat
from collector.billing.values import Row, parse_tags
from collector.records import CostRecord

_CATEGORIES = {
    "usage": "Usage",
    "unusedreservation": "Usage",
    "unusedsavingsplan": "Usage",
    "purchase": "Purchase",
    "refund": "Credit",
    "tax": "Tax",
}


def charge_category(charge_type: str) -> str:
    return _CATEGORIES.get(charge_type.lower(), "Adjustment") if charge_type else "Usage"


def region_of(location: str) -> str:
    region = location.replace(" ", "").lower()
    return "" if region == "unassigned" else region


def azure_record(row: Row) -> CostRecord:
    day = row.timestamp("Date", "UsageDate").date()
    cost = row.decimal("CostInBillingCurrency", "PreTaxCost", "Cost")
    payg = row.decimal("PayGPrice", default=Decimal(0))
    quantity = row.decimal("Quantity", default=Decimal(0))
    return CostRecord(
        provider="azure",
        charge_period_start=day,
        charge_period_end=day + timedelta(days=1),
        billed_cost=cost,
        effective_cost=cost,
        list_cost=payg * quantity if payg > 0 else cost,
        charge_category=charge_category(row.text("ChargeType")),
        service_name=row.text("MeterCategory", "ServiceName", "ConsumedService"),
        resource_id=row.text("ResourceId", "InstanceId"),
        region_id=region_of(row.text("ResourceLocation", "MeterRegion")),
        sub_account_id=row.text("SubscriptionGuid", "SubscriptionId"),
        billing_currency=row.text("BillingCurrencyCode", "BillingCurrency", "Currency") or "USD",
        tags=parse_tags(row.get("Tags")),
    )


AZURE_EXPORT = BillingFormat(
    name="azure_export",
    title="Azure cost export",
    required=("Date|UsageDate", "CostInBillingCurrency|PreTaxCost|Cost"),
    markers=("MeterCategory", "SubscriptionGuid", "CostInBillingCurrency", "PreTaxCost", "MeterId", "ResourceGroup"),
    to_record=azure_record,
)
