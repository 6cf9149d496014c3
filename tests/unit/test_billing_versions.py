"""Export folders built from the real samples: versions of a month, month-to-date runs, actual beside amortized,
commitment fees. Stored totals must be the current version's, summed here from the files with csv."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collector.billing import BillingFilesCollector
from collector.billing.versions import current_deliveries, period_of
from collector.config import BillingFilesSourceSettings
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import CostRow
from services.ingest.ingest import run_collector
from services.metrics import open_metric_store

BILLING = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
NOW = datetime(2026, 11, 20, tzinfo=UTC)
Rows = list[dict[str, str]]


def rows_of(name: str) -> Rows:
    with (BILLING / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, rows: Rows, when: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def manifest(path: Path, keys: list[str], when: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"assemblyId": keys[0].split("/")[-2], "reportKeys": keys, "reportName": "hourly"}))
    os.utime(path, (when.timestamp(), when.timestamp()))


def total(rows: Rows, column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


def with_cost(rows: Rows, column: str, scale: Callable[[dict[str, str]], Decimal]) -> Rows:
    return [{**r, column: str(Decimal(r[column]) * scale(r))} for r in rows]


class Totals(tuple[int, Decimal, Decimal]):
    """(lines, billed, effective) as stored: each line is kept to 6 decimal places, so sums agree to 1e-6 a line."""

    def same(self, billed: Decimal, effective: Decimal | None = None) -> bool:
        err = Decimal("1e-6") * max(1, self[0])
        return abs(self[1] - billed) <= err and (effective is None or abs(self[2] - effective) <= err)


def stored(db_url: str) -> Totals:
    with session_scope(db_url) as session:
        count = session.scalar(select(func.count()).select_from(CostRow)) or 0
        billed = session.scalar(select(func.sum(CostRow.billed_cost))) or Decimal(0)
        effective = session.scalar(select(func.sum(CostRow.effective_cost))) or Decimal(0)
    return Totals((count, Decimal(billed), Decimal(effective)))


@pytest.fixture
def ingest(tmp_path: Path) -> Callable[[Path, datetime], Totals]:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)

    def run(folder: Path, until: datetime) -> Totals:
        collector = BillingFilesCollector(BillingFilesSourceSettings(name="bills", path=folder))
        result = run_collector(collector, db_url=db_url, metric_store=store, until=until)
        assert result.failures == {} and collector.errors == {}
        return stored(db_url)

    return run


def test_period_folders_name_half_open_ranges() -> None:
    assert period_of(Path("20180601-20180701")) == (datetime(2018, 6, 1).date(), datetime(2018, 7, 1).date())
    assert period_of(Path("20230901-20230930")) == (datetime(2023, 9, 1).date(), datetime(2023, 10, 1).date())
    assert period_of(Path("BILLING_PERIOD=2023-12")) == (datetime(2023, 12, 1).date(), datetime(2024, 1, 1).date())
    assert period_of(Path("2023-12")) is None


def test_a_cur_folder_imports_the_manifests_version_and_a_redelivery_replaces_it(tmp_path: Path, ingest) -> None:  # type: ignore[no-untyped-def]
    real = rows_of("koku_test_cur.csv")  # June 2018
    month = tmp_path / "cur" / "hourly" / "20180601-20180701"
    old = NOW - timedelta(days=3)
    # version 1, re-delivered the next day as version 2 (the real file): AWS moves the manifest to the new version
    write(month / "assembly-1" / "hourly-1.csv", with_cost(real, "lineItem/UnblendedCost", lambda _: Decimal(3)), old)
    manifest(month / "assembly-1" / "hourly-Manifest.json", ["p/hourly/20180601-20180701/assembly-1/hourly-1.csv"],
             old)  # fmt: skip
    write(month / "assembly-2" / "hourly-1.csv", real, old + timedelta(days=1))
    manifest(month / "hourly-Manifest.json", ["p/hourly/20180601-20180701/assembly-2/hourly-1.csv"],
             old + timedelta(days=1))  # fmt: skip
    real_total = total(real, "lineItem/UnblendedCost")
    assert ingest(tmp_path / "cur", NOW).same(real_total, real_total)  # the manifest's version, once

    # a third version drops the last lines: re-importing leaves exactly its totals, not the old lines beside them
    newer = real[:-4]
    delivered = NOW + timedelta(hours=1)
    write(month / "assembly-3" / "hourly-1.csv", newer, delivered)
    manifest(month / "hourly-Manifest.json", ["p/hourly/20180601-20180701/assembly-3/hourly-1.csv"], delivered)
    again = ingest(tmp_path / "cur", NOW + timedelta(hours=2))
    assert again.same(total(newer, "lineItem/UnblendedCost")) and not again.same(real_total)


def test_azure_month_to_date_files_replace_each_other(tmp_path: Path, ingest) -> None:  # type: ignore[no-untyped-def]
    real = rows_of("EA_ActualCost_Small.csv")  # 4, 5 and 21 September 2023
    month = tmp_path / "exports" / "daily-actual-cost" / "20230901-20230930"
    run_days = sorted({r["Date"] for r in real})
    for n, day in enumerate(run_days):  # each day's run holds the month so far; its last day still partial
        so_far = [r for r in real if r["Date"] <= day]
        partial = with_cost(so_far, "Cost", lambda r, d=day: Decimal("0.5") if r["Date"] == d else Decimal(1))
        rows = so_far if n == len(run_days) - 1 else partial
        write(month / f"daily-actual-cost_{n:08d}-4e1c-9f0a-5d2b7c3e8a11.csv", rows, NOW - timedelta(days=9 - n))
    deliveries, superseded = current_deliveries(tmp_path / "exports", sorted(month.iterdir()), [])
    assert [len(d.files) for d in deliveries] == [1] and len(superseded) == len(run_days) - 1
    assert ingest(tmp_path / "exports", NOW).same(total(real, "Cost"), total(real, "Cost"))


def test_actual_and_amortized_exports_of_a_month_are_not_summed(tmp_path: Path, ingest) -> None:  # type: ignore[no-untyped-def]
    actual = rows_of("EA_ActualCost_Small.csv")
    (purchase,) = [r for r in actual if r["ChargeType"] == "Purchase"]
    usage = [r for r in actual if r["ChargeType"] == "Usage"]
    # the amortized view of the same month: no purchase line, a twelfth of it spread over the usage lines
    share = Decimal(purchase["Cost"]) / 12 / len(usage)
    amortized = [{**r, "Cost": str(Decimal(r["Cost"]) + share)} for r in usage]
    write(tmp_path / "exports" / "ea-actual-cost" / "20230901-20230930" / "ea-actual-cost_1.csv", actual, NOW)
    write(tmp_path / "exports" / "ea-amortized-cost" / "20230901-20230930" / "ea-amortized-cost_1.csv", amortized,
          NOW)  # fmt: skip
    assert ingest(tmp_path / "exports", NOW + timedelta(hours=1)).same(total(actual, "Cost"), total(amortized, "Cost"))


def test_commitment_fees_add_no_double_spend(tmp_path: Path, ingest) -> None:  # type: ignore[no-untyped-def]
    covered = rows_of("koku_aws_2023-06-01.csv")  # three SavingsPlanCoveredUsage hours of June 2023
    used = total(covered, "savingsPlan/SavingsPlanEffectiveCost")
    commitment = Decimal("2.50")
    base = covered[0]
    negation = [{**r, "lineItem/LineItemType": "SavingsPlanNegation",
                 "lineItem/UnblendedCost": str(-Decimal(r["lineItem/UnblendedCost"]))} for r in covered]  # fmt: skip
    fee = {**base, "lineItem/LineItemType": "SavingsPlanRecurringFee", "lineItem/ResourceId": "",
           "lineItem/UnblendedCost": str(commitment), "savingsPlan/SavingsPlanEffectiveCost": "",
           "savingsPlan/TotalCommitmentToDate": str(commitment), "savingsPlan/UsedCommitment": str(used)}  # fmt: skip
    # a reserved instance: its hours as DiscountedUsage at the RI's effective rate, its monthly RIFee
    ri_hours = [{**r, "lineItem/LineItemType": "DiscountedUsage", "lineItem/ResourceId": "i-reserved",
                 "lineItem/UnblendedCost": "0", "reservation/EffectiveCost": "0.04",
                 "savingsPlan/SavingsPlanEffectiveCost": ""} for r in covered]  # fmt: skip
    ri_fee = {**base, "lineItem/LineItemType": "RIFee", "lineItem/ResourceId": "", "lineItem/UnblendedCost": "0.20",
              "reservation/UnusedRecurringFee": "0.08", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "0",
              "savingsPlan/SavingsPlanEffectiveCost": ""}  # fmt: skip
    rows = [*covered, *negation, fee, *ri_hours, ri_fee]
    columns = dict.fromkeys(k for r in rows for k in r)
    write(tmp_path / "cur" / "june.csv", [{k: r.get(k, "") for k in columns} for r in rows], NOW)
    _, billed, effective = ingest(tmp_path / "cur", NOW + timedelta(hours=1))  # exact: the figures have few digits
    # what AWS charged: the Savings Plan commitment and the RI fee (covered usage is negated)
    assert billed == commitment + Decimal("0.20")
    # amortised: used commitment on the covered hours + the unused rest on the fee, RI hours + the RI's unused fee
    assert effective == used + (commitment - used) + 3 * Decimal("0.04") + Decimal("0.08")
    assert effective < billed + used  # the fees are not counted on top of the usage they cover


def test_cur_2_resource_tags_are_kept(tmp_path: Path) -> None:
    real = rows_of("koku_aws_2023-06-01.csv")
    tagged = [{**r, "resource_tags": json.dumps({"user_team": "web", "user_env": ""})} for r in real]
    write(tmp_path / "cur2.csv", tagged, NOW)
    collector = BillingFilesCollector(BillingFilesSourceSettings(name="bills", path=tmp_path / "cur2.csv"))
    records = list(collector.collect_costs(None, NOW))
    assert records and all(r.tags.get("user_team") == "web" and "user_env" not in r.tags for r in records)
