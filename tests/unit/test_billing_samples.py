"""Each real billing sample imports with the row count and cost totals of the file, summed here with csv."""

from __future__ import annotations

import ast
import csv
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from collector.billing import BillingFilesCollector, read_records
from collector.billing.reader import detect_format, read_header
from collector.config import BillingFilesSourceSettings

BILLING = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def file_rows(name: str) -> list[dict[str, str]]:
    with (BILLING / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def total(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows if r[column] not in ("", "NULL")), Decimal(0))


def gcp_credits(rows: list[dict[str, str]]) -> Decimal:
    amounts = (Decimal(repr(c["amount"])) for r in rows for c in ast.literal_eval(r["credits"] or "[]"))
    return sum(amounts, Decimal(0))


def cur_effective(rows: list[dict[str, str]]) -> Decimal:
    covered = "SavingsPlanCoveredUsage"
    return sum(
        (
            Decimal(
                r["savingsPlan/SavingsPlanEffectiveCost"]
                if r["lineItem/LineItemType"] == covered
                else r["lineItem/UnblendedCost"]
            )
            for r in rows
        ),
        Decimal(0),
    )


# file, format, expected (billed, effective) computed from the file itself
SAMPLES = {
    "focus_sample.csv": ("focus", lambda rows: (total(rows, "BilledCost"), total(rows, "EffectiveCost"))),
    "koku_test_cur.csv": ("aws_cur", lambda rows: (total(rows, "lineItem/UnblendedCost"),) * 2),
    "koku_aws_2023-06-01.csv": ("aws_cur", lambda rows: (total(rows, "lineItem/UnblendedCost"), cur_effective(rows))),
    "koku_azure_version_2.csv": ("azure_export", lambda rows: (total(rows, "CostInBillingCurrency"),) * 2),
    "EA_ActualCost_Small.csv": ("azure_export", lambda rows: (total(rows, "Cost"),) * 2),
    "koku_gcp_2020-11-08_2020-11-11.csv": (
        "gcp_export",
        lambda rows: (total(rows, "cost") + gcp_credits(rows),) * 2,
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_imports_with_the_files_row_count_and_totals(name: str) -> None:
    fmt, expected = SAMPLES[name]
    rows = file_rows(name)
    assert detect_format(BILLING / name, read_header(BILLING / name)).name == fmt
    records = list(read_records(BILLING / name))
    assert len(records) == len(rows) > 0
    billed, effective = expected(rows)
    assert sum(r.billed_cost for r in records) == billed
    assert sum(r.effective_cost for r in records) == effective
    assert all(isinstance(r.billed_cost, Decimal) and r.charge_period_end > r.charge_period_start for r in records)


def test_focus_list_cost_nulls_credits_and_tags() -> None:
    rows = file_rows("focus_sample.csv")
    records = list(read_records(BILLING / "focus_sample.csv"))
    assert sum(r.list_cost for r in records) == total(rows, "ListCost")
    # NULL literals become missing values, not the string "NULL"
    assert sum(r.region_id == "" for r in records) == sum(r["RegionId"] == "NULL" for r in rows) > 0
    assert sum(r.resource_id == "" for r in records) == sum(r["ResourceId"] == "NULL" for r in rows) > 0
    assert not any("NULL" in (r.region_id, r.resource_id, r.service_name) for r in records)
    # negative credits are kept, sign and all
    negatives = [r for r in records if r.billed_cost < 0]
    assert len(negatives) == sum(r["BilledCost"].startswith("-") for r in rows) > 0
    assert {r.charge_category for r in records} == {"Usage", "Adjustment", "Credit"}
    # Tags: a JSON object per row, or NULL
    tagged = [(rec, row) for rec, row in zip(records, rows, strict=True) if row["Tags"] != "NULL"]
    assert len(tagged) > 0
    assert all(rec.tags == {k: str(v) for k, v in json.loads(row["Tags"]).items()} for rec, row in tagged)
    assert all(rec.tags == {} for rec, row in zip(records, rows, strict=True) if row["Tags"] == "NULL")
    assert records[1].tags == {"application": "BrightLensMatrix", "environment": "dev", "business_unit": "ViennaAI"}
    assert {r.provider for r in records} == {"aws", "azure", "oracle"}
    # hourly lines cover their day
    assert (records[0].charge_period_start.isoformat(), records[0].charge_period_end.isoformat()) == (
        "2024-09-18",
        "2024-09-19",
    )


def test_provider_columns_map_to_focus_fields() -> None:
    ea = list(read_records(BILLING / "EA_ActualCost_Small.csv"))
    storage = next(r for r in ea if r.tags)
    assert storage.tags["env"] == "prod" and storage.tags["CostCenter"] == "1234"  # EA's brace-less JSON
    assert ea[0].charge_category == "Purchase" and ea[0].region_id == "uksouth"
    assert ea[0].sub_account_id == "1caaa5a3-2b66-438e-8ab4-bce37d518c5d" and ea[0].service_name == "Virtual Machines"
    cur = list(read_records(BILLING / "koku_aws_2023-06-01.csv"))
    assert {(r.region_id, r.sub_account_id, r.billing_currency, r.resource_id) for r in cur} == {
        ("us-west-1", "0099999999999", "NOK", "i-99995555")
    }
    gcp = list(read_records(BILLING / "koku_gcp_2020-11-08_2020-11-11.csv"))
    assert sum(r.list_cost for r in gcp) == total(file_rows("koku_gcp_2020-11-08_2020-11-11.csv"), "cost") > 0
    assert {r.sub_account_id for r in gcp} == {"billing-example-00000"} and gcp[0].region_id == "global"


def test_the_whole_fixture_folder_imports_and_windows_by_day() -> None:
    collector = BillingFilesCollector(BillingFilesSourceSettings(name="bills", path=BILLING))
    everything = list(collector.records(None, NOW))
    assert collector.errors == {}
    assert len(everything) == sum(len(file_rows(name)) for name in SAMPLES)
    assert list(collector.discover()) == [] and list(collector.collect_metrics(None, NOW)) == []
    window = list(collector.records(datetime(2024, 9, 18, 13, tzinfo=UTC), datetime(2024, 9, 19, tzinfo=UTC)))
    assert window and {r.charge_period_start.isoformat() for r in window} == {"2024-09-18"}
    expected = sum(1 for r in file_rows("focus_sample.csv") if r["ChargePeriodStart"].startswith("2024-09-18"))
    assert len(window) == expected


def test_fixtures_are_the_manifest_files() -> None:
    notice = (BILLING / "NOTICE").read_text()
    for name in SAMPLES:
        assert hashlib.sha256((BILLING / name).read_bytes()).hexdigest() in notice, name
