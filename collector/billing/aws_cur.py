"""AWS Cost and Usage Report (legacy CUR, CSV or Parquet) lines as FOCUS-shaped CostRecords.

Columns are matched without case or punctuation, so lineItem/UsageStartDate (CSV) and
line_item_usage_start_date (Parquet, CUR 2.0) are the same column. Mapping:

- lineItem/UsageStartDate, lineItem/UsageEndDate -> charge_period_start / _end (days covered).
- lineItem/UnblendedCost -> billed_cost.
- effective_cost (amortised, as AWS's CUR query library has it): reservation/EffectiveCost for DiscountedUsage,
  savingsPlan/SavingsPlanEffectiveCost for SavingsPlanCoveredUsage, 0 for SavingsPlanNegation, SavingsPlanUpfrontFee
  and an RI's upfront Fee; the unused part only for RIFee (UnusedAmortizedUpfrontFeeForBillingPeriod +
  UnusedRecurringFee) and SavingsPlanRecurringFee (TotalCommitmentToDate - UsedCommitment); else the unblended cost.
  The fees stay Purchase lines with their full billed cost, so a commitment is never both billed and effective twice.
- list_cost: pricing/publicOnDemandCost when present, else the unblended cost.
- lineItem/LineItemType -> charge_category: Tax -> Tax; Credit and *Discount -> Credit; Refund ->
  Adjustment; Fee, RIFee, SavingsPlanUpfrontFee, SavingsPlanRecurringFee -> Purchase; the rest -> Usage.
- product/ProductName, else lineItem/ProductCode -> service_name; lineItem/ResourceId -> resource_id.
- product/region, else product/regionCode, else lineItem/AvailabilityZone without its zone letter -> region_id.
- lineItem/UsageAccountId -> sub_account_id; lineItem/CurrencyCode -> billing_currency.
- resourceTags/<key> (Parquet: resource_tags_<key>), and CUR 2.0's resource_tags map -> tags, empty ones left out.
"""

from __future__ import annotations

import re
from decimal import Decimal

from collector.billing.schema import BillingFormat
from collector.billing.values import Row, parse_tags, period_days
from collector.records import CostRecord

_CATEGORIES = {
    "Tax": "Tax",
    "Credit": "Credit",
    "Refund": "Adjustment",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
}
_ZONE_LETTER = re.compile(r"(?<=\d)[a-z]$")


def charge_category(line_item_type: str) -> str:
    if line_item_type.endswith("Discount"):
        return "Credit"
    return _CATEGORIES.get(line_item_type, "Usage")


def effective_cost(row: Row, line_item_type: str, unblended: Decimal) -> Decimal:
    """The amortised cost of a line, as AWS's CUR query library computes it: commitment fees carry only their unused
    part, because the used part is already in the effective cost of the usage lines they cover."""
    zero = Decimal(0)
    if line_item_type == "DiscountedUsage":
        return row.decimal("reservation/EffectiveCost", default=unblended)
    if line_item_type == "SavingsPlanCoveredUsage":
        return row.decimal("savingsPlan/SavingsPlanEffectiveCost", default=unblended)
    if line_item_type in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return zero
    if line_item_type == "RIFee":
        return row.decimal("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", default=zero) + row.decimal(
            "reservation/UnusedRecurringFee", default=zero
        )
    if line_item_type == "SavingsPlanRecurringFee":
        return row.decimal("savingsPlan/TotalCommitmentToDate", default=zero) - row.decimal(
            "savingsPlan/UsedCommitment", default=zero
        )
    if line_item_type == "Fee" and row.text("reservation/ReservationARN"):
        return zero  # an RI's upfront payment: amortised into the DiscountedUsage lines
    return unblended


def cur_tags(row: Row) -> dict[str, str]:
    """resourceTags/<key> columns (legacy CUR), resource_tags_<key> (legacy Parquet) and CUR 2.0's resource_tags map."""
    tags = {key: str(value) for key, value in row.prefixed("resourceTags/", "resource_tags_")}
    cur2 = row.get("resource_tags")
    if cur2 is not None and cur2 != "":
        tags.update({k: v for k, v in parse_tags(cur2).items() if v != ""})
    return tags


def cur_record(row: Row) -> CostRecord:
    first, last = period_days(row.timestamp("lineItem/UsageStartDate"), row.optional_timestamp("lineItem/UsageEndDate"))
    unblended = row.decimal("lineItem/UnblendedCost")
    line_item_type = row.text("lineItem/LineItemType") or "Usage"
    region = row.text("product/region", "product/regionCode")
    if not region:
        region = _ZONE_LETTER.sub("", row.text("lineItem/AvailabilityZone"))
    return CostRecord(
        provider="aws",
        charge_period_start=first,
        charge_period_end=last,
        billed_cost=unblended,
        effective_cost=effective_cost(row, line_item_type, unblended),
        list_cost=row.decimal("pricing/publicOnDemandCost", default=unblended),
        charge_category=charge_category(line_item_type),
        service_name=row.text("product/ProductName", "lineItem/ProductCode"),
        resource_id=row.text("lineItem/ResourceId"),
        region_id=region,
        sub_account_id=row.text("lineItem/UsageAccountId"),
        billing_currency=row.text("lineItem/CurrencyCode") or "USD",
        tags=cur_tags(row),
    )


AWS_CUR = BillingFormat(
    name="aws_cur",
    title="AWS CUR",
    required=("lineItem/UsageStartDate", "lineItem/UnblendedCost"),
    markers=(
        "lineItem/UsageStartDate",
        "lineItem/UnblendedCost",
        "lineItem/LineItemType",
        "lineItem/ProductCode",
        "identity/LineItemId",
        "bill/PayerAccountId",
    ),
    to_record=cur_record,
)
