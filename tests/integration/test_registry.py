"""Model registry on a migrated SQLite database: promote when no worse, stay candidate when worse, rollback."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.forecasting.registry import (
    LocalArtifactStore,
    NewVersion,
    RegistryError,
    active_version,
    list_versions,
    register_version,
    rollback,
)
from services.forecasting.training import latest_forecast

SERIES = "web-1/cpu_utilization"
DAY = date(2026, 11, 1)


def version(as_of: date, mase: float | None, level: float) -> NewVersion:
    """A fitted model as training hands it over: backtest MASE and a flat forecast at `level`."""
    first = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    points = [{"ts": first + timedelta(hours=h), "mean": level, "lo80": level - 1, "hi80": level + 1,
               "lo95": level - 2, "hi95": level + 2} for h in range(24)]
    return NewVersion(series_id=SERIES, stat="mean", as_of=as_of, model_name="AutoETS",
                      params={"state": {"level": level}}, metrics={"mase": mase, "coverage95": 0.95},
                      data_start=first - timedelta(days=7), data_end=first - timedelta(hours=1), step_seconds=3600,
                      points=points)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'headroom.db'}"
    upgrade(url)
    return url


def served_level(url: str) -> float:
    with session_scope(url) as session:
        forecast = latest_forecast(session, SERIES, "mean")
        assert forecast is not None
        return forecast.points[0].mean


def test_promote_when_no_worse_keep_candidate_when_worse_then_rollback(db: str, tmp_path: Path) -> None:
    artifacts = LocalArtifactStore(tmp_path / "models")
    with session_scope(db) as session:
        v1 = register_version(session, version(DAY, 0.80, level=10), artifacts=artifacts)
        assert (v1.version, v1.status, v1.reason) == (1, "active", "first version")
    assert served_level(db) == 10

    # day 2: a better backtest (0.70 <= 0.80) is promoted and serves its forecast
    with session_scope(db) as session:
        v2 = register_version(session, version(DAY + timedelta(days=1), 0.70, level=20), artifacts=artifacts)
        assert v2.status == "active" and "0.7000 <= 0.8000" in v2.reason
    assert served_level(db) == 20

    # day 3: an equal backtest is "no worse": promoted
    with session_scope(db) as session:
        v3 = register_version(session, version(DAY + timedelta(days=2), 0.70, level=30), artifacts=artifacts)
        assert v3.status == "active"
    assert served_level(db) == 30

    # day 4: a worse backtest stays candidate; the active v3's forecast is still served
    with session_scope(db) as session:
        v4 = register_version(session, version(DAY + timedelta(days=3), 0.90, level=40), artifacts=artifacts)
        assert v4.status == "candidate" and "worse than 0.7000 of active v3" in v4.reason
        active = active_version(session, SERIES, "mean")
        assert active is not None and active.version == 3
        forecast = latest_forecast(session, SERIES, "mean")
        assert forecast is not None and forecast.as_of == DAY + timedelta(days=2) and forecast.model_version_id == v3.id
    # the candidate's artifact holds what it would have served
    document = json.loads(Path(v4.artifact_uri).read_bytes())
    assert document["version"] == 4 and document["forecast"][0]["mean"] == 40 and document["params"]["state"]

    # rollback: the version before the active one (v2) serves again, v3 retires
    with session_scope(db) as session:
        target = rollback(session, SERIES, "mean", artifacts=artifacts)
        assert target.version == 2 and target.reason == "rolled back from v3"
        statuses = {v.version: v.status for v in list_versions(session, SERIES, "mean")}
        assert statuses == {1: "retired", 2: "active", 3: "retired", 4: "candidate"}
    assert served_level(db) == 20

    # rollback (--to) to a version that never served: its forecast is restored from its artifact
    with session_scope(db) as session:
        target = rollback(session, SERIES, "mean", artifacts=artifacts, to_version=4)
        assert target.version == 4 and target.status == "active"
    assert served_level(db) == 40  # the candidate never had a forecast row: it came from its artifact

    with session_scope(db) as session, pytest.raises(RegistryError, match="no version 9; versions: v4, v3, v2, v1"):
        rollback(session, SERIES, "mean", artifacts=artifacts, to_version=9)
    with session_scope(db) as session, pytest.raises(RegistryError, match="already active"):
        rollback(session, SERIES, "mean", artifacts=artifacts, to_version=4)


def test_a_worse_candidate_is_served_when_the_active_forecast_is_stale(db: str, tmp_path: Path) -> None:
    artifacts = LocalArtifactStore(tmp_path / "models")
    with session_scope(db) as session:
        register_version(session, version(DAY, 0.5, level=10), artifacts=artifacts, stale_after_days=7)
        late = register_version(session, version(DAY + timedelta(days=7), 0.9, level=50), artifacts=artifacts,
                                stale_after_days=7)
        assert late.status == "active" and "stale" in late.reason
    assert served_level(db) == 50


def test_model_list_and_rollback_commands(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import cli
    from services.settings import get_settings

    artifacts = tmp_path / "models"
    with session_scope(db) as session:
        for n, mase in enumerate((0.5, 0.4)):
            register_version(session, version(DAY + timedelta(days=n), mase, level=10.0 * (n + 1)),
                             artifacts=LocalArtifactStore(artifacts))
    for name, value in {"DATABASE_URL": db, "ARTIFACTS_URL": str(artifacts), "DATA_DIR": str(tmp_path),
                        "CONFIG_DIR": str(tmp_path / "no-config")}.items():
        monkeypatch.setenv(f"HEADROOM_{name}", value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(cli, ["model", "list", SERIES, "--output", "json"])
        assert listed.exit_code == 0, listed.output
        assert [(v["version"], v["status"]) for v in json.loads(listed.output)] == [(2, "active"), (1, "retired")]
        rolled = runner.invoke(cli, ["model", "rollback", SERIES])
        assert rolled.exit_code == 0 and "v1 is active again" in rolled.output
        assert served_level(db) == 10
        again = runner.invoke(cli, ["model", "rollback", SERIES, "--to", "7"])
        assert again.exit_code != 0 and "no version 7" in again.output
        unknown = runner.invoke(cli, ["model", "list", "nope/cpu"])
        assert unknown.exit_code != 0 and "no model versions" in unknown.output
    finally:
        get_settings.cache_clear()
