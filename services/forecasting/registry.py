"""Model registry: versions (params, data window, backtest metrics, artifact), promotion, rollback, served forecast.

A new version becomes `active` only when its backtest MASE is no worse than the active version's; otherwise it
stays a `candidate` and the series keeps serving the active version's newest forecast (see README, "Model
registry"), unless that forecast is older than `stale_after_days`, when serving something fresh wins.
Artifacts (a JSON document: params incl. model state, metrics, window and the forecast the version made) live
in a local folder or under s3://bucket/prefix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd
from sqlalchemy import Subquery, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from services.db.models import ForecastPointRow, ForecastRow, ModelVersionRow, utcnow
from services.db.upsert import upsert_rows

STORED_LEVELS = (80, 95)  # the levels forecast_points has columns for
POINT_COLUMNS = ("mean", *(f"{side}{lvl}" for lvl in STORED_LEVELS for side in ("lo", "hi")))
FORECASTS = ForecastRow.metadata.tables[ForecastRow.__tablename__]


class RegistryError(RuntimeError):
    """A registry request that cannot be done as asked; the message says what to do instead."""


# --- artifacts ------------------------------------------------------------------------------------


class ArtifactStore(Protocol):
    def put(self, key: str, data: bytes) -> str:
        """Store data under key; returns the artifact's URI."""

    def get(self, uri: str) -> bytes:
        """The bytes stored at uri."""

    def uri(self, key: str) -> str:
        """Where key is (or would be) stored."""


class LocalArtifactStore:
    """Artifacts as files under a folder (the embedded default: data_dir/models)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def uri(self, key: str) -> str:
        return str(self.root / key)

    def put(self, key: str, data: bytes) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a file
        return str(path)

    def get(self, uri: str) -> bytes:
        return Path(uri).read_bytes()


class S3ArtifactStore:
    """Artifacts as objects under s3://bucket/prefix, through boto3 (credentials and endpoint from the usual
    AWS configuration: environment, profile, instance role; AWS_ENDPOINT_URL_S3 for MinIO and friends)."""

    def __init__(self, url: str, *, endpoint_url: str | None = None) -> None:
        import boto3

        parts = urlsplit(url)
        if not parts.netloc:
            raise RegistryError(f"artifacts_url {url!r} has no bucket: use s3://bucket/prefix")
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}/{key}" if self.prefix else f"s3://{self.bucket}/{key}"

    def put(self, key: str, data: bytes) -> str:
        uri = self.uri(key)
        self.client.put_object(Bucket=self.bucket, Key=urlsplit(uri).path.lstrip("/"), Body=data)
        return uri

    def get(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        body = self.client.get_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"))["Body"]
        return bytes(body.read())


def open_artifact_store(url: str, *, endpoint_url: str | None = None) -> ArtifactStore:
    """S3 for s3://bucket/prefix, otherwise a local folder (a path or file:// URL)."""
    if url.startswith("s3://"):
        return S3ArtifactStore(url, endpoint_url=endpoint_url)
    return LocalArtifactStore(Path(url.removeprefix("file://")))


def artifact_key(series_id: str, stat: str, version: int) -> str:
    return f"{quote(series_id, safe='')}/{stat}/v{version}.json"


def json_safe(value: Any) -> Any:
    """value with numpy and pandas types turned into plain JSON, and NaN/inf into None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray | pd.Series):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


# --- versions and promotion -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewVersion:
    """Everything a training run knows about the model it just fitted."""

    series_id: str
    stat: str
    as_of: date
    model_name: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    data_start: datetime
    data_end: datetime
    step_seconds: int
    points: list[dict[str, Any]]  # ts + POINT_COLUMNS, the forecast this version made


def _mine(series_id: str, stat: str) -> tuple[Any, ...]:
    return ModelVersionRow.series_id == series_id, ModelVersionRow.stat == stat


def active_version(session: Session, series_id: str, stat: str) -> ModelVersionRow | None:
    """The model version currently serving a series and statistic, or None."""
    query = select(ModelVersionRow).where(*_mine(series_id, stat), ModelVersionRow.status == "active")
    return session.execute(query.order_by(ModelVersionRow.version.desc()).limit(1)).scalar_one_or_none()


def ensemble_members(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The ensemble members of a version's params (ml_engine.ensemble: `members` {name: weight}, `backtest`
    {"mae": {name: e}, "mase": {name: e}}, `dropped` {name: why}), largest weight first; [] for other models."""
    weights = params.get("members")
    if not isinstance(weights, dict):
        return []
    backtest = params.get("backtest")
    backtest = backtest if isinstance(backtest, dict) else {}
    mae, mase = backtest.get("mae") or {}, backtest.get("mase") or {}
    dropped = params.get("dropped")
    dropped = dropped if isinstance(dropped, dict) else {}
    out = [{"name": str(name), "weight": float(weight), "backtest_mae": mae.get(name), "backtest_mase": mase.get(name),
            "dropped": dropped.get(name)}
           for name, weight in weights.items() if isinstance(weight, int | float)]
    return sorted(out, key=lambda m: (-m["weight"], m["name"]))


