"""clean_series on the real NAB CloudWatch traces (DST duplicates, gaps) and on malformed input."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collector.base import CollectorError
from collector.cleaning import CleaningError, clean_series, load_series_csv, read_series_csv

NAB = Path(__file__).resolve().parents[1] / "fixtures" / "nab" / "realAWSCloudwatch"
HOUR = timedelta(minutes=60)


def reference_counts(path: Path, max_gap_s: int = 3600) -> dict[str, int]:
    """The same rules in plain Python (csv + datetime), to check the vectorised code against."""
    with path.open(newline="") as fh:
        rows = [
            (datetime.fromisoformat(r["timestamp"]).replace(tzinfo=UTC), float(r["value"])) for r in csv.DictReader(fh)
        ]
    last: dict[datetime, float] = {}
    for ts, value in rows:
        last[ts] = value  # keep the last row of each timestamp
    stamps = sorted(last)
    epoch = [int(ts.timestamp()) for ts in stamps]
    diffs = sorted(b - a for a, b in zip(epoch, epoch[1:], strict=False))
    step = diffs[len(diffs) // 2]
    slots: dict[int, int] = {}
    for e in epoch:
        slots[(e - epoch[0] + step // 2) // step] = e
    observed = sorted(slots)
    interpolated = long_gaps = missing_in_long = 0
    for a, b in zip(observed, observed[1:], strict=False):
        if b - a > 1:
            if (b - a) * step <= max_gap_s:
                interpolated += b - a - 1
            else:
                long_gaps += 1
                missing_in_long += b - a - 1
    return {
        "rows": len(rows),
        "duplicates": len(rows) - len(last),
        "off_grid": sum((e - epoch[0]) % step != 0 for e in epoch),
        "off_grid_dropped": len(epoch) - len(slots),
        "step": step,
        "interpolated": interpolated,
        "long_gaps": long_gaps,
        "grid": observed[-1] + 1,
        "missing": missing_in_long,
    }


@pytest.mark.parametrize("path", sorted(NAB.glob("*.csv")), ids=lambda p: p.stem)
def test_every_nab_file_matches_the_plain_python_reference(path: Path) -> None:
    series, report = load_series_csv(path, HOUR)
    ref = reference_counts(path)
    assert report.rows_read == ref["rows"]
    assert report.duplicates_dropped == ref["duplicates"]
    assert report.off_grid_rows == ref["off_grid"] and report.off_grid_dropped == ref["off_grid_dropped"]
    assert report.step_seconds == ref["step"] == 300
    assert report.points_interpolated == ref["interpolated"]
    assert len(report.long_gaps) == ref["long_gaps"] and report.missing_points == ref["missing"]
    assert len(series) == ref["grid"] and int(series.isna().sum()) == ref["missing"]
    assert report.unparseable_rows == 0 and report.out_of_order_rows == 0
    assert (np.diff(series.index.asi8) == 300 * 10**9).all() and str(series.index.tz) == "UTC"


def test_dst_duplicates_dropped_and_the_hour_before_interpolated() -> None:
    # 2014-03-09: 01:59, then twelve rows stamped 03:00, then 03:04 on the :04/:09 grid.
    series, report = load_series_csv(NAB / "ec2_disk_write_bytes_1ef3de.csv", HOUR)
    assert (report.rows_read, report.duplicates_dropped, report.off_grid_rows) == (4730, 11, 1)
    assert report.off_grid_dropped == 0 and report.long_gaps == []
    # 03:00 moves to the 02:59 slot, so 02:04 .. 02:54 (11 slots, 60 minutes between real samples) are filled
    assert report.points_interpolated == 11
    assert len(series) == report.points == 4730 and not series.isna().any()
    assert series.index[0] == pd.Timestamp("2014-03-01 17:34", tz="UTC")
    assert pd.Timestamp("2014-03-09 02:59", tz="UTC") in series.index
    assert pd.Timestamp("2014-03-09 03:00", tz="UTC") not in series.index


def test_dst_gap_over_an_hour_stays_a_gap_and_is_reported() -> None:
    # 01:56, twelve rows at 03:00 (the last one wins, then loses its 03:01 slot to the real 03:01 row)
    series, report = load_series_csv(NAB / "ec2_network_in_5abac7.csv", HOUR)
    assert (report.rows_read, report.duplicates_dropped) == (4730, 11)
    assert (report.off_grid_rows, report.off_grid_dropped, report.points_interpolated) == (1, 1, 0)
    [gap] = report.long_gaps
    assert gap.start == datetime(2014, 3, 9, 1, 56, tzinfo=UTC) and gap.end == datetime(2014, 3, 9, 3, 1, tzinfo=UTC)
    assert gap.missing_steps == 12
    assert series.isna().sum() == 12 and report.points == 4718
    assert series[pd.Timestamp("2014-03-09 03:01", tz="UTC")] == 86.4  # the real 03:01 row, not a 03:00 one
    assert "1 long gaps (12 steps left empty)" in report.summary()

    # with a longer allowance the same gap is interpolated, linearly between its two real neighbours
    series, report = load_series_csv(NAB / "ec2_network_in_5abac7.csv", timedelta(minutes=65))
    assert report.long_gaps == [] and report.points_interpolated == 12
    window = series["2014-03-09 01:56":"2014-03-09 03:01"].to_numpy()
    np.testing.assert_allclose(window, np.linspace(68.4, 86.4, 14))


def test_short_cloudwatch_gaps_are_interpolated() -> None:
    _, report = load_series_csv(NAB / "ec2_cpu_utilization_ac20cd.csv", HOUR)  # a 15- and a 20-minute gap
    assert report.points_interpolated == 2 + 3 and report.long_gaps == []
    _, report = load_series_csv(NAB / "elb_request_count_8c0756.csv", HOUR)  # eight 10-minute gaps
    assert report.points_interpolated == 8
    _, report = load_series_csv(NAB / "elb_request_count_8c0756.csv", timedelta(0))
    assert report.points_interpolated == 0 and len(report.long_gaps) == 8


def test_clean_file_comes_back_unchanged() -> None:
    path = NAB / "ec2_cpu_utilization_24ae8d.csv"
    series, report = load_series_csv(path, HOUR)
    raw = pd.read_csv(path)
    np.testing.assert_array_equal(series.to_numpy(), raw["value"].to_numpy())
    assert report.summary() == "4032 rows, step 300s, 4032 points"


def test_shuffled_rows_are_sorted_and_counted() -> None:
    path = NAB / "ec2_cpu_utilization_825cc2.csv"
    frame = read_series_csv(path)
    shuffled = frame.sample(frac=1.0, random_state=3)
    running_max = pd.to_datetime(shuffled["timestamp"]).cummax().shift(1)
    expected_out_of_order = int((pd.to_datetime(shuffled["timestamp"]) < running_max).sum())
    series, report = clean_series(shuffled, HOUR, source=path.name)
    reference, _ = clean_series(frame, HOUR)
    assert report.out_of_order_rows == expected_out_of_order > 1000
    np.testing.assert_array_equal(series.to_numpy(), reference.to_numpy())


def test_zoned_timestamps_are_converted_to_utc_and_naive_ones_read_as_utc() -> None:
    rows = [
        ("2024-03-31T00:00:00Z", 1.0),
        ("2024-03-31T02:05:00+02:00", 2.0),  # 00:05 UTC
        ("2024-03-31 00:10:00", 3.0),  # no zone: UTC
        ("2024-03-30T19:15:00-05:00", 4.0),  # 00:15 UTC
        ("2024-03-31T00:20:00.000+00:00", 5.0),
    ]
    series, report = clean_series(rows, HOUR)
    assert list(series.index) == list(pd.date_range("2024-03-31 00:00", periods=5, freq="5min", tz="UTC"))
    assert series.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0] and report.unparseable_rows == 0


def test_unparseable_rows_are_dropped_with_their_line_numbers(tmp_path: Path) -> None:
    lines = ["timestamp,value", "2024-01-01 00:00:00,1", "not a time,2", "", "2024-01-01 00:10:00,n/a"]
    lines += [f"2024-01-01 00:{m:02d}:00,{m}" for m in range(15, 60, 5)] + ["2024-01-01 01:00:00,"]
    path = tmp_path / "dirty.csv"
    path.write_text("\n".join(lines) + "\n")
    series, report = load_series_csv(path, HOUR)
    assert report.rows_read == 13 and report.unparseable_rows == 3
    assert report.unparseable_lines == [3, 5, 15]  # the blank line 4 is skipped, not counted
    assert report.points_interpolated == 2 and len(series) == 12  # 00:05 and 00:10 filled between 00:00 and 00:15


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        ("timestamp,value\n", "header only"),
        ("time,cpu\n2024-01-01 00:00:00,1\n", "lacks timestamp, value"),
        ("timestamp,reading\n2024-01-01 00:00:00,1\n", "lacks value"),
        ("timestamp,value\n2024-01-01 00:00:00,high\n2024-01-01 00:05:00,low\n", "value column is not numeric"),
        ("timestamp,value\nyesterday,1\ntoday,2\n", "no timestamp could be read (line 2"),
        ("timestamp,value\n2024-01-01 00:00:00,1\n", "at least two are needed"),
    ],
)
def test_malformed_csv_names_the_file_and_what_to_fix(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(content)
    with pytest.raises(CleaningError) as err:
        load_series_csv(path, HOUR)
    assert "broken.csv" in str(err.value) and message in str(err.value)
    assert isinstance(err.value, CollectorError)


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("timestamp,value\n2024-01-01 00:00:00,caf\xe9\n".encode("latin-1"))
    with pytest.raises(CleaningError, match="latin1.csv: not UTF-8"):
        load_series_csv(path, HOUR)
