"""The forecast benchmark: M4 metrics by hand, rolling origins, no peeking, aggregation, `headroom eval` end to end."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cli.eval import eval_command
from ml_engine import MSTL, Forecast, Forecaster, ForecastError, SeasonalNaive
from ml_engine.evaluation import (
    OriginResult,
    Protocol,
    ProtocolError,
    evaluate_origin,
    evaluate_series,
    mase,
    msis,
    origin_positions,
    per_series,
    protocol_for_step,
    ratios_to_reference,
    seasonal_naive_scale,
    summarize,
)
from ml_engine.metrics import coverage, smape

NAB = Path(__file__).parents[1] / "fixtures" / "nab" / "realAWSCloudwatch"
FAST_MODELS = "seasonal_naive,mstl"


def test_seasonal_naive_scale_and_mase_by_hand() -> None:
    history = np.array([1.0, 2.0, 3.0, 5.0, 4.0, 6.0])
    # lag-2 differences |3-1|, |5-2|, |4-3|, |6-5| = 2, 3, 1, 1 -> mean 1.75
    assert seasonal_naive_scale(history, 2) == pytest.approx(1.75)
    # absolute errors 1 and 1 -> MAE 1, scaled by 1.75
    assert mase(np.array([4.0, 6.0]), np.array([3.0, 7.0]), 1.75) == pytest.approx(1 / 1.75)
    assert seasonal_naive_scale(np.array([1.0, 2.0, 1.0, 2.0]), 2) is None  # a perfect seasonal history scales nothing
    assert np.isnan(mase(np.array([1.0]), np.array([2.0]), None))
    assert seasonal_naive_scale(np.array([1.0, np.nan, 4.0, 2.0]), 2) == pytest.approx(3.0)  # pairs with NaN skipped


def test_smape_counts_zero_over_zero_as_zero() -> None:
    # 0/0 -> 0; 2*50/150 = 2/3; 0 -> mean 2/9 on the 0-200 scale
    assert smape(np.array([0.0, 100.0, 50.0]), np.array([0.0, 50.0, 50.0])) == pytest.approx(200 / 9)
    assert smape(np.array([0.0]), np.array([0.0])) == 0.0
    assert smape(np.array([0.0]), np.array([3.0])) == pytest.approx(200.0)


def test_coverage_counts_the_bounds_as_inside() -> None:
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    assert coverage(actual, np.array([0.0, 2.5, 3.0, 0.0]), np.array([2.0, 3.0, 3.0, 3.0])) == 0.5


def test_msis_worked_example() -> None:
    # alpha 0.05 -> penalty 2/alpha = 40 per unit outside the band
    actual = np.array([10.0, 5.0, 20.0])
    lower = np.array([8.0, 6.0, 12.0])
    upper = np.array([12.0, 9.0, 18.0])
    # inside: width 4; below by 1: 3 + 40; above by 2: 6 + 80 -> mean 133/3, scaled by 2
    assert msis(actual, lower, upper, 2.0) == pytest.approx(133 / 3 / 2)
    assert np.isnan(msis(actual, lower, upper, None))


def test_protocol_for_five_minute_and_hourly_steps() -> None:
    assert protocol_for_step(pd.Timedelta(minutes=5)) == Protocol(season_length=288, horizon=288, origins=3)
    assert protocol_for_step(pd.Timedelta(hours=1)) == Protocol(season_length=24, horizon=168, origins=3)
    with pytest.raises(ProtocolError, match="does not divide a day"):
        protocol_for_step(pd.Timedelta(minutes=7))


def test_origin_positions() -> None:
    protocol = Protocol(season_length=24, horizon=100)
    assert origin_positions(1000, protocol) == [700, 800, 900]  # the last at len - h, each h before the next
    assert origin_positions(325, protocol) == [25, 125, 225]  # the first history holds one season and one point
    with pytest.raises(ProtocolError, match="need at least 325"):
        origin_positions(324, protocol)


class PeekGuard(Forecaster):
    """Seasonal naive that refuses any history running into the future of an origin it was told about."""

    name = "peek_guard"
    origins: Sequence[pd.Timestamp] = ()
    seen: list[int] = []

    def fit(self, y: pd.Series) -> PeekGuard:
        step = y.index[1] - y.index[0]
        if y.index[-1] + step not in self.origins:
            raise ForecastError(f"peeked: history ends at {y.index[-1]}, past or away from every origin")
        self.seen.append(len(y))
        self._model = SeasonalNaive(self.season_length).fit(y)
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        return self._model.predict(horizon, levels)


def test_models_never_see_past_the_origin() -> None:
    y = hourly_cpu()
    protocol = Protocol(season_length=24, horizon=48)
    positions = origin_positions(len(y), protocol)
    PeekGuard.origins = [y.index[p] for p in positions]
    PeekGuard.seen = []
    with pytest.raises(ForecastError, match="peeked"):
        PeekGuard(24).fit(y)  # the guard does refuse the whole series
    results = list(evaluate_series("cpu", y, protocol, {"guard": PeekGuard}))
    assert [r.note for r in results] == ["", "", ""]
    assert PeekGuard.seen == positions
    for result, position in zip(results, positions, strict=True):
        assert result.origin == y.index[position] and result.forecast is not None
        assert result.forecast.index[0] == y.index[position] and len(result.forecast) == 48
        assert result.scored == 48 and np.isfinite([result.mase, result.msis]).all()


def test_long_gap_is_interpolated_for_fitting_and_not_scored() -> None:
    y = hourly_cpu().copy()
    protocol = Protocol(season_length=24, horizon=48)
    position = origin_positions(len(y), protocol)[-1]
    y.iloc[position - 30 : position - 20] = np.nan  # in the history
    y.iloc[position + 5 : position + 8] = np.nan  # in the forecast window
    result = evaluate_origin("cpu", y, position, protocol, "seasonal_naive", SeasonalNaive)
    assert result.answered_by == "seasonal_naive"
    assert result.note == "10 missing history points interpolated for fitting"
    assert result.scored == 45 and np.isfinite(result.mase)


def test_aggregate_is_mean_and_median_over_series_of_the_mean_over_origins() -> None:
    def result(series: str, origin: int, mase_value: float, seconds: float) -> OriginResult:
        stamp = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=origin)
        return OriginResult(series, stamp, "m", "m", 100, 10, mase_value, 10.0, 0.8, 0.9, 5.0, seconds)

    rows = [result("a", 0, 1.0, 1.0), result("a", 1, 3.0, 1.0), result("b", 0, 0.5, 2.0), result("b", 1, 0.5, 2.0)]
    rows.append(result("c", 0, 4.0, 0.5))
    summary = summarize(per_series(rows)).loc["m"]
    # per series: a 2.0, b 0.5, c 4.0 -> mean 6.5/3, median 2.0; seconds summed per series: 2, 4, 0.5
    assert summary["mean MASE"] == pytest.approx(6.5 / 3)
    assert summary["median MASE"] == pytest.approx(2.0)
    assert summary["seconds/series"] == pytest.approx(6.5 / 3)
    assert summary["cov95"] == pytest.approx(0.9)


def test_worst_case_ratios_to_seasonal_naive_on_the_same_series_and_origin() -> None:
    def result(model: str, series: str, origin: int, mase_value: float) -> OriginResult:
        stamp = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=origin)
        return OriginResult(series, stamp, model, model, 100, 10, mase_value, 10.0, 0.8, 0.9, 5.0, 1.0)

    rows = [result("seasonal_naive", s, o, v) for s, o, v in [("a", 0, 1.0), ("a", 1, 1.0), ("b", 0, 2.0)]]
    rows += [result("m", "a", 0, 0.5), result("m", "a", 1, 3.5), result("m", "b", 0, 1.0)]
    ratios = ratios_to_reference(rows).loc["m"]
    assert ratios["worst origin / SN"] == pytest.approx(3.5)  # series a, origin 1
    assert ratios["worst series / SN"] == pytest.approx(2.0)  # series a: mean 2.0 against 1.0
    assert ratios["origins > 3x SN"] == 1
    summary = summarize(per_series(rows), ratios_to_reference(rows))
    assert summary.loc["seasonal_naive", "worst origin / SN"] == pytest.approx(1.0)
    assert ratios_to_reference([r for r in rows if r.model == "m"]).empty  # no reference run: nothing to compare


def hourly_cpu() -> pd.Series:
    """A real AWS CloudWatch CPU trace as hourly means (14 days)."""
    raw = pd.read_csv(NAB / "ec2_cpu_utilization_5f5533.csv", parse_dates=["timestamp"])
    return raw.set_index("timestamp")["value"].resample("h").mean().tz_localize("UTC")


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`headroom eval` on the first 1200 rows (about 4 days at 5 minutes) of two real NAB series, two fast models."""
    root = tmp_path_factory.mktemp("eval")
    data = root / "nab_subset"
    data.mkdir()
    for name in ("ec2_cpu_utilization_5f5533", "rds_cpu_utilization_cc0c53"):
        lines = (NAB / f"{name}.csv").read_text().splitlines()[:1201]
        (data / f"{name}.csv").write_text("\n".join(lines) + "\n")
    (data / "too_short.csv").write_text("timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:05:00Z,2\n")
    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("version")(lambda: None)  # two commands, so `eval` is a sub-command as in the real CLI
    args = ["eval", str(data), "--models", FAST_MODELS, "--out-dir", str(root / "results")]
    result = CliRunner().invoke(app, [*args, "--save-forecasts", str(root / "forecasts.csv")])
    assert result.exit_code == 0, result.output
    return root, result.output


