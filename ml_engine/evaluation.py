"""The rolling-origin forecast benchmark of BENCHMARK.md on already-clean series: origins, M4 metrics, aggregation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster
from ml_engine.metrics import coverage, smape

ModelFactory = Callable[[int], Forecaster]  # season length in steps -> a fresh, unfitted forecaster
LEVELS = (80, 95)
MSIS_ALPHA = 0.05  # MSIS scores the 95% interval
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
REFERENCE = "seasonal_naive"  # worst cases are measured against it, on the same series and origin
BLOWUP_RATIO = 3.0  # an origin whose MASE is above 3 x seasonal naive's on it is a blow-up


class ProtocolError(ValueError):
    """A series the protocol cannot score (step, length); the message says what it needs."""


@dataclass(frozen=True)
class Protocol:
    """Season m, horizon h and the number of rolling origins, all in steps of the series."""

    season_length: int
    horizon: int
    origins: int = 3


def protocol_for_step(step: pd.Timedelta, origins: int = 3) -> Protocol:
    """m = one day in steps; h = one day for sub-hourly data (5-minute), one week for hourly and coarser data."""
    if step <= pd.Timedelta(0) or step > DAY or DAY % step != pd.Timedelta(0):
        raise ProtocolError(f"step {step} does not divide a day: the protocol needs e.g. 5-minute or hourly data")
    season = DAY // step
    horizon = season if step < HOUR else 7 * season
    return Protocol(season_length=int(season), horizon=int(horizon), origins=origins)


def origin_positions(length: int, protocol: Protocol) -> list[int]:
    """Positions of the first forecast step of each origin: the last at length - h, each earlier one h before the next.

    The history of an origin is everything before its position; it must hold more than one season to scale MASE.
    """
    h = protocol.horizon
    positions = [length - k * h for k in range(protocol.origins, 0, -1)]
    if positions[0] <= protocol.season_length:
        need = protocol.origins * h + protocol.season_length + 1
        raise ProtocolError(f"{length} points: {protocol.origins} origins of {h} steps need at least {need}")
    return positions


def seasonal_naive_scale(history: np.ndarray, season_length: int) -> float | None:
    """In-sample MAE of the lag-m seasonal-naive forecast of the history (pairs with a missing value skipped);
    None when it is zero or undefined, since then no error can be scaled by it."""
    if len(history) <= season_length:
        return None
    diffs = np.abs(history[season_length:] - history[:-season_length])
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return None
    scale = float(np.mean(diffs))
    return scale if scale > 0.0 else None


def mase(actual: np.ndarray, predicted: np.ndarray, scale: float | None) -> float:
    """Mean absolute error over the horizon divided by the seasonal-naive scale; NaN when the scale is undefined."""
    return float(np.mean(np.abs(actual - predicted)) / scale) if scale else float("nan")


def msis(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: float | None, alpha: float = MSIS_ALPHA
) -> float:
    """M4's mean scaled interval score: mean over h of (U - L) + 2/alpha (L - y) 1{y < L} + 2/alpha (y - U) 1{y > U},
    divided by the seasonal-naive scale; NaN when the scale is undefined."""
    if not scale:
        return float("nan")
    below = np.where(actual < lower, lower - actual, 0.0)
    above = np.where(actual > upper, actual - upper, 0.0)
    score = (upper - lower) + (2.0 / alpha) * below + (2.0 / alpha) * above
    return float(np.mean(score) / scale)


@dataclass
class OriginResult:
    """One (series, origin, model): its scores, time, and what answered (after any fallback)."""

    series: str
    origin: pd.Timestamp  # the first forecast step
    model: str
    answered_by: str
    history: int  # points before the origin
    scored: int  # forecast steps with an actual value
    mase: float
    smape: float
    cov80: float
    cov95: float
    msis: float
    seconds: float
    note: str = ""  # fallback reason, failure, or long-gap filling
    forecast: pd.DataFrame | None = field(default=None, repr=False)  # mean, lo80, hi80, lo95, hi95 by timestamp

    def row(self) -> dict[str, Any]:
        """A flat record for the per-series CSV (the forecast itself left out)."""
        record = asdict(self)
        record.pop("forecast")
        record["origin"] = self.origin.isoformat()
        return record


def score_forecast(actual: np.ndarray, forecast: Forecast, scale: float | None) -> dict[str, float]:
    """MASE, sMAPE, cov80, cov95 and MSIS of one forecast on the steps where the actual is known."""
    known = np.isfinite(actual)
    y = actual[known]
    if y.size == 0:
        return dict.fromkeys(("mase", "smape", "cov80", "cov95", "msis"), float("nan"))
    mean = forecast.mean.to_numpy()[known]
    lo = {lvl: forecast.lower[lvl].to_numpy()[known] for lvl in LEVELS}
    hi = {lvl: forecast.upper[lvl].to_numpy()[known] for lvl in LEVELS}
    return {
        "mase": mase(y, mean, scale),
        "smape": smape(y, mean),
        "cov80": coverage(y, lo[80], hi[80]),
        "cov95": coverage(y, lo[95], hi[95]),
        "msis": msis(y, lo[95], hi[95], scale),
    }


def evaluate_origin(
    series: str, y: pd.Series, position: int, protocol: Protocol, model: str, factory: ModelFactory
) -> OriginResult:
    """Fit a fresh model on y before `position` only and score its forecast of the next h steps.

    NaN left in the history by a long gap is interpolated for fitting (said in the note); forecast steps
    without an actual are not scored. A model that raises is recorded with NaN scores and the error.
    """
    history = y.iloc[:position]
    actual = y.iloc[position : position + protocol.horizon].to_numpy(dtype=np.float64)
    origin = y.index[position]
    scale = seasonal_naive_scale(history.to_numpy(dtype=np.float64), protocol.season_length)
    missing = int(history.isna().sum())
    notes = [f"{missing} missing history points interpolated for fitting"] if missing else []
    fit_on = history.interpolate(method="linear", limit_direction="both") if missing else history
    fit_on = fit_on.rename(series)  # the name tells a model what the metric is (e.g. a utilisation: 0..100%)
    start = time.perf_counter()
    try:
        forecast = factory(protocol.season_length).fit(fit_on).predict(protocol.horizon, LEVELS)
    except Exception as exc:  # noqa: BLE001 - a benchmark records a model's failure instead of stopping
        seconds = time.perf_counter() - start
        notes.append(f"failed: {type(exc).__name__}: {exc}")
        nan = float("nan")
        return OriginResult(series, origin, model, "", position, 0, nan, nan, nan, nan, nan, seconds, "; ".join(notes))
    seconds = time.perf_counter() - start
    fallback = forecast.params.get("fallback")
    if fallback:
        notes.append(f"fell back to {fallback['to']}: {fallback['reason']}")
    scores = score_forecast(actual, forecast, scale)
    return OriginResult(
        series=series,
        origin=origin,
        model=model,
        answered_by=forecast.model,
        history=position,
        scored=int(np.isfinite(actual).sum()),
        seconds=seconds,
        note="; ".join(notes),
        forecast=forecast.to_frame()[["mean", "lo80", "hi80", "lo95", "hi95"]],
        **scores,
    )


def evaluate_series(
    series: str, y: pd.Series, protocol: Protocol, models: Mapping[str, ModelFactory]
) -> Iterator[OriginResult]:
    """Every (origin, model) of one clean series, model by model, oldest origin first."""
    positions = origin_positions(len(y), protocol)
    for model, factory in models.items():
        for position in positions:
            yield evaluate_origin(series, y, position, protocol, model, factory)


def per_series(results: list[OriginResult]) -> pd.DataFrame:
    """One row per (series, model): the mean over origins of each score, and the seconds summed over origins."""
    frame = pd.DataFrame([r.row() for r in results])
    scores = ["mase", "smape", "cov80", "cov95", "msis"]
    grouped = frame.groupby(["series", "model"], sort=False)
    out = grouped[scores].mean()
    out["seconds"] = grouped["seconds"].sum()
    out["origins"] = grouped.size()
    out["failed"] = grouped["answered_by"].apply(lambda s: int((s == "").sum()))
    out["fell_back"] = grouped["note"].apply(lambda s: int(s.str.contains("fell back").sum()))
    return out.reset_index()


def ratios_to_reference(results: list[OriginResult], reference: str = REFERENCE) -> pd.DataFrame:
    """Per model, how far its worst case is from the reference (seasonal naive) on the same series and origins:
    the worst series' ratio of mean MASEs, the worst (series, origin) ratio, and how many origins exceed
    BLOWUP_RATIO x the reference's MASE. Empty when the reference was not run."""
    frame = pd.DataFrame([{"series": r.series, "origin": r.origin, "model": r.model, "mase": r.mase} for r in results])
    if frame.empty or reference not in set(frame["model"]):
        return pd.DataFrame()
    ref = frame[frame["model"] == reference].set_index(["series", "origin"])["mase"]
    frame = frame.join(ref.rename("ref"), on=["series", "origin"])
    frame["ratio"] = frame["mase"] / frame["ref"]
    per_series = frame.groupby(["model", "series"], sort=False)[["mase", "ref"]].mean()
    per_series["ratio"] = per_series["mase"] / per_series["ref"]
    grouped = frame.groupby("model", sort=False)
    return pd.DataFrame(
        {
            "worst series / SN": per_series.groupby(level="model", sort=False)["ratio"].max(),
            "worst origin / SN": grouped["ratio"].max(),
            f"origins > {BLOWUP_RATIO:g}x SN": grouped["ratio"].apply(lambda r: int((r > BLOWUP_RATIO).sum())),
        }
    )


