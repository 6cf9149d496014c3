"""Parameters of each rule kind, validated when a rule is saved (config/alerts.yml or the API)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError


class RuleParamsError(ValueError):
    """A rule's params do not fit its kind; the message names the field."""


class _Params(BaseModel):
    model_config = {"extra": "forbid"}


class CapacityParams(_Params):
    metric: str = Field("cpu_utilization", description="Metric of the series to watch.")
    threshold: float = Field(80.0, description="Fire when the forecast reaches this value.")
    horizon_days: float = Field(30.0, gt=0, le=365, description="How far ahead to look.")
    quantile: Literal["p50", "p90"] = Field("p90", description="p50 = mean path, p90 = upper edge of the 80% band.")
    stat: Literal["mean", "p95"] = Field("mean", description="Forecast of the hourly mean or the hourly p95.")


class RunwayParams(_Params):
    source: Literal["forecast", "recommendations"] = Field(
        "forecast", description="forecast: from stored forecasts; recommendations: the persisted runway "
        "recommendations (per resource, group and budget) of `headroom recommend refresh`.")
    metric: str = "cpu_utilization"
    threshold: float = 80.0
    lead_time_days: float = Field(30.0, gt=0, le=730, description="Procurement lead time; shorter runways fire.")
    quantile: Literal["p50", "p90"] = "p90"
    stat: Literal["mean", "p95"] = "mean"


class GrowthParams(_Params):
    metric: str = "cpu_utilization"
    percent: float = Field(20.0, gt=0, description="Fire when the forecast grows by more than this...")
    window_days: float = Field(7.0, gt=0, le=90, description="...over this many days.")


class CostAnomalyParams(_Params):
    ratio: float = Field(1.5, gt=1, description="Fire when the actual daily cost exceeds ratio × predicted...")
    band: Literal[80, 95] = Field(95, description="...or lies outside this prediction band.")
    lookback_days: int = Field(3, ge=1, le=31, description="Newest charge days checked.")


class BudgetParams(_Params):
    monthly_budget: float = Field(gt=0, description="Fire when month-to-date plus forecast exceeds this.")


class MetricAnomalyParams(_Params):
    metric: str = Field("", description="Only this metric; empty = every metric.")
    min_score: float = Field(0.0, ge=0, description="Only anomalies at least this many standard deviations away.")


class SourceSilentParams(_Params):
    max_silence_minutes: float = Field(60.0, gt=0, description="Fire when a source has not succeeded for this long.")


class AutoscalingMaxParams(_Params):
    margin_instances: int = Field(
        0, ge=0, le=10_000, description="Fire when a group's 48-hour plan comes within this many instances of its "
        "maximum size (0: when it needs the maximum size itself).",
    )


PARAMS: dict[str, type[_Params]] = {
    "capacity": CapacityParams, "runway": RunwayParams, "growth": GrowthParams, "cost_anomaly": CostAnomalyParams,
    "budget": BudgetParams, "metric_anomaly": MetricAnomalyParams, "source_silent": SourceSilentParams,
    "autoscaling_max": AutoscalingMaxParams,
}


def check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """params validated against the kind, with defaults filled in."""
    try:
        return PARAMS[kind].model_validate(params).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "params"
        raise RuleParamsError(f"{kind} rule: params.{where}: {err['msg']}") from None