def test_eval_prints_a_table_per_dataset_and_writes_reports(eval_run: tuple[Path, str]) -> None:
    root, output = eval_run
    header = "| model | mean MASE | median MASE | sMAPE | cov80 | cov95 | MSIS | seconds/series |"
    assert "## nab_subset" in output and header in output
    assert "| seasonal_naive | " in output and "| mstl | " in output
    assert "skipped too_short: 2 points: 3 origins of 288 steps need at least 1153" in output
    assert (root / "results" / "nab_subset.md").read_text().startswith("## nab_subset")
    per_series = pd.read_csv(root / "results" / "nab_subset.csv")
    assert len(per_series) == 2 * 2
    assert set(per_series["model"]) == {"seasonal_naive", "mstl"}
    assert (per_series["origins"] == 3).all() and (per_series["failed"] == 0).all()
    assert np.isfinite(per_series[["mase", "smape", "cov80", "cov95", "msis", "seconds"]].to_numpy()).all()


def test_saved_forecasts_have_one_row_per_series_origin_step_and_model(eval_run: tuple[Path, str]) -> None:
    root, _ = eval_run
    with (root / "forecasts.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["series", "origin", "timestamp", "model", "mean", "lo80", "hi80", "lo95", "hi95"]
    saved = pd.read_csv(root / "forecasts.csv")
    assert len(saved) == 2 * 3 * 288 * 2  # series x origins x h x models
    assert not saved.duplicated(["series", "origin", "timestamp", "model"]).any()
    assert saved["timestamp"].str.endswith("Z").all()
    first_steps = saved.groupby(["series", "origin", "model"])["timestamp"].min().reset_index()
    assert (first_steps["timestamp"] == first_steps["origin"]).all()  # origin = the first forecast step
    for series, rows in saved.groupby("series"):
        raw = pd.read_csv(NAB / f"{series}.csv", nrows=1200)
        last_origin = pd.Timestamp(raw["timestamp"].iloc[-288], tz="UTC")  # the last origin at len - h
        assert rows["origin"].max() == last_origin.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (saved["lo95"] <= saved["lo80"]).all() and (saved["hi80"] <= saved["hi95"]).all()


def test_mstl_adds_the_weekly_season_from_two_weeks_of_history() -> None:
    mstl = MSTL(season_length=24)
    assert mstl.seasons_for(2 * 7 * 24 - 1) == [24]
    assert mstl.seasons_for(2 * 7 * 24) == [24, 168]


def test_auto_arima_hourly_reads_hourly_forecasts_back_at_five_minutes() -> None:
    from ml_engine.resolution import Hourly
    from ml_engine.statistical import AutoARIMA
    from services.benchmarks.evaluation import DEFAULT_MODELS, resolve_models

    assert {"auto_arima_hourly", "headroom"} <= set(resolve_models(None)) == set(DEFAULT_MODELS)
    raw = pd.read_csv(NAB / "ec2_cpu_utilization_5f5533.csv", parse_dates=["timestamp"], nrows=3 * 288 + 7)
    y = raw.set_index("timestamp")["value"].tz_localize("UTC").asfreq("5min").interpolate()
    forecast = Hourly(AutoARIMA(season_length=288)).fit(y).predict(30, (80, 95))
    assert forecast.model == "auto_arima_hourly" and forecast.params["resolution"] == "hourly"
    assert forecast.mean.index[0] == y.index[-1] + pd.Timedelta(minutes=5) and len(forecast.mean) == 30
    values = forecast.mean.to_numpy()
    assert np.all(values[:12] == values[0]) and np.all(values[12:24] == values[12])  # one value per hour block
    assert (forecast.lower[95] <= forecast.lower[80]).all() and (forecast.upper[80] <= forecast.upper[95]).all()


def test_the_product_model_runs_as_the_daily_retrain_warm_forward_in_time_on_the_last_history_days() -> None:
    from services.benchmarks.product_model import ProductRuns

    index = pd.date_range("2026-09-01", periods=40 * 24, freq="h", tz="UTC")
    y = pd.Series(50 + 10 * np.sin(2 * np.pi * np.arange(index.size) / 24), index=index, name="vm/cpu_utilization")
    runs = ProductRuns(None, history_days=28)
    model = runs(24).fit(y.iloc[: -48])
    first = model.predict(24)
    assert first.params["warm"] is False  # no earlier origin: a cold fit with its own backtest
    fitted_on = model.inner._history  # type: ignore[attr-defined]
    assert len(fitted_on) == 28 * 24 and fitted_on.index[-1] == y.index[-49]  # the last 28 days only
    nxt = runs(24).fit(y.iloc[: -24]).predict(24)
    assert nxt.params["warm"] is True  # a day later: warm from the previous origin, as the daily refit is
    earlier = runs(24).fit(y.iloc[: -72]).predict(24)
    assert earlier.params["warm"] is False  # a later origin's state never reaches an earlier one
    other = runs(24).fit(y.iloc[: -24].rename("vm/memory_utilization")).predict(24)
    assert other.params["warm"] is False  # nor another series'
