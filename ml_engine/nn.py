"""GlobalNN: one small Keras MLP trained across many series (windows scaled per series), an ensemble member.

Each training example is `input_seasons` seasons of one series followed by the next season, both scaled
by the mean and standard deviation of the input window, so one network learns shapes shared by all
series whatever their level. Forecasts are made a season at a time, each fed back as input. Training is
seeded and deterministic (Keras seed, TensorFlow op determinism, a single thread).

TensorFlow is imported only when a network is built or loaded: the rest of Headroom never pays for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import ForecastError

CONFIG_FILE = "global_nn.json"
WEIGHTS_FILE = "global_nn.keras"
MAX_WINDOWS = 20_000  # training windows kept (a seeded random subset beyond this)
EPSILON = 1e-8


def _keras() -> Any:
    """Keras with TensorFlow set up for repeatable CPU training; ForecastError when TensorFlow is missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ log lines; real failures still raise in Python
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise ForecastError(f"global_nn: TensorFlow is not installed ({exc}); pip install 'headroom[ml]'") from exc
    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised by an earlier network in this process: the setting stays as it was
    return tf.keras


class GlobalNN:
    """A multilayer perceptron from input_seasons x season_length scaled values to the next season."""

    def __init__(
        self,
        season_length: int = 24,
        input_seasons: int = 3,
        hidden: Sequence[int] = (64, 64),
        epochs: int = 40,
        warm_epochs: int = 8,
        batch_size: int = 128,
        seed: int = 0,
    ) -> None:
        if season_length < 1 or input_seasons < 1:
            raise ValueError("season_length and input_seasons must be at least 1")
        self.season_length = season_length
        self.input_seasons = input_seasons
        self.hidden = list(hidden)
        self.epochs = epochs
        self.warm_epochs = warm_epochs
        self.batch_size = batch_size
        self.seed = seed
        self._model: Any = None
        self.training: dict[str, Any] = {}

    @property
    def window(self) -> int:
        return self.input_seasons * self.season_length

    def config(self) -> dict[str, Any]:
        return {
            "season_length": self.season_length,
            "input_seasons": self.input_seasons,
            "hidden": self.hidden,
            "epochs": self.epochs,
            "warm_epochs": self.warm_epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }

    def windows(self, series: Sequence[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
        """Scaled (inputs, targets) from every series, sliding one step at a time."""
        inputs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        width, out = self.window, self.season_length
        # at most twice MAX_WINDOWS are ever built, whatever the fleet: a seeded subset of each series' windows
        # once the series are many (10,000 series of 15 days would otherwise build 6 GB of windows to keep 20,000)
        per_series = max(1, -(-2 * MAX_WINDOWS // max(len(series), 1)))
        rng = np.random.default_rng(self.seed)
        for y in series:
            values = np.asarray(y, dtype=np.float64)
            values = values[np.isfinite(values)]
            if values.size < width + out:
                continue
            frames = np.lib.stride_tricks.sliding_window_view(values, width + out)
            if len(frames) > per_series:
                frames = frames[np.sort(rng.choice(len(frames), per_series, replace=False))]
            x, t = frames[:, :width], frames[:, width:]
            centre, spread = _scale(x)
            inputs.append((x - centre) / spread)
            targets.append((t - centre) / spread)
        if not inputs:
            raise ForecastError(
                f"global_nn: no series has {width + out} finite points ({self.input_seasons + 1} seasons) to train on"
            )
        x_all, t_all = np.concatenate(inputs), np.concatenate(targets)
        if len(x_all) > MAX_WINDOWS:
            keep = np.random.default_rng(self.seed).choice(len(x_all), MAX_WINDOWS, replace=False)
            x_all, t_all = x_all[keep], t_all[keep]
        return x_all.astype(np.float32), t_all.astype(np.float32)

    def _build(self) -> Any:
        keras = _keras()
        keras.utils.set_random_seed(self.seed)
        layers = [keras.Input(shape=(self.window,))]
        layers += [keras.layers.Dense(units, activation="relu") for units in self.hidden]
        layers.append(keras.layers.Dense(self.season_length))
        model = keras.Sequential(layers)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mae")
        return model

    def fit(self, series: Sequence[pd.Series], warm_from: GlobalNN | None = None) -> GlobalNN:
        """Train one network on windows of all series (each a float series on a regular index).

        warm_from, yesterday's network of the same shape, is the daily warm start: its weights are the starting
        point and training runs warm_epochs instead of epochs (a network of another shape is ignored)."""
        x, t = self.windows(series)
        self._model = self._build()
        epochs = self.epochs
        warm = warm_from is not None and warm_from._model is not None and self.same_shape(warm_from)
        if warm:
            assert warm_from is not None
            self._model.set_weights(warm_from._model.get_weights())
            epochs = self.warm_epochs
        history = self._model.fit(x, t, epochs=epochs, batch_size=self.batch_size, shuffle=True, verbose=0)
        self.training = {
            "series": len(series),
            "windows": int(len(x)),
            "loss": float(history.history["loss"][-1]),
            "epochs": epochs,
            "warm": warm,
        }
        return self

    def same_shape(self, other: GlobalNN) -> bool:
        return (other.season_length, other.input_seasons, other.hidden) == (
            self.season_length,
            self.input_seasons,
            self.hidden,
        )

    def forecast(self, history: pd.Series | np.ndarray, horizon: int) -> np.ndarray:
        """The next `horizon` values after history, a season at a time; short histories are padded by repeating
        their first season backwards (at least one season is needed)."""
        if self._model is None:
            raise ForecastError("global_nn: call fit() or load() before forecast()")
        values = np.asarray(history, dtype=np.float64)
        if values.size < self.season_length or not np.isfinite(values).all():
            raise ForecastError(f"global_nn: needs {self.season_length} finite points, got {values.size}")
        if values.size < self.window:
            pad = np.resize(values[: self.season_length], self.window - values.size + self.season_length)
            values = np.concatenate([pad[-(self.window - values.size) :], values])
        window = values[-self.window :].copy()
        out: list[np.ndarray] = []
        for _ in range(-(-horizon // self.season_length)):
            centre, spread = _scale(window[None, :])
            scaled = ((window - centre[0]) / spread[0]).astype(np.float32)[None, :]
            step = self._model(scaled, training=False).numpy()[0].astype(np.float64) * spread[0, 0] + centre[0, 0]
            out.append(step)
            window = np.concatenate([window[self.season_length :], step])
        return np.concatenate(out)[:horizon]

    def save(self, path: str | Path) -> Path:
        """Write the network and its settings into directory path; returns it."""
        if self._model is None:
            raise ForecastError("global_nn: nothing to save: call fit() first")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(folder / WEIGHTS_FILE)
        (folder / CONFIG_FILE).write_text(json.dumps({**self.config(), "training": self.training}, indent=2))
        return folder

    @classmethod
    def load(cls, path: str | Path) -> GlobalNN:
        """A GlobalNN saved by save(path)."""
        folder = Path(path)
        try:
            config = json.loads((folder / CONFIG_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise ForecastError(f"global_nn: {folder} holds no saved network ({exc})") from exc
        training = config.pop("training", {})
        nn = cls(**config)
        nn.training = training
        keras = _keras()
        nn._model = keras.models.load_model(folder / WEIGHTS_FILE)
        return nn


def _scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and standard deviation (1 for a flat row), shaped (rows, 1)."""
    centre = x.mean(axis=1, keepdims=True)
    spread = x.std(axis=1, keepdims=True)
    return centre, np.where(spread > EPSILON, spread, 1.0)
