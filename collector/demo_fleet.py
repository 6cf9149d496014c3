"""The demo fleet: which machines exist, where, on which instance types, and how each behaves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from collector.base import CollectorError
from collector.catalog import Catalog, CatalogEntry

# One cycle of the fleet: (behaviour, provider, environment). The fleet repeats it, so any size has
# every behaviour and provider in proportion (a 40-machine fleet is two cycles).
CYCLE: tuple[tuple[str, str, str], ...] = (
    ("web", "aws", "production"),
    ("idle", "aws", "staging"),
    ("api", "gcp", "production"),
    ("overprovisioned", "aws", "production"),
    ("saturating_cpu", "gcp", "production"),
    ("devbox", "aws", "dev"),
    ("database", "azure", "production"),
    ("web", "onprem", "production"),
    ("batch", "gcp", "production"),
    ("devbox", "gcp", "dev"),
    ("api", "azure", "staging"),
    ("overprovisioned", "gcp", "production"),
    ("saturating_memory", "aws", "production"),
    ("idle", "onprem", "dev"),
    ("web", "gcp", "staging"),
    ("devbox", "azure", "dev"),
    ("database", "onprem", "production"),
    ("saturating_cpu", "azure", "production"),
    ("idle", "gcp", "staging"),
    ("overprovisioned", "onprem", "production"),
)

SIZE_OF = {
    "web": ("medium", "large"), "api": ("medium", "large"), "idle": ("small", "medium"),
    "overprovisioned": ("big",), "saturating_cpu": ("medium", "large"), "saturating_memory": ("memory",),
    "devbox": ("small", "medium"), "database": ("memory",), "batch": ("large",),
}  # fmt: skip
INSTANCE_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": {
        "small": ("t2.medium", "t2.large"), "medium": ("m4.large", "m4.xlarge", "c5.xlarge"),
        "large": ("m4.2xlarge", "c5.2xlarge"), "big": ("m4.4xlarge", "c5.4xlarge", "r4.4xlarge"),
        "memory": ("r4.xlarge", "r4.2xlarge"),
    },
    "gcp": {
        "small": ("e2-medium", "e2-standard-2"), "medium": ("e2-standard-4", "n2-standard-4", "n2d-standard-4"),
        "large": ("n2-standard-8", "c2-standard-8"), "big": ("n2-standard-16", "c2-standard-16", "n2d-standard-32"),
        "memory": ("n2-highmem-4", "n2-highmem-8"),
    },
    "azure": {
        "small": ("Standard_D2s_v3",), "medium": ("Standard_D4s_v3",), "large": ("Standard_D8s_v3",),
        "big": ("Standard_D16s_v3", "Standard_D32s_v3"), "memory": ("Standard_D8s_v3", "Standard_D16s_v3"),
    },
    "onprem": {
        "small": ("std-2x8",), "medium": ("std-4x16",), "large": ("std-8x32",),
        "big": ("std-32x128", "cpu-32x64", "std-16x64"), "memory": ("mem-8x64", "mem-16x128"),
    },
}  # fmt: skip
REGIONS = {
    "aws": ("us-east-1", "us-west-2", "eu-west-1"),
    "gcp": ("us-central1", "europe-west1"),
    "azure": ("southcentralus", "northcentralus"),
    "onprem": ("dc-fra1", "dc-ash1"),
}
UTC_OFFSET_HOURS = {  # local business hours of the people using each region (standard time)
    "us-east-1": -5, "us-west-2": -8, "eu-west-1": 0, "us-central1": -6, "europe-west1": 1,
    "southcentralus": -6, "northcentralus": -6, "dc-fra1": 1, "dc-ash1": -5,
}  # fmt: skip
ACCOUNTS = {
    ("aws", "production"): "482913570164", ("aws", "staging"): "482913570287", ("aws", "dev"): "482913570391",
    ("gcp", "production"): "shopco-prod-4821", ("gcp", "staging"): "shopco-staging-4821",
    ("gcp", "dev"): "shopco-dev-4821",
    ("azure", "production"): "6f1c2a9e-3b7d-4e0a-9c52-1d8e7f4b2a10",
    ("azure", "staging"): "b83e5d21-7a4c-4f96-8e13-5c2d9a0f6b47",
    ("azure", "dev"): "0d9a4e7b-2c61-4b85-a3f0-8e5b1c7d9f22",
    ("onprem", "production"): "onprem-prod", ("onprem", "staging"): "onprem-nonprod",
    ("onprem", "dev"): "onprem-nonprod",
}  # fmt: skip
SERVICES = {  # behaviour -> (team, service) choices
    "web": (("storefront", "storefront-web"), ("checkout", "checkout-web")),
    "api": (("checkout", "orders-api"), ("search", "search-api"), ("identity", "auth-api")),
    "idle": (("data", "legacy-reporting"), ("platform", "old-jenkins"), ("search", "tmp-migration")),
    "overprovisioned": (("data", "analytics-api"), ("search", "search-indexer"), ("ml", "feature-store")),
    "saturating_cpu": (("checkout", "payments-api"), ("ml", "recommendations")),
    "saturating_memory": (("platform", "session-cache"), ("search", "query-cache")),
    "devbox": (("platform", "devbox"), ("ml", "notebook"), ("data", "devbox")),
    "database": (("checkout", "orders-db"), ("storefront", "catalog-db")),
    "batch": (("data", "etl-nightly"), ("ml", "model-training")),
}
ENV_SHORT = {"production": "prod", "staging": "stg", "dev": "dev"}
EVERY_METRIC = ("cpu_utilization", "memory_utilization", "disk_utilization", "network_in_bytes", "network_out_bytes")


@dataclass(frozen=True)
class DemoMachine:
    """One demo resource and the parameters of its behaviour."""

    index: int
    behaviour: str
    provider: str
    environment: str
    account: str
    region: str
    name: str
    resource_id: str
    team: str
    service: str
    entry: CatalogEntry
    utc_offset_hours: int
    committed: bool  # covered by a 1-year commitment (billed at price_1y)
    saturation_phase: float  # 0..1 position in the growth cycle at t = 0 (saturating machines)
    metrics: tuple[str, ...]
    params: dict[str, float] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, str]:
        tags = {"team": self.team, "service": self.service, "environment": self.environment}
        if self.environment != "dev":
            tags["schedule"] = "always-on"
        return tags


def build_fleet(count: int, seed: int, catalog: Catalog, *, every_metric: bool = False) -> list[DemoMachine]:
    """`count` machines, the same ones every time for the same seed and catalog."""
    rng = np.random.default_rng([seed, 20240501])
    saturating = [i for i in range(count) if CYCLE[i % len(CYCLE)][0].startswith("saturating")]
    fleet = []
    for i in range(count):
        behaviour, provider, environment = CYCLE[i % len(CYCLE)]
        region = str(rng.choice(REGIONS[provider]))
        instance_type = str(rng.choice(INSTANCE_TYPES[provider][str(rng.choice(SIZE_OF[behaviour]))]))
        entry = catalog.find(provider, instance_type, region)
        if entry is None:
            raise CollectorError(
                f"demo: the catalog has no {provider} {instance_type} in {region}; rebuild config/catalog/instances.csv"
            )
        choices = SERVICES[behaviour]
        team, service = choices[int(rng.integers(len(choices)))]
        name = f"{service}-{ENV_SHORT[environment]}-{i + 1:02d}"
        account = ACCOUNTS[(provider, environment)]
        has_disk = behaviour in ("database", "batch") or rng.random() < 0.45
        has_network = behaviour in ("web", "api", "saturating_cpu", "database") or rng.random() < 0.2
        metrics: tuple[str, ...] = ("cpu_utilization", "memory_utilization")
        metrics += ("disk_utilization",) * has_disk + ("network_in_bytes",) * has_network
        if every_metric:  # drawn as above all the same, so the fleet is the same fleet with more series
            metrics = EVERY_METRIC
        phase = (saturating.index(i) / len(saturating) + 0.37) % 1.0 if i in saturating else 0.0
        fleet.append(
            DemoMachine(
                index=i,
                behaviour=behaviour,
                provider=provider,
                environment=environment,
                account=account,
                region=region,
                name=name,
                resource_id=_resource_id(provider, account, region, name, seed),
                team=team,
                service=service,
                entry=entry,
                utc_offset_hours=UTC_OFFSET_HOURS[region],
                committed=environment == "production" and entry.price_1y is not None and rng.random() < 0.4,
                saturation_phase=phase,
                metrics=metrics,
                params=_draw_params(rng),
            )
        )
    return fleet


def _draw_params(rng: np.random.Generator) -> dict[str, float]:
    """Per-machine knobs in 0..1 (each behaviour maps them to its own ranges) and slow-trend phases."""
    names = ("level", "swing", "weekend", "memory", "disk_low", "disk_period", "network", "trend", "trend_phase")
    return {name: float(rng.random()) for name in names}


def _resource_id(provider: str, account: str, region: str, name: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}/{provider}/{name}".encode()).hexdigest()
    if provider == "aws":
        return f"i-{digest[:17]}"
    if provider == "gcp":
        return f"//compute.googleapis.com/projects/{account}/zones/{region}-b/instances/{name}"
    if provider == "azure":
        group = f"rg-{name.rsplit('-', 2)[0]}"
        return f"/subscriptions/{account}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"
    return f"{region}/{name}"


@dataclass(frozen=True)
class DemoGroup:
    """A scalable group of the demo fleet; its CPU, the group's demand, follows a daily cycle with quieter weekends."""

    name: str
    kind: str  # asg or deployment
    region: str
    instance_type: str
    min_size: int
    max_size: int
    night: float  # CPU percent at the daily low
    swing: float  # added at the daily peak
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        account = ACCOUNTS[("aws", "production")]
        if self.kind == "asg":
            return f"arn:aws:autoscaling:{self.region}:{account}:autoScalingGroup:{self.name}"
        return f"eks/{self.region}/{account}/prod/deployments/{self.name}"


DEMO_GROUPS = (
    DemoGroup("storefront-asg-prod", "asg", "us-east-1", "m4.large", 2, 16, 12.0, 48.0, {"service": "storefront"}),
    DemoGroup("checkout-api", "deployment", "eu-west-1", "m4.large", 2, 12, 8.0, 40.0,
              {"service": "checkout", "hpa": "cpu", "hpa_metrics": "cpu"}),
)
