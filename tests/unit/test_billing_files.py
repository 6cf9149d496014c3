"""Billing files: Parquet, malformed files beside good ones, synthetic edge cases, idempotent ingest into SQLite."""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from collector.base import CollectorError
from collector.billing import BillingFileError, BillingFilesCollector, read_records
from collector.config import BillingFilesSourceSettings
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import CostRow
from services.ingest.ingest import run_collector
from services.metrics import open_metric_store

BILLING = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
FOCUS_CSV = BILLING / "focus_sample.csv"
NOW = datetime(2026, 11, 20, tzinfo=UTC)
COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity")
TIMES = ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")


def source(path: Path, **extra: object) -> BillingFilesCollector:
    return BillingFilesCollector(BillingFilesSourceSettings.model_validate({"name": "bills", "path": path, **extra}))


def focus_rows() -> list[dict[str, str]]:
    with FOCUS_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def focus_as_parquet(path: Path) -> Path:
    """The FOCUS sample typed as a FOCUS Parquet export would be: decimals, UTC timestamps, real nulls, a map."""
    rows = focus_rows()

    def cell(value: str) -> str | None:
        return None if value == "NULL" else value

    columns: dict[str, pa.Array] = {}
    for name in rows[0]:
        values = [cell(r[name]) for r in rows]
        if name in COSTS:
            columns[name] = pa.array([None if v is None else Decimal(v) for v in values], pa.decimal128(38, 15))
        elif name in TIMES:
            stamps = [None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC) for v in values]
            columns[name] = pa.array(stamps, pa.timestamp("s", tz="UTC"))
        elif name == "Tags":
            maps = [None if v is None else list(json.loads(v).items()) for v in values]
            columns[name] = pa.array(maps, pa.map_(pa.string(), pa.string()))
        else:
            columns[name] = pa.array(values, pa.string())
    pq.write_table(pa.table(columns), path)
    return path


def test_focus_parquet_round_trip_gives_the_csv_totals(tmp_path: Path) -> None:
    from_csv = list(read_records(FOCUS_CSV))
    from_parquet = list(read_records(focus_as_parquet(tmp_path / "focus.parquet")))
    assert len(from_parquet) == len(from_csv) == 1000
    for field in ("billed_cost", "effective_cost", "list_cost"):
        assert sum(getattr(r, field) for r in from_parquet) == sum(getattr(r, field) for r in from_csv)
    strip = [(r.charge_period_start, r.service_name, r.region_id, r.resource_id, r.tags) for r in from_csv]
    assert [(r.charge_period_start, r.service_name, r.region_id, r.resource_id, r.tags) for r in from_parquet] == strip


