"""bench/forecast_hindsight.py: the hindsight choices among baselines, on hand-made scores."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.forecast_hindsight import hindsight


def _scores() -> pd.DataFrame:
    rows = [
        # series a: baseline x wins origin 1, y wins origin 2; headroom in between
        ("a", 1, "x", 1.0), ("a", 2, "x", 3.0), ("a", 1, "y", 2.0), ("a", 2, "y", 1.0),
        ("a", 1, "headroom", 1.5), ("a", 2, "headroom", 0.5),
        # series b: x always best
        ("b", 1, "x", 1.0), ("b", 2, "x", 1.0), ("b", 1, "y", 4.0), ("b", 2, "y", 4.0),
        ("b", 1, "headroom", 2.0), ("b", 2, "headroom", 2.0),
    ]
    return pd.DataFrame(rows, columns=["series", "origin", "model", "mase"])


def test_hindsight_choices_among_baselines() -> None:
    lines = dict(hindsight(_scores(), "headroom", 0.9))
    assert lines["x"] == pytest.approx((2.0 + 1.0) / 2)  # per-series means 2.0 and 1.0
    assert lines["y"] == pytest.approx((1.5 + 4.0) / 2)
    assert lines["target: 0.9 x the best single baseline (x)"] == pytest.approx(0.9 * 1.5)
    assert lines["hindsight: the best baseline of each series"] == pytest.approx((1.5 + 1.0) / 2)  # y on a, x on b
    assert lines["hindsight: the best baseline of each (series, origin)"] == pytest.approx((1.0 + 1.0) / 2)
    assert lines["hindsight: the best of each (series, origin), headroom included"] == pytest.approx((0.75 + 1.0) / 2)


def test_hindsight_needs_a_baseline() -> None:
    only_product = _scores().query("model == 'headroom'")
    with pytest.raises(SystemExit, match="no baseline"):
        hindsight(only_product, "headroom", 0.9)
