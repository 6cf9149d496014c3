"""The ensemble's global network: trained once per day on every metric series, kept as an artifact, loaded back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from collector.records import SampleBatch, SeriesRef
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.forecasting.global_model import COLD_EVERY_DAYS, ensure_global_model, load_global_model
from services.forecasting.training import active_model_version
from services.forecasting.training_pool import train_in_processes
from services.metrics import open_metric_store
from services.settings import load_settings

pytest.importorskip("ml_engine.nn")
DAY = date(2026, 11, 20)


def test_global_network_is_trained_once_per_day_and_loaded(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                             forecasting={"model": "ensemble", "history_days": 6, "min_history_hours": 48})
    upgrade(settings.database_url)
    end = int(datetime(2026, 11, 20, 23, tzinfo=UTC).timestamp())
    ts = np.arange(end - 6 * 86400, end + COLD_EVERY_DAYS * 86400, 3600, dtype=np.int64)
    store = open_metric_store(settings.metrics_url)
    store.write([SampleBatch(SeriesRef(f"vm-{n}", "cpu_utilization"), ts, 20 + n + 5 * np.sin(2 * np.pi * ts / 86400))
                 for n in range(3)])
    store.close()
    uri = ensure_global_model(settings, DAY)
    assert uri == str(tmp_path / "models" / "_global" / "nn-2026-11-20.tar.gz") and Path(uri).stat().st_size > 0
    stamp = Path(uri).stat().st_mtime_ns
    assert ensure_global_model(settings, DAY) == uri and Path(uri).stat().st_mtime_ns == stamp  # not retrained
    network = load_global_model(settings, DAY)
    assert network is not None and network.season_length == 24
    assert network.training["warm"] is False and network.training["cold_on"] == DAY.isoformat()
    assert load_global_model(settings, date(2026, 11, 21)) is None  # none trained that day: ensembles go without
    # the next days start from yesterday's weights with a few epochs, until the cold training is a week old
    for ahead in range(1, COLD_EVERY_DAYS + 1):
        ensure_global_model(settings, DAY + timedelta(days=ahead))
        daily = load_global_model(settings, DAY + timedelta(days=ahead))
        assert daily is not None
        warm = ahead < COLD_EVERY_DAYS
        assert daily.training["warm"] is warm and daily.training["epochs"] == (daily.warm_epochs if warm else 40)
        assert daily.training["cold_on"] == (DAY if warm else DAY + timedelta(days=ahead)).isoformat()
    other = settings.model_copy(update={"forecasting": settings.forecasting.model_copy(update={"model": "auto_ets"})})
    assert ensure_global_model(other, DAY) is None  # only the ensemble uses it


def test_headroom_train_fits_the_global_network_into_every_ensemble(tmp_path: Path) -> None:
    """`headroom train` (and so the demo) trains the day's network first, as the Celery retrain does, and every
    series' ensemble is backtested with it: what users run is the model `headroom eval` measures."""
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                             forecasting={"model": "ensemble", "history_days": 10, "horizon_hours": 24,
                                          "min_history_hours": 48})
    upgrade(settings.database_url)
    end = int(datetime(2026, 11, 20, 23, tzinfo=UTC).timestamp())
    ts = np.arange(end - 10 * 86400, end, 3600, dtype=np.int64)
    store = open_metric_store(settings.metrics_url)
    store.write([SampleBatch(SeriesRef(f"vm-{n}", "cpu_utilization"), ts, 20 + n + 5 * np.sin(2 * np.pi * ts / 86400))
                 for n in range(3)])
    store.close()
    summary = train_in_processes(as_of=DAY, settings=settings, jobs=1, series_ids=["vm-0/cpu_utilization"])
    assert summary.trained == ["vm-0/cpu_utilization"] and not summary.errors
    assert load_global_model(settings, DAY) is not None
    with session_scope(settings.database_url) as session:
        version = active_model_version(session, "vm-0/cpu_utilization", "mean")
        assert version is not None
        assert "global_nn" in version.params["members"], version.params["members"]


def test_too_little_history_for_a_network_trains_the_ensembles_without_it(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                             forecasting={"model": "ensemble", "history_days": 6, "min_history_hours": 24})
    upgrade(settings.database_url)
    end = int(datetime(2026, 11, 20, 23, tzinfo=UTC).timestamp())
    ts = np.arange(end - 30 * 3600, end, 3600, dtype=np.int64)  # 30 hours: too short a window for the network
    store = open_metric_store(settings.metrics_url)
    store.write([SampleBatch(SeriesRef("vm-0", "cpu_utilization"), ts, np.full(ts.size, 20.0))])
    store.close()
    assert ensure_global_model(settings, DAY) is None and load_global_model(settings, DAY) is None
