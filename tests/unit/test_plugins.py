"""The four plug-in registries: built-ins in order, clear errors for unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

import ml_engine
from services.alerting.channels import CHANNELS, validate_channel_config
from services.forecasting.forecasters import FORECASTERS, build_forecaster
from services.ingest.collectors import COLLECTORS
from services.ingest.sources import UnknownSourceError, build_collector, source_names
from services.plugins import PluginError, Registry
from services.recommend.registry import RECOMMENDERS
from services.settings import BUILTIN_FORECASTERS, SettingsError, load_settings


def test_registries_hold_the_builtins_in_order() -> None:
    assert COLLECTORS.names() == ["demo", "aws", "gcp", "azure", "files", "prometheus", "billing"]
    assert CHANNELS.names() == ["email", "slack", "grafana", "alertmanager", "pagerduty", "webhook"]
    assert RECOMMENDERS.names()[:3] == ["rightsize", "container_rightsize", "idle"]
    assert FORECASTERS.names() == list(BUILTIN_FORECASTERS)
    assert set(BUILTIN_FORECASTERS) == set(ml_engine.FORECASTERS)


def test_unknown_names_say_which_exist() -> None:
    with pytest.raises(PluginError, match="unknown alert channel type 'fax': known ones are email, slack"):
        validate_channel_config({"type": "fax", "name": "f"})
    with pytest.raises(PluginError, match="unknown forecaster 'oracle'"):
        build_forecaster("oracle", 24)
    with pytest.raises(SettingsError, match="unknown forecaster 'oracle': choose one of ensemble, auto_ets"):
        load_settings(forecasting={"model": "oracle"})


def test_sources_come_from_the_collector_registry(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        providers={"files": [{"name": "traces", "path": str(tmp_path)}], "prometheus": [
            {"name": "prom", "url": "http://127.0.0.1:9"}]},
    )
    assert source_names(settings) == ["demo", "traces", "prom"]
    assert type(build_collector(settings, "prom")).__name__ == "PrometheusCollector"
    with pytest.raises(UnknownSourceError, match="configured sources are demo, traces, prom"):
        build_collector(settings, "aws")


def test_a_name_is_registered_once() -> None:
    registry: Registry[int] = Registry("headroom.none", "thing", lambda o: int(o))  # type: ignore[call-overload]
    registry.register("one", 1)
    with pytest.raises(PluginError, match="registered twice"):
        registry.register("one", 2)
    assert registry.names() == ["one"] and registry.get("one") == 1 and "two" not in registry
