"""Settings of each source (one section of config/providers.yml each), with bounds and descriptions.

Credentials are given by reference (a profile, a file path, an environment variable's name), never as
values in config files.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AwsService = Literal["ec2", "rds", "asg", "ebs"]
AWS_SERVICES: tuple[AwsService, ...] = ("ec2", "rds", "asg", "ebs")
SourceName = Field(..., min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$", description="Keys watermarks.")


class FilesSourceSettings(BaseModel):
    name: str = SourceName
    path: Path = Field(..., description="A directory of timestamp,value CSV files, one series per file.")
    provider: str = Field("aws", description="Provider label given to the imported series.")
    max_gap_minutes: int = Field(60, ge=0, le=1440, description="Gaps up to this long are interpolated.")
    shift_to_now: bool = Field(
        False, description="Shift each series so its last sample is now (for demos of old traces)."
    )


class RetrySettings(BaseModel):
    max_attempts: int = Field(6, ge=1, le=20, description="Attempts per API call, throttling included.")
    max_backoff_seconds: float = Field(30.0, ge=0.0, le=600.0, description="Longest wait between attempts.")


class StreamCadence(BaseModel):
    """How often the inventory and billing streams are worth asking for: billing refreshes a few times a day."""

    inventory_interval_minutes: int = Field(60, ge=5, le=1440, description="Minutes between inventory runs.")
    cost_interval_hours: int = Field(
        6, ge=1, le=24, description="Hours between billing runs (the providers refresh billing a few times a day)."
    )

    def stream_cadence(self) -> dict[str, timedelta]:
        return {"inventory": timedelta(minutes=self.inventory_interval_minutes),
                "costs": timedelta(hours=self.cost_interval_hours)}  # fmt: skip


class CadenceSettings(StreamCadence):
    """A cloud source's cadence, and what its paid APIs may cost a month."""

    monthly_budget_usd: float | None = Field(
        None, ge=0, description="API spend this source may make per month at list price; none = no limit."
    )


class DemoSourceSettings(StreamCadence):
    """The synthetic fleet; its inventory and bill are re-read at a cloud source's cadence, as the real ones are."""

    enabled: bool = Field(True, description="Load the synthetic demo fleet.")
    resources: int = Field(40, ge=1, le=100_000, description="How many demo resources to generate.")
    days: int = Field(90, ge=2, le=730, description="Days of demo history ending now.")
    step_minutes: int = Field(5, ge=1, le=60, description="Sampling step of demo metrics.")
    seed: int = Field(7, description="Random seed, so the same fleet comes back every time.")
    scalable_groups: bool = Field(
        False, description="Add two scalable groups with a daily cycle: an Auto Scaling group and a Kubernetes "
        "deployment with an HPA (their plans show under autoscaling).",
    )
    every_metric: bool = Field(
        False, description="Every machine reports all five metrics (CPU, memory, disk, network in and out) instead of "
        "2-4 by its kind: 5 series per resource, as the scale benchmark's 10,000 resources and 50,000 series.",
    )


def list_price(default: str, source: str) -> Decimal:
    """A list price setting (USD, never negative) whose description names where the figure comes from."""
    return Field(Decimal(default), ge=0, description=source)  # type: ignore[no-any-return]


class AwsApiPrices(BaseModel):
    """List prices of the paid AWS APIs the collector calls; free tiers are not subtracted (list price)."""

    get_metric_data_usd_per_1000_metrics: Decimal = list_price(
        "0.01", "CloudWatch GetMetricData ($ per 1,000 metrics requested): aws.amazon.com/cloudwatch/pricing, API."
    )
    list_metrics_usd_per_1000_requests: Decimal = list_price(
        "0.01", "CloudWatch ListMetrics ($ per 1,000 requests): aws.amazon.com/cloudwatch/pricing, API."
    )
    cost_explorer_usd_per_request: Decimal = list_price(
        "0.01",
        "Cost Explorer GetCostAndUsage ($ per request, each page one): "
        "aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing.",
    )


