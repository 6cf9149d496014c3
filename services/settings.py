"""Headroom's one typed settings object: environment over config/*.yml over defaults."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from limits import parse_many
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from collector.config import DemoSourceSettings, FilesSourceSettings, ProvidersSettings
from services.alerting.config import AlertingSettings
from services.plugins import entry_point_names
from services.recommend.config import RecommendSettings
from services.sealing import DEV_SECRET

__all__ = ["DEV_SECRET", "DemoSourceSettings", "FilesSourceSettings", "ProvidersSettings", "Settings", "SettingsError"]
ENV_PREFIX = "HEADROOM_"
# ml_engine's forecasters (services.forecasting.forecasters registers exactly these) and the plug-ins' group
BUILTIN_FORECASTERS = (
    "ensemble", "auto_ets", "auto_arima", "mstl", "theta", "prophet", "weekly_naive", "seasonal_naive"
)
FORECASTER_GROUP = "headroom.forecasters"
MAX_HORIZON_HOURS = 24 * 31  # of an ad-hoc forecast; the API schema documents it
METRIC_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg2", "influxdb", "influxdbs")


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the setting and says why, on one line."""


class ForecastingSettings(BaseModel):
    model: str = Field(
        "ensemble", description="Forecaster used by training: the backtest-weighted ensemble, one of its members "
        "(auto_ets, auto_arima, mstl, theta, prophet, weekly_naive, seasonal_naive), or a plug-in's name."
    )
    horizon_hours: int = Field(168, ge=1, le=24 * 14, description="Hourly forecast horizon.")
    history_days: int = Field(28, ge=2, le=365, description="Days of history a model is fitted on.")
    min_history_hours: int = Field(48, ge=24, le=24 * 60, description="Shorter series get no forecast.")
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    retrain_hour_utc: int = Field(2, ge=0, le=23, description="Hour of the daily retrain (UTC).")

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        known = [*BUILTIN_FORECASTERS, *entry_point_names(FORECASTER_GROUP)]
        if v not in known:
            raise ValueError(f"unknown forecaster {v!r}: choose one of {', '.join(known)}")
        return v

    @field_validator("levels")
    @classmethod
    def _levels_in_range(cls, v: list[int]) -> list[int]:
        if not v or any(not 50 <= lvl <= 99 for lvl in v):
            raise ValueError("levels must be whole percentages between 50 and 99, e.g. [80, 95]")
        return sorted(set(v))


class TrainingSettings(BaseModel):
    """Daily retraining, model registry, cost forecasts, accuracy tracking and anomaly detection."""

    chunk_size: int = Field(25, ge=1, le=1000, description="Series per retrain task of the daily fan-out.")
    visibility_timeout_seconds: int = Field(
        3600, ge=5, le=86400, description="Redis broker: an unacknowledged task goes back to the queue after this "
        "long (a worker died); keep it above the longest retrain chunk."
    )
    stale_after_days: int = Field(
        7, ge=1, le=30, description="A candidate is served anyway when the active model's forecast is this old."
    )
    cost_horizon_days: int = Field(
        184, ge=1, le=366, description="Daily cost forecast horizon: 184 days always reach the next quarter's end."
    )
    cost_history_days: int = Field(365, ge=28, le=1095, description="Days of cost history a model is fitted on.")
    cost_min_history_days: int = Field(28, ge=14, le=365, description="Shorter cost series get no forecast.")
    anomaly_lookback_days: int = Field(14, ge=1, le=90, description="Window the anomaly refresh re-examines.")
    anomaly_merge_gap_steps: int = Field(
        3, ge=0, le=48, description="Anomalous points at most this many steps apart are one incident."
    )
    accuracy_refresh_minutes: int = Field(60, ge=5, le=1440, description="Beat period of scoring and anomalies.")


class AdhocJobSettings(BaseModel):
    """How ad-hoc forecast jobs are bounded: how many at once per token, how large, how long."""

    max_hours: int = Field(
        24 * 400, ge=48, le=24 * 3660, description="Longest regularised hourly series a job fits; gaps count "
        "(72 rows plus one five years later is ~43,800 hours)."
    )
    per_token_concurrency: int = Field(2, ge=1, le=64, description="Queued or running ad-hoc jobs per API token.")
    time_limit_seconds: int = Field(300, ge=10, le=3600, description="A job running longer is stopped and fails.")


