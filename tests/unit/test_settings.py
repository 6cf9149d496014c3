"""Settings: environment over config/*.yml over defaults; one clear line for a wrong value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from services.settings import ENV_PREFIX, Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("HEADROOM_CONFIG_DIR", str(folder))
    monkeypatch.setenv("HEADROOM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return folder


def test_defaults_are_embedded(config_dir: Path) -> None:
    s = load_settings()
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("headroom.db")
    assert s.metrics_url == s.database_url
    assert s.broker_url.startswith("sqla+sqlite:///")
    assert s.embedded


def test_yaml_over_defaults_and_env_over_yaml(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config_dir / "forecasting.yml").write_text("horizon_hours: 72\nhistory_days: 14\n")
    (config_dir / "headroom.yml").write_text("api_port: 9001\n")
    s = load_settings()
    assert (s.forecasting.horizon_hours, s.forecasting.history_days, s.api_port) == (72, 14, 9001)
    monkeypatch.setenv("HEADROOM_FORECASTING__HORIZON_HOURS", "48")
    monkeypatch.setenv("HEADROOM_API_PORT", "9002")
    s = load_settings()
    assert (s.forecasting.horizon_hours, s.forecasting.history_days, s.api_port) == (48, 14, 9002)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("HEADROOM_API_PORT", "70000", r"^setting HEADROOM_API_PORT: .*less than or equal to 65535"),
        ("HEADROOM_METRICS_URL", "mongodb://x", r"^setting HEADROOM_METRICS_URL: scheme must be one of"),
        ("HEADROOM_FORECASTING__HORIZON_HOURS", "1000", r"^setting HEADROOM_FORECASTING__HORIZON_HOURS: "),
        ("HEADROOM_LOG_LEVEL", "LOUD", r"^setting HEADROOM_LOG_LEVEL: "),
    ],
)
def test_wrong_value_is_one_line_naming_the_setting(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message


def test_bad_yaml_names_the_file(config_dir: Path) -> None:
    (config_dir / "forecasting.yml").write_text("horizon_hours: [unclosed\n")
    with pytest.raises(SettingsError, match=r"forecasting.yml: not valid YAML"):
        load_settings()


def test_production_refuses_the_development_secret(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADROOM_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="HEADROOM_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("HEADROOM_SECRET_KEY", "a-real-secret-from-the-vault")
    s = load_settings()
    assert "a-real-secret" not in s.model_dump_json()  # secrets never print


def _env_names(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names += _env_names(ann, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_env_example_lists_every_setting() -> None:
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^#?(HEADROOM_[A-Z0-9_]+)=", text, flags=re.M))
    assert set(_env_names(Settings, ENV_PREFIX)) <= listed


def test_printed_settings_mask_passwords_and_tokens(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADROOM_DATABASE_URL", "postgresql+psycopg2://app:pg-s3cret@db:5432/headroom")
    monkeypatch.setenv("HEADROOM_METRICS_URL", "influxdb://influx:8086/headroom?token=tok-s3cret")
    monkeypatch.setenv("HEADROOM_BROKER_URL", "redis://:redis-s3cret@cache:6379/0")
    shown = str(load_settings().redacted())
    for secret in ("pg-s3cret", "tok-s3cret", "redis-s3cret"):
        assert secret not in shown
    assert "postgresql+psycopg2://app:***@db:5432/headroom" in shown


def test_cli_refuses_to_start_with_one_line(config_dir: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HEADROOM_API_PORT": "not-a-port", "COLUMNS": "40"}
    done = subprocess.run([sys.executable, "-m", "cli.main", "status"], env=env, capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "setting HEADROOM_API_PORT" in lines[0], done.stderr