class AwsSourceSettings(CadenceSettings):
    enabled: bool = False
    name: str = Field("aws", pattern=r"^[a-z0-9_\-]+$")
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], description="Regions to discover and collect.")
    profile: str | None = Field(None, description="AWS shared-config profile; default: the standard credential chain.")
    role_arn: str | None = Field(None, description="A role to assume for collection (cross-account).")
    endpoint_url: str | None = Field(None, description="Override every AWS endpoint (tests, VPC endpoints).")
    services: list[AwsService] = Field(default_factory=lambda: list(AWS_SERVICES))
    metrics_period_seconds: int = Field(
        300, ge=60, le=86400, multiple_of=60, description="CloudWatch period: a multiple of 60 s (GetMetricData)."
    )
    cost_explorer: bool = Field(True, description="Collect daily costs from Cost Explorer ($0.01 per page).")
    cost_group_by_tag: str | None = Field(None, description="Also group costs by this cost-allocation tag key.")
    settled_after_days: int = Field(3, ge=1, le=31, description="Days after which a day's cost is final.")
    pricing: bool = Field(True, description="Look up prices in the Price List API (catalog as fallback).")
    retry_mode: Literal["standard", "adaptive"] = Field(
        "standard", description="botocore retry mode (never legacy); adaptive also rate-limits the client side."
    )
    history_days: int = Field(
        14, ge=1, le=455, description="How far back the first collection reaches (no watermark yet)."
    )
    retry: RetrySettings = RetrySettings()
    prices: AwsApiPrices = AwsApiPrices()


class GcpApiPrices(BaseModel):
    """List prices of the paid Google APIs the collector calls; free tiers are not subtracted (list price)."""

    monitoring_read_usd_per_1000_calls: Decimal = list_price(
        "0.01",
        "Cloud Monitoring read API ($ per 1,000 projects.timeSeries.list calls, each page one call; the first "
        "million a month per billing account are free): cloud.google.com/stackdriver/pricing, Monitoring API calls.",
    )
    bigquery_usd_per_tib: Decimal = list_price(
        "6.25",
        "BigQuery on-demand analysis ($ per TiB billed, at least 10 MiB per table a query reads): "
        "cloud.google.com/bigquery/pricing#on_demand_pricing.",
    )


class GcpSourceSettings(CadenceSettings):
    enabled: bool = False
    name: str = Field("gcp", pattern=r"^[a-z0-9_\-]+$")
    projects: list[str] = Field(default_factory=list, description="Project ids to discover and collect.")
    credentials_file: Path | None = Field(None, description="Service-account JSON; default: ADC.")
    billing_table: str | None = Field(
        None, description="BigQuery billing export table, project.dataset.gcp_billing_export_v1_XXXX."
    )
    monitoring_endpoint: str | None = Field(None, description="Override the Cloud Monitoring endpoint (tests).")
    compute_endpoint: str | None = Field(None, description="Override the Compute Engine endpoint (tests).")
    bigquery_endpoint: str | None = Field(None, description="Override the BigQuery endpoint (tests).")
    alignment_period_seconds: int = Field(300, ge=60, le=86400)
    billing_job_project: str | None = Field(
        None, description="Project that runs the billing query (needs roles/bigquery.jobUser); default: the table's."
    )
    maximum_bytes_billed: int = Field(
        50 * 2**30, ge=10 * 2**20, description="BigQuery fails the billing query rather than bill more bytes than "
        "this (50 GiB by default: about $0.31 at the on-demand list price)."
    )
    history_days: int = Field(30, ge=1, le=730, description="History collected on the first run (no watermark).")
    settled_after_days: int = Field(
        3, ge=0, le=31, description="Billing days re-read on every run, since the export keeps amending them."
    )
    timeout_seconds: float = Field(60.0, ge=1.0, le=600.0, description="Timeout of each API call.")
    retry: RetrySettings = RetrySettings()
    prices: GcpApiPrices = GcpApiPrices()


class AzureApiPrices(BaseModel):
    """List prices of the Azure APIs the collector calls; free tiers are not subtracted (list price)."""

    metrics_usd_per_1000_calls: Decimal = list_price(
        "0.01",
        "Azure Monitor metric queries ($ per 1,000 API calls, meter 'Native Metric Queries API Calls'; one getBatch "
        "request of up to 50 resources is one call; the first million a month are free): "
        "azure.microsoft.com/pricing/details/monitor, Metrics queries.",
    )
    cost_query_usd_per_call: Decimal = list_price(
        "0",
        "Cost Management Query API: no charge, but throttled per scope (QPU quotas, x-ms-ratelimit-* headers): "
        "learn.microsoft.com/azure/cost-management-billing/automate/api-best-practices.",
    )


