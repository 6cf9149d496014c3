"""Routes of training operations: the model registry, daily training runs, live accuracy and anomalies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, EditorPrincipal, SessionDep, SettingsDep
from api.schemas_training import (
    AccuracyPage,
    AccuracyRead,
    AnomalyPage,
    AnomalyRead,
    EnsembleMember,
    ForecasterRead,
    ModelRollback,
    ModelVersionPage,
    ModelVersionRead,
    TrainingRunPage,
    TrainingRunRead,
)
from services.db.models import ModelVersionRow
from services.forecasting.accuracy import accuracy_by_model, accuracy_by_series
from services.forecasting.anomalies import list_anomalies
from services.forecasting.forecasters import forecaster_choices
from services.forecasting.registry import RegistryError, ensemble_members, list_versions, open_artifact_store, rollback
from services.forecasting.training_runs import list_runs

router = APIRouter(tags=["training"])
SeriesQuery = Annotated[str, Query(min_length=1, max_length=400)]


@router.get("/forecasters", response_model=list[ForecasterRead])
def read_forecasters(_: CurrentPrincipal) -> list[ForecasterRead]:
    """Every forecaster this deployment can fit: ml_engine's models and those of installed plug-in packages."""
    return [ForecasterRead(name=n, label=label, plugin=plugin) for n, label, plugin in forecaster_choices()]


def _version(row: ModelVersionRow) -> ModelVersionRead:
    members = [EnsembleMember.model_validate(m) for m in ensemble_members(row.params or {})]
    return ModelVersionRead.model_validate(row).model_copy(update={"members": members})


@router.get("/models", response_model=ModelVersionPage)
def read_models(session: SessionDep, _: CurrentPrincipal, series_id: SeriesQuery,
                stat: Literal["mean", "p95", "daily_cost"] | None = None) -> ModelVersionPage:
    """Every model version of a series, newest first per statistic, with the ensemble's member weights."""
    return ModelVersionPage(items=[_version(v) for v in list_versions(session, series_id, stat)])


@router.post("/models/rollback", response_model=ModelVersionRead)
def rollback_model(body: ModelRollback, session: SessionDep, settings: SettingsDep,
                   _: EditorPrincipal) -> ModelVersionRead:
    """Serve an earlier version (default: the one before the active) and its forecast again."""
    try:
        target = rollback(session, body.series_id, body.stat, artifacts=open_artifact_store(settings.artifacts_url),
                          to_version=body.to_version)
    except RegistryError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _version(target)


@router.get("/training/runs", response_model=TrainingRunPage)
def read_training_runs(session: SessionDep, _: CurrentPrincipal,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 30) -> TrainingRunPage:
    """Daily training runs, newest first, with their progress counters."""
    return TrainingRunPage(items=[TrainingRunRead.model_validate(r) for r in list_runs(session, limit)])


@router.get("/accuracy", response_model=AccuracyPage)
def read_accuracy(session: SessionDep, _: CurrentPrincipal,
                  series_id: Annotated[str | None, Query(max_length=400)] = None) -> AccuracyPage:
    """Live accuracy per series, statistic and model (MASE, 80/95% coverage against the actuals so far)."""
    return AccuracyPage(items=[AccuracyRead.model_validate(a) for a in accuracy_by_series(session, series_id)])


@router.get("/accuracy/models", response_model=AccuracyPage)
def read_model_accuracy(session: SessionDep, _: CurrentPrincipal) -> AccuracyPage:
    """Live accuracy per model over every series it forecast."""
    return AccuracyPage(items=[AccuracyRead.model_validate(a) for a in accuracy_by_model(session)])


@router.get("/anomalies", response_model=AnomalyPage)
def read_anomalies(
    session: SessionDep,
    _: CurrentPrincipal,
    series_id: Annotated[str | None, Query(max_length=400)] = None,
    since: Annotated[datetime | None, Query(description="Incidents that ended at or after this time")] = None,
    status: Literal["open", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AnomalyPage:
    """Anomaly incidents (one per incident, not per point), newest first."""
    rows = list_anomalies(session, series_id=series_id, since=since, status=status, limit=limit)
    return AnomalyPage(items=[AnomalyRead.model_validate(a) for a in rows])