def list_versions(session: Session, series_id: str, stat: str | None = None) -> list[ModelVersionRow]:
    """Every version of a series (one statistic, or all), newest first."""
    query = select(ModelVersionRow).where(ModelVersionRow.series_id == series_id)
    if stat is not None:
        query = query.where(ModelVersionRow.stat == stat)
    return list(session.scalars(query.order_by(ModelVersionRow.stat, ModelVersionRow.version.desc())))


def promotion_decision(
    new_mase: float | None, active: ModelVersionRow | None, *, served_as_of: date | None, as_of: date,
    stale_after_days: int,
) -> tuple[bool, str]:
    """(promote?, why). No worse means new MASE <= active MASE; an undefined MASE (a flat holdout) compares
    as no worse only against another undefined one."""
    if active is None:
        return True, "first version"
    old = active.metrics.get("mase")
    if old is None and new_mase is None:
        return True, "no worse: backtest MASE undefined for both"
    if old is None:
        return True, f"no worse: backtest MASE {new_mase:.4f}, active v{active.version} has none"
    if new_mase is not None and new_mase <= old:
        return True, f"no worse: backtest MASE {new_mase:.4f} <= {old:.4f} of v{active.version}"
    shown = "undefined" if new_mase is None else f"{new_mase:.4f}"
    if served_as_of is None or (as_of - served_as_of).days >= stale_after_days:
        return True, f"backtest MASE {shown} > {old:.4f} of v{active.version}, but its forecast is stale"
    return False, f"candidate: backtest MASE {shown} worse than {old:.4f} of active v{active.version}"


def register_version(
    session: Session, new: NewVersion, *, artifacts: ArtifactStore | None, stale_after_days: int = 7
) -> ModelVersionRow:
    """Store a new version and its artifact; promote it (and serve its forecast) when no worse than the active one."""
    previous = session.execute(select(func.max(ModelVersionRow.version)).where(*_mine(new.series_id, new.stat)))
    number = (previous.scalar() or 0) + 1
    active = active_version(session, new.series_id, new.stat)
    served = served_forecast(session, new.series_id, new.stat, with_points=False)
    promote, reason = promotion_decision(
        new.metrics.get("mase"), active, served_as_of=served.as_of if served else None, as_of=new.as_of,
        stale_after_days=stale_after_days,
    )
    params, metrics = json_safe(new.params), json_safe(new.metrics)
    document = {
        "series_id": new.series_id, "stat": new.stat, "version": number, "as_of": new.as_of.isoformat(),
        "model_name": new.model_name, "params": params, "metrics": metrics, "step_seconds": new.step_seconds,
        "data_start": new.data_start.isoformat(), "data_end": new.data_end.isoformat(),
        "forecast": json_safe(new.points),
    }
    key = artifact_key(new.series_id, new.stat, number)
    uri = artifacts.put(key, json.dumps(document).encode()) if artifacts is not None else ""
    row = ModelVersionRow(
        series_id=new.series_id, stat=new.stat, model_name=new.model_name, version=number, params=params,
        data_start=new.data_start, data_end=new.data_end, metrics=metrics, artifact_uri=uri,
        status="candidate", as_of=new.as_of, reason=reason,
    )
    session.add(row)
    session.flush()
    if promote:
        _make_active(session, row)
        write_forecast(session, row, new.points, step_seconds=new.step_seconds)
    return row


def _make_active(session: Session, row: ModelVersionRow) -> None:
    session.execute(
        update(ModelVersionRow)
        .where(*_mine(row.series_id, row.stat), ModelVersionRow.status == "active", ModelVersionRow.id != row.id)
        .values(status="retired")
    )
    row.status = "active"
    session.flush()