def summarize(series_scores: pd.DataFrame, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model: mean and median over series of MASE, means of the rest, mean seconds per series, and
    (when given, from ratios_to_reference) the worst series' and worst origin's MASE ratio to seasonal naive."""
    grouped = series_scores.groupby("model", sort=False)
    summary = pd.DataFrame(
        {
            "mean MASE": grouped["mase"].mean(),
            "median MASE": grouped["mase"].median(),
            "sMAPE": grouped["smape"].mean(),
            "cov80": grouped["cov80"].mean(),
            "cov95": grouped["cov95"].mean(),
            "MSIS": grouped["msis"].mean(),
            "seconds/series": grouped["seconds"].mean(),
            "series": grouped["mase"].count(),
        }
    )
    if ratios is not None and not ratios.empty:
        summary = summary.join(ratios)
    return summary


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table: rows = models, BENCHMARK.md's columns."""
    columns = ["mean MASE", "median MASE", "sMAPE", "cov80", "cov95", "MSIS", "seconds/series"]
    columns += [c for c in summary.columns if "SN" in c]
    lines = ["| model | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for model, row in summary.iterrows():
        cells = [_fmt(row[c], 0 if c.startswith("origins") else 2 if c in ("sMAPE", "MSIS") else 3) for c in columns]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: float, digits: int) -> str:
    """Fixed decimals; an exploding score (an interval gone wild) in 3 significant digits, for a readable table."""
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if abs(value) >= 1e5 else f"{value:.{digits}f}"
