"""FilesCollector on the 17 real NAB CloudWatch files: resources, metrics, windows, shifting and bad files."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from collector.base import CollectorError
from collector.config import FilesSourceSettings
from collector.files import FilesCollector, infer_metric

NAB = Path(__file__).resolve().parents[1] / "fixtures" / "nab" / "realAWSCloudwatch"


def nab(path: Path = NAB, **overrides: object) -> FilesCollector:
    settings = FilesSourceSettings(name="nab", path=path, **overrides)  # type: ignore[arg-type]
    return FilesCollector(settings, now=datetime(2026, 5, 4, 9, 42, 10, tzinfo=UTC))


def test_one_resource_per_file_with_metric_from_the_file_name() -> None:
    collector = nab()
    resources = list(collector.discover())
    assert len(resources) == 17 and collector.errors == {}
    assert {r.resource_id for r in resources} >= {"nab/ec2_cpu_utilization_24ae8d", "nab/grok_asg_anomaly"}
    assert all(r.kind == "vm" and r.provider == "aws" for r in resources)
    metrics = {
        b.series.resource_id: (b.series.metric, b.series.unit)
        for b in collector.collect_metrics(None, datetime.now(UTC))
    }
    assert metrics["nab/ec2_cpu_utilization_24ae8d"] == ("cpu_utilization", "percent")
    assert metrics["nab/rds_cpu_utilization_e47b3b"] == ("cpu_utilization", "percent")
    assert metrics["nab/ec2_disk_write_bytes_1ef3de"] == ("disk_write_bytes", "bytes")
    assert metrics["nab/iio_us-east-1_i-a2eb1cd9_NetworkIn"] == ("network_in_bytes", "bytes")
    assert metrics["nab/elb_request_count_8c0756"] == ("request_count", "count")
    assert metrics["nab/grok_asg_anomaly"] == ("value", "")
    assert infer_metric("host1_CPUUtilization.csv") == "cpu_utilization"


def test_long_gaps_are_not_emitted_and_windows_split_cleanly() -> None:
    collector = nab()
    until = datetime(2015, 1, 1, tzinfo=UTC)
    whole = {b.series.series_id: b for b in collector.collect_metrics(None, until)}
    gappy = whole["nab/ec2_network_in_5abac7/network_in_bytes"]
    assert len(gappy) == 4718 == collector.reports["ec2_network_in_5abac7.csv"].points
    assert np.isfinite(gappy.values).all()
    assert not ((gappy.timestamps > 1394330160) & (gappy.timestamps < 1394334060)).any()  # 01:56 .. 03:01 UTC

    cut = datetime(2014, 3, 9, 2, 30, tzinfo=UTC)
    first = {b.series.series_id: b for b in collector.collect_metrics(None, cut)}
    second = {b.series.series_id: b for b in collector.collect_metrics(cut, until)}
    for sid, batch in whole.items():
        parts = [p for p in (first.get(sid), second.get(sid)) if p is not None]
        np.testing.assert_array_equal(np.concatenate([p.timestamps for p in parts]), batch.timestamps)
        np.testing.assert_array_equal(np.concatenate([p.values for p in parts]), batch.values)


def test_shift_to_now_ends_every_series_at_now_floored_to_its_step() -> None:
    collector = nab(shift_to_now=True)
    end = int(datetime(2026, 5, 4, 9, 40, tzinfo=UTC).timestamp())
    batches = list(collector.collect_metrics(None, datetime(2026, 5, 4, 9, 40, 1, tzinfo=UTC)))
    assert len(batches) == 17
    assert {int(b.timestamps[-1]) for b in batches} == {end}
    lengths = {b.series.resource_id: len(b) for b in batches}
    assert lengths["nab/ec2_cpu_utilization_24ae8d"] == 4032 and lengths["nab/ec2_network_in_5abac7"] == 4718
    assert all((b.timestamps % 300 == 0).all() for b in batches)
    # the sample at `now` itself is outside [since, now)
    assert all(b.timestamps[-1] < end for b in collector.collect_metrics(None, datetime.fromtimestamp(end, UTC)))


def test_report_lists_every_file_and_the_long_gap() -> None:
    collector = nab()
    list(collector.discover())
    text = collector.format_report()
    assert text.count(".csv:") == 17
    assert "ec2_network_in_5abac7.csv: 4730 rows, step 300s, 4718 points" in text
    assert "long gap 2014-03-09 01:56 .. 2014-03-09 03:01 UTC (12 steps missing)" in text


def test_one_bad_file_does_not_lose_the_others(tmp_path: Path) -> None:
    shutil.copy(NAB / "ec2_cpu_utilization_24ae8d.csv", tmp_path)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "words.csv").write_text("timestamp,value\n2024-01-01 00:00:00,up\n2024-01-01 00:05:00,down\n")
    (tmp_path / "notes.txt").write_text("not a series")
    collector = nab(tmp_path)
    assert [r.name for r in collector.discover()] == ["ec2_cpu_utilization_24ae8d"]
    assert set(collector.errors) == {"empty.csv", "words.csv"}
    assert "empty.csv: file is empty" in collector.errors["empty.csv"]
    assert "value column is not numeric" in collector.errors["words.csv"] and "line 2" in collector.errors["words.csv"]
    assert "words.csv: ERROR" in collector.format_report()


def test_nothing_readable_raises_with_every_reason(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("time,cpu\n2024-01-01 00:00:00,1\n")
    (tmp_path / "b.csv").write_text("")
    with pytest.raises(
        CollectorError, match=r"none of 2 files could be read: .*a\.csv.*lacks timestamp, value.*b\.csv"
    ):
        list(nab(tmp_path).discover())


def test_directory_without_csv_or_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("nothing here")
    with pytest.raises(CollectorError, match="no .csv files in"):
        list(nab(tmp_path).collect_metrics(None, datetime.now(UTC)))
    with pytest.raises(CollectorError, match="is not a directory"):
        list(nab(tmp_path / "missing").discover())