def rollback(
    session: Session, series_id: str, stat: str, *, artifacts: ArtifactStore, to_version: int | None = None
) -> ModelVersionRow:
    """Make to_version (default: the newest version older than the active one) active again and serve its forecast
    (restored from its artifact if a later forecast replaced it)."""
    active = active_version(session, series_id, stat)
    if to_version is None:
        if active is None:
            raise RegistryError(f"{series_id} ({stat}) has no active version to roll back from; pass --to VERSION")
        query = select(ModelVersionRow).where(
            *_mine(series_id, stat), ModelVersionRow.version < active.version, ModelVersionRow.status != "candidate"
        )
        target = session.scalars(query.order_by(ModelVersionRow.version.desc()).limit(1)).first()
        if target is None:
            raise RegistryError(f"{series_id} ({stat}) has no version before v{active.version} to roll back to")
    else:
        target = session.scalars(
            select(ModelVersionRow).where(*_mine(series_id, stat), ModelVersionRow.version == to_version)
        ).first()
        if target is None:
            known = ", ".join(f"v{v.version}" for v in list_versions(session, series_id, stat)) or "none"
            raise RegistryError(f"{series_id} ({stat}) has no version {to_version}; versions: {known}")
    if active is not None and active.id == target.id:
        raise RegistryError(f"v{target.version} of {series_id} ({stat}) is already active")
    _make_active(session, target)
    target.reason = f"rolled back from v{active.version}" if active else "made active by hand"
    has_forecast = session.scalar(select(func.count()).select_from(ForecastRow).where(
        ForecastRow.model_version_id == target.id))
    if not has_forecast:
        if not target.artifact_uri:
            raise RegistryError(f"v{target.version} of {series_id} ({stat}) has no forecast and no artifact to restore")
        document = json.loads(artifacts.get(target.artifact_uri))
        write_forecast(session, target, [_parse_point(p) for p in document["forecast"]],
                       step_seconds=int(document["step_seconds"]))
    return target


def _parse_point(point: dict[str, Any]) -> dict[str, Any]:
    return {**point, "ts": datetime.fromisoformat(point["ts"])}


# --- served forecasts -----------------------------------------------------------------------------


def forecast_points(forecast_frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ts + POINT_COLUMNS from a Forecast.to_frame() (levels not computed are None)."""
    frame = forecast_frame.copy()
    for column in POINT_COLUMNS:
        if column not in frame:
            frame[column] = None
    return [
        {"ts": ts.to_pydatetime(), **{c: (None if v is None or not math.isfinite(v) else float(v))
                                      for c, v in zip(POINT_COLUMNS, values, strict=True)}}
        for ts, values in zip(frame.index, frame[list(POINT_COLUMNS)].itertuples(index=False, name=None), strict=True)
    ]


def write_forecast(
    session: Session, version: ModelVersionRow, points: list[dict[str, Any]], *, step_seconds: int
) -> int:
    """Put version's forecast in place of the (series, stat, as_of) forecast; returns its id."""
    assert version.as_of is not None, "a version written by training always has its day"
    key = {"series_id": version.series_id, "stat": version.stat, "as_of": version.as_of}
    header = {**key, "model_version_id": version.id, "model_name": version.model_name,
              "step_seconds": step_seconds, "created_at": utcnow()}
    # an upsert rather than delete + insert: two workers on the same day never trip the unique key
    upsert_rows(session, FORECASTS, [header], key=tuple(key))
    forecast_id = session.execute(
        select(ForecastRow.id).where(*(getattr(ForecastRow, k) == v for k, v in key.items()))
    ).scalar_one()
    session.execute(delete(ForecastPointRow).where(ForecastPointRow.forecast_id == forecast_id))
    if points:
        session.execute(insert(ForecastPointRow), [{"forecast_id": forecast_id, **p} for p in points])
    return int(forecast_id)


def _served_ranks(series_ids: Sequence[str], stat: str) -> Subquery:
    """Each forecast of the series ranked per series: 1 is the one it serves, the newest made by its active version;
    if none (no registry entry, or an old database), the newest stored one."""
    unserved = case((ModelVersionRow.status == "active", 0), else_=1)
    rank = func.row_number().over(partition_by=ForecastRow.series_id,
                                  order_by=(unserved, ForecastRow.as_of.desc(), ForecastRow.id.desc()))
    return (
        select(ForecastRow.id, ForecastRow.series_id, rank.label("rank"))
        .outerjoin(ModelVersionRow, ModelVersionRow.id == ForecastRow.model_version_id)
        .where(ForecastRow.series_id.in_(sorted(set(series_ids))), ForecastRow.stat == stat)
        .subquery()
    )


def served_forecasts(session: Session, series_ids: Sequence[str], stat: str, *,
                     with_points: bool = True) -> dict[str, ForecastRow]:
    """The forecast each series serves, by series id, in one query (two with the points) whatever their number."""
    if not series_ids:
        return {}
    ranked = _served_ranks(series_ids, stat)
    query = select(ForecastRow).join(ranked, ranked.c.id == ForecastRow.id).where(ranked.c.rank == 1)
    if with_points:
        query = query.options(selectinload(ForecastRow.points))
    return {row.series_id: row for row in session.scalars(query)}


def served_forecast_id(session: Session, series_id: str, stat: str) -> int | None:
    """The id of the forecast a series serves, or None: one indexed query and no row object (a cache's check)."""
    ranked = _served_ranks([series_id], stat)
    found: int | None = session.scalar(select(ranked.c.id).where(ranked.c.rank == 1))
    return found


def served_forecast(session: Session, series_id: str, stat: str, *, with_points: bool = True) -> ForecastRow | None:
    """The forecast a series serves (served_forecasts of one series), or None."""
    return served_forecasts(session, [series_id], stat, with_points=with_points).get(series_id)
