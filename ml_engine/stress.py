"""Adversarial series for the forecaster: generated cases that real fleets produce, and the checks every forecast
of them must pass (inside the metric's domain, no blow-up), with which guard acted.

Cases: a spike at the origin, level shifts just before and just after it, a trend break, saturation at 100%, a
zero-inflated count, counter resets, collection gaps, daylight-saving duplicates, a 3-day history, and a spike in
the last minutes of a 5-minute series. Every case is seeded, so a failure reproduces. Run by tests/unit (fast
members) and bench/stress_suite.py (the full ensemble).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml_engine.base import Forecast
from ml_engine.domain import Domain, domain_for
from ml_engine.guard import check, envelope
from ml_engine.regular import regularize_hourly

START = pd.Timestamp("2024-03-01", tz="UTC")
DAY = 24


@dataclass
class Case:
    """One generated series: history to fit, the actual future, its season, and the domain it lives in."""

    name: str
    history: pd.Series
    actual: np.ndarray
    season_length: int
    domain: Domain
    notes: str = ""


@dataclass
class Verdict:
    """What a forecast of a case did: problems found (empty = pass) and which guard acted."""

    case: str
    problems: list[str] = field(default_factory=list)
    acted: list[str] = field(default_factory=list)
    mase_ratio: float = float("nan")  # MASE / seasonal naive's MASE on the actual future

    @property
    def passed(self) -> bool:
        return not self.problems


def _daily(days: float, base: float, amplitude: float, noise: float, seed: int, step_minutes: int = 60) -> np.ndarray:
    per_day = DAY * 60 // step_minutes
    n = int(days * per_day)
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * np.arange(n) / per_day
    return base + amplitude * np.sin(phase - np.pi / 2) + rng.normal(0, noise, n)


def _split(name: str, values: np.ndarray, horizon: int, season: int, step: str = "h", **kw: str) -> Case:
    index = pd.date_range(START, periods=len(values), freq=step)
    y = pd.Series(values, index=index, name=name)
    history, actual = y.iloc[:-horizon], values[-horizon:]
    domain = domain_for(history.to_numpy(), name=name)
    return Case(name, history, actual, season, domain, kw.get("notes", ""))


def spike_at_origin() -> Case:
    v = np.clip(_daily(22, 15, 5, 0.8, 1), 0, 100)
    v[-DAY - 2 : -DAY] = 97.0  # the last two hours before the origin
    return _split("cpu_utilization_spike_at_origin", v, DAY, DAY)


def level_shift_before() -> Case:
    v = _daily(22, 40, 8, 1.0, 2)
    v[-DAY - 6 :] -= 30.0  # six hours before the origin, and it stays
    return _split("cpu_utilization_shift_before", np.clip(v, 0, 100), DAY, DAY)


def level_shift_after() -> Case:
    v = _daily(22, 40, 8, 1.0, 3)
    v[-DAY + 3 :] += 35.0  # three hours after the origin: nothing in the history announces it
    return _split("cpu_utilization_shift_after", np.clip(v, 0, 100), DAY, DAY)


def trend_break() -> Case:
    n = 22 * DAY
    trend = np.minimum(np.arange(n), 18 * DAY) * 0.08  # grows for 18 days, then flat
    return _split("request_count_trend_break", _daily(22, 100, 20, 3, 4) + trend, DAY, DAY)


def saturation() -> Case:
    v = np.clip(_daily(22, 85, 30, 3, 5), 0, 100)  # pinned at 100% for hours every day
    return _split("cpu_utilization_saturated", v, DAY, DAY)


def zero_inflated() -> Case:
    rng = np.random.default_rng(6)
    n = 22 * DAY
    v = np.where(rng.random(n) < 0.85, 0.0, rng.gamma(2.0, 30.0, n))
    return _split("error_count_zero_inflated", v, DAY, DAY)


def counter_resets() -> Case:
    rng = np.random.default_rng(7)
    increments = np.maximum(_daily(22, 50, 20, 5, 7), 0)
    counter = np.cumsum(increments)
    for reset in (5 * DAY, 13 * DAY + 7, 21 * DAY - 3):  # restarts put a cumulative counter back to zero
        counter[reset:] -= counter[reset - 1] + rng.uniform(0, 1)
    return _split("network_bytes_total_resets", np.maximum(counter, 0.0), DAY, DAY)


def gaps() -> Case:
    values = _daily(22, 30, 10, 1.5, 8)
    raw = pd.Series(values, index=pd.date_range(START, periods=len(values), freq="h"))
    raw.iloc[100:106] = np.nan  # a 6-hour outage
    raw.iloc[300:340] = np.nan  # a day and a half
    raw = raw.dropna()
    clean, report = regularize_hourly(raw.iloc[:-DAY])
    domain = domain_for(clean.to_numpy(), name="memory_utilization_gaps")
    return Case(
        "memory_utilization_gaps",
        clean.rename("memory_utilization_gaps"),
        values[-DAY:],
        DAY,
        domain,
        f"regularized: {report}",
    )


def dst_duplicates() -> Case:
    local = pd.date_range("2024-10-10", periods=22 * DAY, freq="h", tz="Europe/Berlin")
    values = _daily(22, 25, 8, 1.0, 9)
    wall = local.tz_localize(None)  # written in local wall time: the hour of the switch back appears twice
    raw = pd.Series(values, index=wall.tz_localize("Europe/Berlin", ambiguous="infer"))
    raw = pd.concat([raw, raw[raw.index.tz_convert("UTC").hour == 1].iloc[:1]]).sort_index()  # a repeated row
    clean, report = regularize_hourly(raw.iloc[:-DAY])
    name = "cpu_utilization_dst"
    return Case(
        name, clean.rename(name), values[-DAY:], DAY, domain_for(clean.to_numpy(), name=name), f"regularized: {report}"
    )


def three_days() -> Case:
    return _split("cpu_utilization_three_days", np.clip(_daily(4, 20, 6, 1.0, 10), 0, 100), DAY, DAY)


def five_minute_spike() -> Case:
    v = np.clip(_daily(8, 12, 4, 0.5, 11, step_minutes=5), 0, 100)
    v[-288 - 3 : -288] = 99.0  # 15 minutes before the origin
    return _split("cpu_utilization_5min_spike", v, 288, 288, step="5min")


CASES: dict[str, Callable[[], Case]] = {
    f.__name__: f
    for f in (
        spike_at_origin,
        level_shift_before,
        level_shift_after,
        trend_break,
        saturation,
        zero_inflated,
        counter_resets,
        gaps,
        dst_duplicates,
        three_days,
        five_minute_spike,
    )
}


def judge(case: Case, forecast: Forecast) -> Verdict:
    """Domain and no-blow-up checks on one forecast of case; which guard acted, from Forecast.params."""
    verdict = Verdict(case.name)
    parts = {"mean": forecast.mean.to_numpy()}
    for level in forecast.lower:
        parts[f"lo{level}"] = forecast.lower[level].to_numpy()
        parts[f"hi{level}"] = forecast.upper[level].to_numpy()
    for label, values in parts.items():
        if not np.isfinite(values).all():
            verdict.problems.append(f"{label}: not finite")
        elif not case.domain.contains(values):
            verdict.problems.append(f"{label}: {values.min():.4g}..{values.max():.4g} outside {case.domain}")
    history = case.history.to_numpy()
    block = max(1, int(pd.Timedelta(hours=1) // (case.history.index[1] - case.history.index[0])))
    widest = max(forecast.lower) if forecast.lower else None
    blowups = check(
        envelope(history, case.season_length, block),
        parts["mean"],
        parts.get(f"lo{widest}"),
        parts.get(f"hi{widest}"),
    )
    verdict.problems += [f"blow-up: {b}" for b in blowups if not b.startswith("jump")]
    verdict.acted = _acted(forecast)
    naive = np.resize(history[-case.season_length :], len(case.actual))
    scale = np.mean(np.abs(case.actual - naive))
    if scale > 0:
        verdict.mase_ratio = float(np.mean(np.abs(case.actual - parts["mean"])) / scale)
    return verdict


def _rules(reasons: list[str]) -> str:
    """The rules named by a guard's reasons, e.g. "level; jump"."""
    return "; ".join(reason.split(":")[0] for reason in reasons)


def _acted(forecast: Forecast) -> list[str]:
    params = forecast.params
    acted: list[str] = []
    guard = params.get("guard") or {}
    for label, reasons in (guard.get("left_out") or {}).items():
        acted.append(f"left {label} out of the combination ({_rules(reasons)})")
    for label, reasons in (guard.get("rejected") or {}).items():
        acted.append(f"guard rejected {label} ({_rules(reasons)})")
    if guard.get("served") and guard.get("served") != "ensemble":
        acted.append(f"served {guard['served']}")
    if params.get("level_shift") is not None:
        acted.append(f"level shift corrected by {params['level_shift']:.4g}")
    for side, values in (guard.get("on_bounds") or {}).items():
        if side == "mean":
            acted.append(f"point forecast on the domain bound at {len(values)} hour(s) of the day")
        else:
            acted.append(f"{side} edge of the {'/'.join(map(str, values))}% band on the domain bound")
    if params.get("fallback"):
        acted.append(f"fell back to {params['fallback']['to']}")
    return acted
