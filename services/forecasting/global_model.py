"""The ensemble's global network (ml_engine.nn.GlobalNN, when present): trained once a day on every metric series,
kept as a registry artifact, and handed to the per-series ensembles. Everything here is optional: without the module
or with another model, training goes on without it.

The daily network is warm-started from yesterday's (its weights, a few epochs) and trained from scratch when there
is none or when the last cold training is COLD_EVERY_DAYS old, like the ensembles' own weekly backtest."""

from __future__ import annotations

import io
import logging
import tarfile
import tempfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache
from pathlib import Path
from typing import Any

from ml_engine import ForecastError, regularize_hourly
from services.forecasting.registry import open_artifact_store
from services.metrics import open_metric_store
from services.settings import Settings

log = logging.getLogger(__name__)
COLD_EVERY_DAYS = 7


def _global_nn_class() -> Any:
    try:
        from ml_engine.nn import GlobalNN  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return GlobalNN


def _key(as_of: date) -> str:
    return f"_global/nn-{as_of.isoformat()}.tar.gz"


def _wanted(settings: Settings) -> Any:
    return _global_nn_class() if settings.forecasting.model == "ensemble" else None


def ensure_global_model(settings: Settings, as_of: date) -> str | None:
    """Train and store the day's global network unless it is stored already; its URI, or None when not used."""
    cls = _wanted(settings)
    if cls is None:
        return None
    artifacts = open_artifact_store(settings.artifacts_url)
    uri = artifacts.uri(_key(as_of))
    try:
        artifacts.get(uri)
        return uri
    except Exception:  # noqa: BLE001 - not stored yet (a missing file or object): train it
        log.info("training the global network of %s", as_of)
    end = datetime.combine(as_of + timedelta(days=1), dt_time(), tzinfo=UTC)
    start = end - timedelta(days=settings.forecasting.history_days)
    store = open_metric_store(settings.metrics_url)
    try:
        histories = []
        for info in store.series():
            history, _ = regularize_hourly(store.read(info.series_id, start, end, 3600, "mean"))
            if len(history) >= settings.forecasting.min_history_hours:
                histories.append(history)
    finally:
        store.close()
    if not histories:
        return None
    previous = _yesterdays(settings, as_of)
    try:
        nn = cls().fit(histories, warm_from=previous)
    except ForecastError as exc:  # too little history for a network, or no TensorFlow: the ensembles go without it
        log.warning("no global network for %s: %s; the ensembles train without it", as_of, exc)
        return None
    nn.training["cold_on"] = previous.training["cold_on"] if nn.training["warm"] else as_of.isoformat()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "nn"
        nn.save(str(path))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(path, arcname="nn")
    return artifacts.put(_key(as_of), buffer.getvalue())


def _yesterdays(settings: Settings, as_of: date) -> Any:
    """Yesterday's network to warm-start from, or None when there is none or its cold training is too old."""
    try:
        previous = _load(settings.artifacts_url, as_of - timedelta(days=1))
    except Exception:  # noqa: BLE001 - none stored (the first day, a gap) or one that will not load: train cold
        return None
    cold_on = previous.training.get("cold_on")
    if not cold_on or (as_of - date.fromisoformat(cold_on)).days >= COLD_EVERY_DAYS:
        return None
    return previous


@lru_cache(maxsize=2)
def _load(artifacts_url: str, as_of: date) -> Any:
    cls = _global_nn_class()
    artifacts = open_artifact_store(artifacts_url)
    data = artifacts.get(artifacts.uri(_key(as_of)))  # raises when none is stored (not cached: it may come later)
    folder = Path(tempfile.mkdtemp(prefix="headroom-nn-"))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    return cls.load(str(folder / "nn"))


def load_global_model(settings: Settings, as_of: date) -> Any:
    """The day's stored global network, loaded once per process, or None."""
    if _wanted(settings) is None:
        return None
    try:
        return _load(settings.artifacts_url, as_of)
    except Exception as exc:  # noqa: BLE001 - none stored, or one that will not load: the ensembles go without it
        log.info("no global network for %s (%s); the ensembles train without it", as_of, exc)
        return None