def test_a_malformed_file_is_named_and_the_others_still_import(tmp_path: Path) -> None:
    shutil.copy(BILLING / "EA_ActualCost_Small.csv", tmp_path / "azure.csv")
    rows = focus_rows()
    with (tmp_path / "focus_no_billed.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [c for c in rows[0] if c != "BilledCost"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows[:5])
    (tmp_path / "notes.csv").write_text("when,what\n2024-01-01,lunch\n")
    collector = source(tmp_path)
    records = list(collector.records(None, NOW))
    assert len(records) == 11 and {r.provider for r in records} == {"azure"}
    assert set(collector.errors) == {str(tmp_path / "focus_no_billed.csv"), str(tmp_path / "notes.csv")}
    missing = collector.errors[str(tmp_path / "focus_no_billed.csv")]
    assert "focus_no_billed.csv" in missing and "FOCUS" in missing and "BilledCost" in missing
    unknown = collector.errors[str(tmp_path / "notes.csv")]
    assert "notes.csv" in unknown and "lineItem/UnblendedCost" in unknown
    assert all("\n" not in message for message in collector.errors.values())
    # the same file alone, or a format forced on a file that lacks its columns, fails with the same message
    with pytest.raises(CollectorError, match=r"focus_no_billed\.csv.*BilledCost"):
        list(source(tmp_path / "focus_no_billed.csv").collect_costs(None, NOW))
    with pytest.raises(
        BillingFileError, match=r"azure\.csv: looks like GCP billing export but lacks .*usage_start_time"
    ):
        list(read_records(tmp_path / "azure.csv", "gcp_export"))


def test_a_bad_cell_names_the_line_and_drops_the_whole_file(tmp_path: Path) -> None:
    lines = FOCUS_CSV.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("NULL,0.00000000000,", "NULL,zero,", 1)  # BilledCost of the 3rd data row
    (tmp_path / "focus.csv").write_text("\n".join(lines) + "\n")
    shutil.copy(BILLING / "koku_test_cur.csv", tmp_path / "cur.csv")
    collector = source(tmp_path)
    assert len(list(collector.collect_costs(None, NOW))) > 0
    assert collector.rows_read == {str(tmp_path / "cur.csv"): 19}
    assert collector.errors[str(tmp_path / "focus.csv")].endswith("line 4: BilledCost 'zero' is not a number")


def test_cur_tags_categories_and_parquet_style_names(tmp_path: Path) -> None:
    header = [
        "lineItem/UsageStartDate",
        "lineItem/UsageEndDate",
        "lineItem/UnblendedCost",
        "lineItem/LineItemType",
        "lineItem/ProductCode",
        "lineItem/AvailabilityZone",
        "resourceTags/user:team",
        "resourceTags/user:app",
    ]
    data = [
        ["2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z", "1.5", "Usage", "AmazonEC2", "eu-west-1b", "core", ""],
        ["2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z", "-2.25", "Credit", "AmazonEC2", "", "", ""],
        ["2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", "0.3", "Tax", "AmazonEC2", "", "", ""],
        ["2024-03-02T00:00:00Z", "2024-03-02T01:00:00Z", "0.1", "EdpDiscount", "AmazonS3", "", "", "web"],
    ]
    with (tmp_path / "cur.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *data])
    usage, credit, tax, discount = read_records(tmp_path / "cur.csv")
    assert usage.tags == {"user:team": "core"} and discount.tags == {"user:app": "web"}
    assert usage.region_id == "eu-west-1" and usage.service_name == "AmazonEC2"
    assert (credit.charge_category, credit.billed_cost) == ("Credit", Decimal("-2.25"))
    assert (credit.charge_period_start.isoformat(), credit.charge_period_end.isoformat()) == (
        "2024-03-01",
        "2024-04-01",
    )
    assert (tax.charge_category, discount.charge_category) == ("Tax", "Credit")
    snake = {
        "line_item_usage_start_date": [datetime(2024, 3, 1, tzinfo=UTC)],
        "line_item_unblended_cost": [0.1],
        "line_item_product_code": ["AmazonS3"],
        "resource_tags_user_team": ["data"],
    }
    pq.write_table(pa.table(snake), tmp_path / "cur2.parquet")
    (record,) = read_records(tmp_path / "cur2.parquet")
    assert (record.billed_cost, record.tags, record.provider) == (Decimal("0.1"), {"user_team": "data"}, "aws")


def test_importing_twice_adds_nothing(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    collector = source(BILLING)

    def stored() -> tuple[int, Decimal, Decimal]:
        with session_scope(db_url) as session:
            count = session.scalar(select(func.count()).select_from(CostRow))
            billed = session.scalar(select(func.sum(CostRow.billed_cost)))
            effective = session.scalar(select(func.sum(CostRow.effective_cost)))
        return int(count or 0), Decimal(billed or 0), Decimal(effective or 0)

    first = run_collector(collector, db_url=db_url, metric_store=store, until=NOW)
    count, billed, effective = stored()
    lines = list(collector.records(None, NOW))
    assert first.costs == count and 0 < count < len(lines)  # hourly lines folded into daily ones
    # every line is stored (at 6 decimals): the stored sums are the files' sums
    assert billed == pytest.approx(sum(r.billed_cost for r in lines), abs=Decimal("1e-6") * count)
    assert effective == pytest.approx(sum(r.effective_cost for r in lines), abs=Decimal("1e-6") * count)
    again = run_collector(collector, db_url=db_url, metric_store=store, until=NOW)
    assert again.costs == 0 and stored() == (count, billed, effective)
    run_collector(collector, db_url=db_url, metric_store=store, until=NOW, backfill=timedelta(days=3650))
    assert stored() == (count, billed, effective)
    store.close()


def test_a_file_added_later_is_imported_by_the_next_incremental_run(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    folder = tmp_path / "bills"
    folder.mkdir()
    shutil.copy(BILLING / "koku_azure_version_2.csv", folder)
    collector = source(folder)
    assert run_collector(collector, db_url=db_url, metric_store=store, until=NOW).costs == 5
    # last month's CUR arrives after that run: its lines are old, but the file is new in the next window
    late = shutil.copy(BILLING / "koku_test_cur.csv", folder)
    written = (NOW + timedelta(hours=1)).timestamp()
    os.utime(late, (written, written))
    os.utime(folder / "koku_azure_version_2.csv", (NOW.timestamp() - 60, NOW.timestamp() - 60))
    second = run_collector(collector, db_url=db_url, metric_store=store, until=NOW + timedelta(days=1))
    assert second.costs == len(list(collector.collect_costs(None, NOW))) - 5 > 0
    assert run_collector(collector, db_url=db_url, metric_store=store, until=NOW + timedelta(days=2)).costs == 0
    store.close()
