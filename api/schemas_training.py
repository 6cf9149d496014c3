"""API schemas of training operations: model versions, training runs, live accuracy, anomalies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ForecasterRead(BaseModel):
    name: str = Field(description="The value of forecasting.model, or of `model` in an ad-hoc forecast")
    label: str
    plugin: bool = Field(description="True when an installed plug-in package provides it")


class EnsembleMember(BaseModel):
    name: str
    weight: float = Field(description="Share of the ensemble's forecast (0: kept out, backtest error too high)")
    backtest_mae: float | None = Field(None, description="Mean absolute error at the rolling-origin backtest")
    backtest_mase: float | None = Field(None, description="The same error scaled by the seasonal-naive in-sample error")
    dropped: str | None = Field(None, description="Why it could not take part (too little history, a failed fit)")


class ModelVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    series_id: str
    stat: str
    version: int
    status: str = Field(description="active (serving), candidate (worse backtest, kept) or retired")
    model_name: str
    as_of: date | None
    data_start: datetime
    data_end: datetime
    metrics: dict[str, Any] = Field(description="Backtest: holdout, mase, smape, coverage<level>")
    artifact_uri: str
    reason: str
    trained_at: datetime
    members: list[EnsembleMember] = Field(
        default_factory=list, description="Ensemble members, largest weight first; empty for a single forecaster"
    )


class ModelVersionPage(BaseModel):
    items: list[ModelVersionRead]


class ModelRollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series_id: str = Field(min_length=1, max_length=400)
    stat: Literal["mean", "p95", "daily_cost"] = "mean"
    to_version: int | None = Field(None, ge=1, description="Default: the version before the active one")


class TrainingRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    as_of: date
    status: str = Field(description="running or finished")
    total: int
    done: int
    skipped: int
    failed: int
    started_at: datetime
    finished_at: datetime | None
    updated_at: datetime


class TrainingRunPage(BaseModel):
    items: list[TrainingRunRead]


class AccuracyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str = Field(description="The series id, or the model name")
    stat: str | None
    model_name: str | None
    forecasts: int
    points: int = Field(description="Forecast steps with an actual")
    mase: float | None = Field(description="Point-weighted live MASE")
    coverage80: float | None
    coverage95: float | None
    since: date | None


class AccuracyPage(BaseModel):
    items: list[AccuracyRead]


class AnomalyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    series_id: str
    stat: str
    kind: str = Field(description="metric or cost")
    started_at: datetime
    ended_at: datetime
    peak_at: datetime
    actual: float
    expected: float
    lower: float | None
    upper: float | None
    score: float = Field(description="|actual - expected| at the peak, in standard deviations of the 95% band")
    points: int
    status: str = Field(description="open or closed")


class AnomalyPage(BaseModel):
    items: list[AnomalyRead]