class AzureSourceSettings(CadenceSettings):
    enabled: bool = False
    name: str = Field("azure", pattern=r"^[a-z0-9_\-]+$")
    subscriptions: list[str] = Field(default_factory=list, description="Subscription ids.")
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_env: str = Field(
        "AZURE_CLIENT_SECRET", description="Name of the environment variable holding the client secret."
    )
    regions: list[str] = Field(default_factory=list, description="Regions for the batch metrics endpoint.")
    management_endpoint: str | None = Field(None, description="Override Azure Resource Manager (tests, sovereign).")
    metrics_endpoint: str | None = Field(None, description="Override the batch metrics endpoint (tests).")
    authority_host: str | None = Field(
        None,
        description="Override the Entra ID authority, e.g. https://login.microsoftonline.us (sovereign clouds, tests); "
        "when set, MSAL instance discovery and authority validation are turned off.",
    )
    ca_bundle: Path | None = Field(
        None, description="PEM file of CAs to trust for every Azure endpoint (TLS-inspecting proxies, tests)."
    )
    interval_minutes: Literal[1, 5, 15, 30, 60, 360, 720, 1440] = Field(
        5, description="Metrics time grain: one the batch metrics API accepts (PT1M, PT5M, PT15M, PT30M, PT1H, PT6H, "
        "PT12H, P1D)."
    )
    max_throttle_wait_seconds: float = Field(
        300.0, ge=1.0, le=3600.0, description="Longest wait honoured when Azure asks for one (Retry-After, Cost "
        "Management's x-ms-ratelimit-*-retry-after); Cost Management can ask for a minute or more."
    )
    history_days: int = Field(
        30, ge=1, le=93, description="Days collected on a first run (Azure keeps platform metrics for 93 days)."
    )
    costs: bool = Field(True, description="Collect daily costs from the Cost Management Query API.")
    settled_after_days: int = Field(3, ge=1, le=31, description="Recent days of cost re-fetched until they are final.")
    retry: RetrySettings = RetrySettings()
    prices: AzureApiPrices = AzureApiPrices()


class PrometheusSourceSettings(BaseModel):
    name: str = SourceName
    url: str = Field(..., description="Prometheus base URL, e.g. http://prometheus:9090")
    step_seconds: int = Field(60, ge=1, le=3600, description="query_range step.")
    bearer_token_env: str | None = Field(None, description="Environment variable holding a bearer token.")
    provider: str = Field("onprem", description="Provider label for hosts found here.")
    retry: RetrySettings = RetrySettings()
    timeout_seconds: float = Field(30.0, gt=0.0, le=600.0, description="HTTP timeout of each API request.")
    max_points_per_query: int = Field(
        10_000, ge=100, le=11_000, description="Points per series per query_range request (Prometheus caps 11,000)."
    )
    initial_history_days: int = Field(
        14, ge=1, le=400, description="History fetched on the first run, when no watermark exists yet."
    )
    rate_window_seconds: int = Field(
        300, ge=2, le=86400, description="rate() window; at least 4 scrape intervals (the step when that is longer)."
    )


class BillingFilesSourceSettings(BaseModel):
    name: str = SourceName
    path: Path = Field(..., description="A billing file, or a directory of them.")
    format: Literal["focus", "aws_cur", "azure_export", "gcp_export", "auto"] = Field(
        "auto", description="File format; auto looks at the columns."
    )


class ProvidersSettings(BaseModel):
    # other sections belong to collector plug-ins (services.ingest.collectors), which validate their own
    model_config = ConfigDict(extra="allow")

    demo: DemoSourceSettings = DemoSourceSettings()
    files: list[FilesSourceSettings] = Field(default_factory=list)
    aws: AwsSourceSettings = AwsSourceSettings()
    gcp: GcpSourceSettings = GcpSourceSettings()
    azure: AzureSourceSettings = AzureSourceSettings()
    prometheus: list[PrometheusSourceSettings] = Field(default_factory=list)
    billing: list[BillingFilesSourceSettings] = Field(default_factory=list)
