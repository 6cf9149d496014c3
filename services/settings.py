"""Headroom's one typed settings object: environment over config/*.yml over defaults."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from collector.config import DemoSourceSettings, FilesSourceSettings, ProvidersSettings

__all__ = ["DemoSourceSettings", "FilesSourceSettings", "ProvidersSettings", "Settings", "SettingsError"]
ENV_PREFIX = "HEADROOM_"
DEV_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused outside development
METRIC_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg2", "influxdb", "influxdbs")


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the setting and says why, on one line."""


class ForecastingSettings(BaseModel):
    model: Literal["auto_ets", "seasonal_naive"] = Field(
        "auto_ets", description="Forecaster used by training until the ensemble lands."
    )
    horizon_hours: int = Field(168, ge=1, le=24 * 14, description="Hourly forecast horizon.")
    history_days: int = Field(28, ge=2, le=365, description="Days of history a model is fitted on.")
    min_history_hours: int = Field(48, ge=24, le=24 * 60, description="Shorter series get no forecast.")
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    retrain_hour_utc: int = Field(2, ge=0, le=23, description="Hour of the daily retrain (UTC).")

    @field_validator("levels")
    @classmethod
    def _levels_in_range(cls, v: list[int]) -> list[int]:
        if not v or any(not 50 <= lvl <= 99 for lvl in v):
            raise ValueError("levels must be whole percentages between 50 and 99, e.g. [80, 95]")
        return sorted(set(v))


class Settings(BaseSettings):
    """Every setting Headroom reads. Environment variables are HEADROOM_<NAME> (nested: __)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", description="production refuses the development secret."
    )
    config_dir: Path = Field(Path("config"), description="Folder of headroom.yml, providers.yml, forecasting.yml.")
    data_dir: Path = Field(Path("var"), description="Where embedded mode keeps its files.")
    database_url: str = Field("", description="Relational store; empty = sqlite file under data_dir.")
    metrics_url: str = Field("", description="Time-series store; empty = the relational database.")
    broker_url: str = Field("", description="Celery broker; empty = SQLAlchemy transport on a sqlite file.")
    result_backend: str = Field("", description="Celery results; empty = a sqlite file under data_dir.")
    artifacts_url: str = Field("", description="Model artifacts; empty = data_dir/models.")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET), description="Signs sessions; required in production.")
    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535)
    frontend_dist: Path = Field(Path("frontend/dist"), description="Built dashboard served at /.")
    collect_interval_minutes: int = Field(5, ge=1, le=1440, description="Beat period of collection.")
    token_ttl_days: int = Field(90, ge=1, le=3650, description="Default lifetime of an API token.")
    max_points_per_request: int = Field(
        200_000, ge=1000, le=10_000_000, description="Largest metrics read the API serves at once."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    providers: ProvidersSettings = ProvidersSettings()
    forecasting: ForecastingSettings = ForecastingSettings()

    @field_validator("metrics_url")
    @classmethod
    def _metrics_scheme(cls, v: str) -> str:
        if v and urlsplit(v).scheme not in METRIC_SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(METRIC_SCHEMES)} (got {v.split(':', 1)[0]!r})")
        return v

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg2:// URL")
        return v

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        data = self.data_dir
        if not self.database_url:
            self.database_url = f"sqlite:///{data / 'headroom.db'}"
        if not self.metrics_url:
            self.metrics_url = self.database_url
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{data / 'celery-broker.db'}"
        if not self.result_backend:
            self.result_backend = f"db+sqlite:///{data / 'celery-results.db'}"
        if not self.artifacts_url:
            self.artifacts_url = str(data / "models")
        if self.environment == "production" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("secret_key: set HEADROOM_SECRET_KEY; the development secret is refused in production")
        return self

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with passwords and tokens masked, for printing."""
        data = self.model_dump(mode="json")
        for name in ("database_url", "metrics_url", "broker_url", "result_backend", "artifacts_url"):
            data[name] = redact_url(data[name])
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, YamlConfigSource(settings_cls), file_secret_settings)


class YamlConfigSource(PydanticBaseSettingsSource):
    """config/headroom.yml at the top level; config/<section>.yml under the key <section>."""

    def _config_dir(self) -> Path:
        return Path(os.environ.get(f"{ENV_PREFIX}CONFIG_DIR", "config"))

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        folder = self._config_dir()
        merged: dict[str, Any] = {}
        if not folder.is_dir():
            return merged
        for path in sorted(folder.glob("*.yml")):
            try:
                content = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError as exc:
                raise SettingsError(f"{path}: not valid YAML ({exc.__class__.__name__}): fix the file") from exc
            if not isinstance(content, dict):
                raise SettingsError(f"{path}: expected a mapping of settings at the top level")
            if path.stem == "headroom":
                merged.update(content)
            elif path.stem in self.settings_cls.model_fields:
                merged[path.stem] = content
        return merged


def redact_url(url: str) -> str:
    """url with any password and any token= / password= query value replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = re.sub(r"((?:^|&)(?:token|password|secret)=)[^&]*", r"\1***", parts.query, flags=re.I)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def describe_validation_error(exc: ValidationError) -> str:
    """One line: which setting, and why."""
    err = exc.errors()[0]
    loc = [str(p) for p in err.get("loc", ())]
    name = ENV_PREFIX + "__".join(loc).upper() if loc else "settings"
    msg = err.get("msg", "invalid value").removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"setting {name}: {msg}{more}"


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings, turning any problem into one SettingsError line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once at start-up."""
    return load_settings()
