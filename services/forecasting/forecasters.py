"""The forecaster registry: ml_engine's models by name, and those of plug-in packages (entry point group
`headroom.forecasters`, each naming a factory `season_length -> Forecaster`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ml_engine
from ml_engine import Forecaster, WithFallback, make_forecaster
from services.plugins import Registry
from services.settings import BUILTIN_FORECASTERS, FORECASTER_GROUP

if TYPE_CHECKING:
    from ml_engine.nn import GlobalNN

ForecasterFactory = Callable[[int], Forecaster]


def _check(obj: object) -> ForecasterFactory:
    if not callable(obj):
        raise TypeError(f"expected a factory season_length -> Forecaster, got {type(obj).__name__}")
    return obj  # type: ignore[return-value]


LABELS = {  # what the dashboard shows for ml_engine's models; a plug-in is shown by its name
    "ensemble": "Ensemble (backtest-weighted)",
    "seasonal_naive": "Seasonal naive (fast)",
    "auto_ets": "AutoETS",
    "auto_arima": "AutoARIMA (slow)",
    "mstl": "MSTL",
    "theta": "Theta",
    "prophet": "Prophet",
    "weekly_naive": "Weekly naive (fast)",
}
FORECASTERS: Registry[ForecasterFactory] = Registry(FORECASTER_GROUP, "forecaster", _check)
for _name in BUILTIN_FORECASTERS:  # services.settings validates names against this list without importing ml_engine
    FORECASTERS.register(_name, ml_engine.FORECASTERS[_name])


def build_forecaster(name: str, season_length: int, global_nn: GlobalNN | None = None) -> Forecaster:
    """The forecaster called `name`, wrapped so that a series it cannot fit gets a naive fallback; ml_engine's own
    names go through ml_engine.make_forecaster (the global network joins its ensemble)."""
    if name in ml_engine.FORECASTERS:
        return make_forecaster(name, season_length, global_nn=global_nn)
    return WithFallback(FORECASTERS.get(name)(season_length))


def forecaster_choices() -> list[tuple[str, str, bool]]:
    """(name, label, is a plug-in) of every registered forecaster, for the API and the dashboard."""
    return [(name, LABELS.get(name, name), name not in BUILTIN_FORECASTERS) for name, _ in FORECASTERS]
