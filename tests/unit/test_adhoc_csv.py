"""Parsing an uploaded CSV: one value per timestamp, the same for the forecast and the stored series (issue 20)."""

from __future__ import annotations

from services.forecasting.adhoc_forecast import parse_csv


def test_repeated_timestamps_keep_their_mean_once() -> None:
    raw = parse_csv(b"timestamp,value\n2026-10-01T00:00:00Z,1\n2026-10-01T01:00:00Z,5\n2026-10-01T00:00:00Z,3\n")
    assert raw.tolist() == [2.0, 5.0] and raw.index.is_unique and raw.index.is_monotonic_increasing
