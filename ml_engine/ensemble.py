"""Ensemble: members weighted per series by their rolling-origin backtest error, with conformal intervals.

For one series: backtest every member at a few rolling origins (the last `origins` windows of the
forecast horizon), weight the members within WEIGHT_BAND of the best robust loss by 1 / loss^2 (the others get
0; ml_engine.weights), and calibrate the 80% and 95% intervals of every candidate on its own backtest residuals,
per horizon bucket (ml_engine.conformal). Every member's forecast and every served edge stay inside the metric's
domain (ml_engine.domain); which forecast is served (the combination, its best member, or seasonal naive) is
decided by the backtest and the no-blow-up guard (ml_engine.serving). Sub-hourly series are modelled on their
hourly means (ml_engine.resolution).

The heavy work runs at the first predict(), once the horizon is known. Forecast.params carries `members`
(weight per member), `backtest` (MAE and MASE per member), `dropped` (member -> why it could not take part),
`guard` (what was served, what the guard rejected and which runaway members it
left out of the combination, with the reasons), `domain` and a JSON-safe `state`;
warm_start(state) before the next fit() reuses the weights, the serving order, the calibrated intervals and
each member's chosen model (ARIMA orders, ETS form), so a daily refit fits only the members that carry weight
and seasonal naive, without model search and without backtest, until the state is `refresh_days` old.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.conformal import ConformalBands, calibrate
from ml_engine.domain import Domain, domain_for
from ml_engine.guard import envelope, runaways
from ml_engine.intervals import check_history, future_index, make_forecast, step_of
from ml_engine.naive import SeasonalNaive, WeeklyNaive
from ml_engine.prophet_model import Prophet
from ml_engine.resolution import (
    hourly_means,
    hours_needed,
    profile_ahead,
    resolution_for,
    to_steps,
    within_hour_profile,
)
from ml_engine.serving import ENSEMBLE, LAST_RESORT, serve, serving_order
from ml_engine.statistical import MSTL, AutoETS, QuickAutoARIMA, Theta
from ml_engine.weights import WEIGHT_BAND, inverse_error_weights, robust_losses

if TYPE_CHECKING:
    from ml_engine.nn import GlobalNN

STATE_VERSION = 2
WEEKLY_NAIVE = "weekly_naive"
MEMBERS: dict[str, Callable[[int], Forecaster]] = {
    "seasonal_naive": lambda m: SeasonalNaive(season_length=m),
    WEEKLY_NAIVE: lambda m: WeeklyNaive(season_length=m),
    "auto_ets": lambda m: AutoETS(season_length=m),
    "auto_arima": lambda m: QuickAutoARIMA(season_length=m),
    "mstl": lambda m: MSTL(season_length=m),
    "theta": lambda m: Theta(season_length=m),
    "prophet": lambda m: Prophet(season_length=m),
}
GLOBAL_NN = "global_nn"
CALIBRATED_LEVELS = (80, 95)
MIN_STRIDE_SHARE = 0.25  # backtest origins at least a quarter of the backtested span apart
__all__ = ["GLOBAL_NN", "MEMBERS", "WEIGHT_BAND", "Ensemble", "inverse_error_weights"]


class Ensemble(Forecaster):
    """Per-series weighted ensemble of MEMBERS (and a fitted GlobalNN when given), conformal intervals.

    domain bounds every forecast; None = inferred at fit from the history and its name (ml_engine.domain).
    """

    name = "ensemble"

    def __init__(
        self,
        season_length: int = 24,
        global_nn: GlobalNN | None = None,
        members: Sequence[str] | None = None,
        origins: int = 5,
        refresh_days: int = 7,
        domain: Domain | None = None,
    ) -> None:
        super().__init__(season_length=season_length)
        unknown = [m for m in members or () if m not in MEMBERS]
        if unknown:
            raise ValueError(f"unknown ensemble member(s) {', '.join(unknown)}: choose from {', '.join(MEMBERS)}")
        self.global_nn = global_nn
        self.member_names = list(members or MEMBERS)
        self.origins = origins
        self.refresh_days = refresh_days
        self.domain = domain
        self._warm: dict[str, Any] | None = None

    def new(self) -> Ensemble:
        return Ensemble(
            self.season_length, self.global_nn, self.member_names, self.origins, self.refresh_days, self.domain
        )

    # --- warm start -------------------------------------------------------------------------------------
    def warm_start(self, state: Mapping[str, Any] | None) -> Ensemble:
        """Use yesterday's state (Forecast.params["state"]) at the next fit; an unusable state is ignored."""
        usable = (
            isinstance(state, Mapping)
            and state.get("model") == self.name
            and state.get("version") == STATE_VERSION
            and state.get("season_length") == self.season_length
        )
        self._warm = dict(state) if usable and state is not None else None
        return self

    def fit_state(self) -> dict[str, Any] | None:
        return getattr(self, "_state", None)

    # --- fit / predict ----------------------------------------------------------------------------------
    def fit(self, y: pd.Series) -> Ensemble:
        y = check_history(y)
        values = y.to_numpy()
        if not np.isfinite(values).any():
            raise ForecastError("ensemble: history has no finite value to fit")
        if not np.isfinite(values).all():
            raise ForecastError("ensemble: history contains NaN or infinity: regularize it first")
        if len(y) < self.season_length + 2:
            raise ForecastError(f"ensemble: needs at least {self.season_length + 2} points, got {len(y)}")
        self._y = y
        self._domain = self.domain or domain_for(values, name=str(y.name or ""))
        self._step = step_of(y.index)
        self._resolution = resolution_for(self._step, self.season_length, len(y))
        self._prepared: dict[int, dict[str, Any]] = {}
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_y"):
            raise ForecastError("ensemble: call fit() before predict()")
        index = future_index(self._y.index, horizon)
        wanted = sorted(set(levels))
        plan = self._plan(horizon, wanted)
        weights: dict[str, float] = dict(plan["weights"])
        specs: dict[str, Any] = plan["specs"]
        needed = {n: 1.0 for n in [*(n for n, w in weights.items() if w > 0.0), *plan["order"]] if n != ENSEMBLE}
        forecasts, final_specs, failed = self._member_forecasts(self._y, index, needed, specs)
        for name, reason in failed.items():  # a member that fitted in the backtest but fails now: drop it
            plan["dropped"][name] = reason
            weights[name] = 0.0
        history = self._y.to_numpy()
        env = envelope(history, self.season_length, self._resolution.per_hour)
        left_out = runaways(forecasts, weights, env)
        kept = {n: weights.get(n, 0.0) for n in forecasts}  # the state keeps a left-out member for tomorrow's fit
        mix = {n: 0.0 if n in left_out else w for n, w in kept.items()}
        total = sum(mix.values())
        means = dict(forecasts)
        if total > 0.0:
            means[ENSEMBLE] = np.sum([mix[n] / total * forecasts[n] for n in forecasts], axis=0)
        if not means:
            raise ForecastError(f"ensemble: no member could forecast ({'; '.join(plan['dropped'].values())})")
        if plan["profile"] and self._resolution.hourly:
            profile = self._profile_for(self._y, horizon)
            means = {label: mean + profile for label, mean in means.items()}
        means = {label: mean + plan["bands"][label].offset(horizon) if label in plan["bands"] else mean
                 for label, mean in means.items()}  # each candidate moved by its backtest's median residual, if kept
        served = serve(
            plan["order"], means, plan["bands"], wanted, env, self._domain, history, self._resolution.per_hour,
            self._step.total_seconds(),
        )
        weights = _shares(kept, weights)
        self._state = self._make_state(weights, {**specs, **final_specs}, plan)
        guard = served.report(plan["why"])
        if left_out:
            guard["left_out"] = left_out
        lead = plan["bands"][plan["order"][0]]
        params = {
            "season_length": self.season_length,
            "resolution": self._resolution.name,
            "members": _shares(mix, weights),
            "backtest": plan["backtest"],
            "dropped": plan["dropped"],
            "warm": plan["warm"],
            "level_shift": _round(served.shift) if served.shift is not None else None,
            "guard": guard,
            "domain": self._domain.to_state(),
            "intervals": {"method": "conformal", "horizon": lead.horizon, "edges": lead.edges, "center": lead.center},
            "state": self._state,
        }
        return make_forecast(self.name, index, served.mean, served.lower, served.upper, params)

    # --- planning: warm state or backtest ----------------------------------------------------------------
    def _plan(self, horizon: int, levels: list[int]) -> dict[str, Any]:
        prepared = self._prepared.get(horizon)
        if prepared and all(lvl in b.quantiles for b in prepared["bands"].values() for lvl in levels):
            return self._prepared[horizon]
        plan = self._from_warm(horizon, levels) or self._backtest(horizon, levels)
        self._prepared[horizon] = plan
        return plan

    def _from_warm(self, horizon: int, levels: list[int]) -> dict[str, Any] | None:
        state = self._warm
        if not state or state.get("resolution") != self._resolution.name:
            return None
        if state.get("step_seconds") != self._step.total_seconds():
            return None
        tested = pd.Timestamp(state["backtested_at"])
        if self._y.index[-1] - tested > pd.Timedelta(days=self.refresh_days) or self._y.index[-1] < tested:
            return None
        bands = {label: ConformalBands.from_state(b) for label, b in state["intervals"].items()}
        if not bands or not all(lvl in b.quantiles for b in bands.values() for lvl in levels):
            return None
        weights = {n: float(w) for n, w in state["weights"].items() if n in self._candidates(horizon)}
        if sum(weights.values()) <= 0.0:
            return None
        order = [label for label in state["order"] if label in bands]
        if not order:
            return None
        return {
            "weights": weights,
            "order": order,
            "why": str(state.get("why", "")),
            "specs": dict(state.get("members", {})),
            "bands": bands,
            "profile": bool(state.get("profile", False)),
            "backtest": dict(state.get("backtest", {})),
            "dropped": dict(state.get("dropped", {})),
            "backtested_at": state["backtested_at"],
            "warm": True,
        }

    def _candidates(self, horizon: int) -> list[str]:
        names = list(dict.fromkeys([*self.member_names, LAST_RESORT]))  # seasonal naive: the guard's last resort
        # a week's pattern matters to forecasts a week long, of hourly (or hourly-modelled) series; elsewhere the
        # member would only be seasonal naive twice
        if horizon < WeeklyNaive.DAYS * self.season_length or self._resolution.model_season != WeeklyNaive.HOURLY:
            names = [n for n in names if n != WEEKLY_NAIVE]
        if self.global_nn is not None and self.global_nn.season_length == self._resolution.model_season:
            names.append(GLOBAL_NN)
        return names

    def _backtest(self, horizon: int, levels: list[int]) -> dict[str, Any]:
        """Rolling origins over the end of the history: member errors -> weights -> conformal bands."""
        y, m = self._y, self.season_length
        n = len(y)
        min_train = 2 * m + 2 * self._resolution.per_hour
        span, stride = backtest_windows(n - min_train, horizon, self.origins)
        dropped: dict[str, str] = {}
        candidates = self._candidates(horizon)
        if span < 1:
            raise ForecastError(
                f"ensemble: {n} points leave no room to backtest {self.origins} origins after {min_train} points"
            )
        positions = [n - span - k * stride for k in range(self.origins - 1, -1, -1)]
        profiles: list[np.ndarray] = []
        actuals: list[np.ndarray] = []
        scales: list[float] = []
        specs: dict[str, Any] = {}
        forecasts_at: list[dict[str, np.ndarray]] = []
        for position in positions:
            history = y.iloc[:position]
            index = y.index[position : position + span]
            live = {name: 1.0 for name in candidates if name not in dropped}
            forecasts, found, failed = self._member_forecasts(history, index, live, specs)
            specs.update(found)  # the first origin's model search is reused by later origins and the final fit
            for name, reason in failed.items():
                dropped[name] = reason
            actual = y.iloc[position : position + span].to_numpy(dtype=np.float64)
            actuals.append(actual)
            forecasts_at.append(forecasts)
            profiles.append(self._profile_for(history, span) if self._resolution.hourly else np.zeros(span))
            diffs = np.abs(history.to_numpy()[m:] - history.to_numpy()[:-m])
            scales.append(float(np.mean(diffs)) if diffs.size else float("nan"))
        members = [name for name in candidates if name not in dropped]
        if not members:
            raise ForecastError(f"ensemble: no member could be backtested ({'; '.join(dropped.values())})")
        errs = {name: np.stack([actuals[i] - forecasts_at[i][name] for i in range(len(positions))]) for name in members}
        mae = {name: float(np.mean(np.abs(e))) for name, e in errs.items()}
        weights = inverse_error_weights(robust_losses(errs))
        combined = np.stack([sum(weights[nm] * forecasts_at[i][nm] for nm in members) for i in range(len(positions))])
        errs[ENSEMBLE] = np.stack(actuals) - self._domain.clip(combined)
        if self._resolution.hourly:  # the within-hour profile is kept when it helps the combination
            with_profile = errs[ENSEMBLE] - np.stack(profiles)
            use_profile = bool(np.mean(np.abs(with_profile)) < np.mean(np.abs(errs[ENSEMBLE])))
        else:
            use_profile = False
        if use_profile:
            errs = {name: e - np.stack(profiles) for name, e in errs.items()}
        loss = robust_losses(errs)
        combined_loss = loss.pop(ENSEMBLE)
        order, why = serving_order(loss, combined_loss, weights)
        calibrated = sorted(set(levels) | set(CALIBRATED_LEVELS))
        bands = {label: calibrate(errs[label], calibrated, stride=stride) for label in order}
        scale = float(np.nanmean(scales)) if np.isfinite(scales).any() else float("nan")
        ensemble_mae = float(np.mean(np.abs(errs[ENSEMBLE])))
        backtest = {
            "origins": len(positions),
            "horizon": span,
            "mae": {k: _round(v) for k, v in mae.items()},
            "mase": {k: _round(v / scale) if scale > 0 else None for k, v in mae.items()},
            "loss": {k: _round(v) for k, v in {**loss, ENSEMBLE: combined_loss}.items()},
            "ensemble_mae": _round(ensemble_mae),
            "ensemble_mase": _round(ensemble_mae / scale) if scale > 0 else None,
            # leave-one-origin-out coverage of the bands of the forecast served first (before the guard)
            "coverage": {str(k): v for k, v in bands[order[0]].coverage.items()},
        }
        return {
            "weights": {name: weights.get(name, 0.0) for name in candidates},
            "order": order,
            "why": why,
            "specs": specs,
            "bands": bands,
            "profile": use_profile,
            "backtest": backtest,
            "dropped": dropped,
            "backtested_at": self._y.index[-1].isoformat(),
            "warm": False,
        }

    # --- members ----------------------------------------------------------------------------------------
    def _member_forecasts(
        self, history: pd.Series, index: pd.DatetimeIndex, weights: Mapping[str, float], specs: Mapping[str, Any]
    ) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, str]]:
        """Each member with weight > 0 fitted on history and read at index: forecasts, found specs, failures."""
        res = self._resolution
        if res.hourly:
            modelled = hourly_means(history, res.per_hour)
            steps = hours_needed(len(index), res.per_hour)
        else:
            modelled, steps = history, len(index)
        forecasts: dict[str, np.ndarray] = {}
        found: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for name, weight in weights.items():
            if weight <= 0.0:
                continue
            try:
                if steps < 1 or len(modelled) < 2:
                    raise ForecastError("too little history at this resolution")
                values, spec = self._one_member(name, modelled, steps, specs.get(name))
                if not np.isfinite(values).all():
                    raise ForecastError("predicted non-finite values")
            except Exception as exc:  # noqa: BLE001 - a member that fails is dropped, with the reason
                failed[name] = f"{name}: {exc}" if isinstance(exc, ForecastError) else f"{type(exc).__name__}: {exc}"
                continue
            forecasts[name] = self._domain.clip(to_steps(values, len(index), res.per_hour) if res.hourly else values)
            if spec is not None:
                found[name] = spec
        return forecasts, found, failed

    def _one_member(
        self, name: str, modelled: pd.Series, steps: int, spec: Mapping[str, Any] | None
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        if name == GLOBAL_NN:
            assert self.global_nn is not None
            return self.global_nn.forecast(modelled, steps), None
        member = MEMBERS[name](self._resolution.model_season).warm_start(spec)
        forecast = member.fit(modelled).predict(steps, ())
        return forecast.mean.to_numpy(dtype=np.float64), member.fit_state()

    def _profile_for(self, history: pd.Series, horizon: int) -> np.ndarray:
        profile = within_hour_profile(history, self.season_length)
        return profile_ahead(profile, len(history), horizon)

    def _make_state(self, weights: dict[str, float], specs: dict[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "model": self.name,
            "version": STATE_VERSION,
            "season_length": self.season_length,
            "step_seconds": self._step.total_seconds(),
            "resolution": self._resolution.name,
            "weights": weights,
            "members": {n: s for n, s in specs.items() if weights.get(n, 0.0) > 0.0},
            "order": plan["order"],
            "why": plan["why"],
            "intervals": {label: bands.to_state() for label, bands in plan["bands"].items()},
            "profile": plan["profile"],
            "backtest": plan["backtest"],
            "dropped": plan["dropped"],
            "backtested_at": plan["backtested_at"],
        }


def _shares(raw: Mapping[str, float], names: Iterable[str]) -> dict[str, float]:
    """Each name's share of raw's total, rounded; 0 for a name raw lacks or when the total is 0."""
    total = sum(raw.values())
    return {n: round(raw[n] / total, 4) if n in raw and total > 0 else 0.0 for n in names}


def backtest_windows(room: int, horizon: int, origins: int) -> tuple[int, int]:
    """(span, stride) of `origins` backtest windows in the last `room` points: the whole horizon when one window
    of it fits with the origins at least a quarter span apart (windows may overlap, so that every horizon step is
    calibrated on real residuals), else the longest span that does; windows never overlap when room allows."""
    if origins < 2:
        return min(horizon, room), max(min(horizon, room), 1)
    span = min(horizon, int(room / (1.0 + (origins - 1) * MIN_STRIDE_SHARE)))
    if span < 1:
        return 0, 0
    stride = max(1, min(span, (room - span) // (origins - 1)))
    return span, stride


def _round(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