class AdhocSettings(BaseModel):
    """Bring-your-own-data forecasts (POST /api/forecasts/adhoc)."""

    max_upload_bytes: int = Field(
        5_000_000, ge=1_000, le=200_000_000, description="Largest CSV accepted; bigger uploads get HTTP 413."
    )
    max_horizon_hours: int = Field(
        MAX_HORIZON_HOURS, ge=1, le=MAX_HORIZON_HOURS, description="Longest forecast asked of an upload."
    )
    jobs: AdhocJobSettings = AdhocJobSettings()


class ApiLimitSettings(BaseModel):
    """Request limits at the API's door: body size and rates (limits' syntax, e.g. `600/minute`)."""

    max_body_bytes: int = Field(
        1_000_000, ge=1_000, le=100_000_000, description="Largest JSON or form body (uploads have adhoc's limit)."
    )
    per_token: str = Field("600/minute", description="Requests per API token.")
    per_address: str = Field("1200/minute", description="Requests per client address, with or without a token.")
    failed_auth: str = Field("30/minute", description="Requests with a bad token per client address.")
    storage_url: str = Field(
        "", description="Counter storage (memory:// or redis://...); empty: the broker when it is Redis, else memory."
    )

    @field_validator("per_token", "per_address", "failed_auth")
    @classmethod
    def _rate(cls, v: str) -> str:
        try:
            parse_many(v)
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a rate such as 600/minute or 10/second: {exc}") from None
        return v


class DeploySettings(BaseModel):
    """How the processes of the distributed mode log, name themselves and expose their metrics."""

    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per log line, with the request id (for log collectors)."
    )
    worker_name: str = Field(
        "worker@%h", min_length=1, description="Celery node name of `headroom worker`; %h is the host name."
    )
    worker_concurrency: int = Field(2, ge=1, le=64, description="Task processes per `headroom worker`.")
    worker_metrics_port: int = Field(
        9808, ge=0, le=65535, description="Port of a worker's /metrics for Prometheus (on HEADROOM_API_HOST); 0 = off."
    )


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
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET), description="Encrypts stored channel secrets; required in production. After changing "
        "it, run `headroom secrets rotate --old-key <previous>`."
    )
    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535)
    api_workers: int = Field(1, ge=1, le=64, description="API processes `headroom serve` runs on the one port.")
    frontend_dist: Path = Field(Path("frontend/dist"), description="Built dashboard served at /.")
    collect_interval_minutes: int = Field(5, ge=1, le=1440, description="Beat period of collection.")
    token_ttl_days: int = Field(90, ge=1, le=3650, description="Default lifetime of an API token.")
    max_points_per_request: int = Field(
        200_000, ge=1000, le=10_000_000, description="Largest metrics read the API serves at once."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    providers: ProvidersSettings = ProvidersSettings()
    forecasting: ForecastingSettings = ForecastingSettings()
    deploy: DeploySettings = DeploySettings()
    recommend: RecommendSettings = RecommendSettings()
    adhoc: AdhocSettings = AdhocSettings()
    training: TrainingSettings = TrainingSettings()
    alerts: AlertingSettings = AlertingSettings()
    limits: ApiLimitSettings = ApiLimitSettings()

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
        self.alerts.seal_with(self.secret_key)
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
        yaml_source = YamlConfigSource(settings_cls, init_settings, env_settings, dotenv_settings)
        return (init_settings, env_settings, dotenv_settings, yaml_source, file_secret_settings)


class YamlConfigSource(PydanticBaseSettingsSource):
    """<config_dir>/headroom.yml at the top level; <config_dir>/<section>.yml under the key <section>.

    config_dir itself comes from the sources above this one: an argument, HEADROOM_CONFIG_DIR, .env, or ./config.
    """

    def __init__(self, settings_cls: type[BaseSettings], *above: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._above = above

    def _config_dir(self) -> Path:
        for source in self._above:
            value = source().get("config_dir")
            if value:
                return Path(value)
        return Path("config")

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
