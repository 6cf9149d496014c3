"""Domain records that flow from collectors to the stores: resources, metric batches, costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import numpy as np

Provider = Literal["aws", "gcp", "azure", "onprem", "kubernetes"]
METRICS: dict[str, str] = {
    # metric name -> unit; one vocabulary for every source
    "cpu_utilization": "percent",
    "memory_utilization": "percent",
    "disk_utilization": "percent",
    "disk_write_bytes": "bytes",
    "network_in_bytes": "bytes",
    "network_out_bytes": "bytes",
    "request_count": "count",
}


@dataclass(frozen=True)
class Resource:
    """A machine, database or container whose capacity we plan."""

    resource_id: str  # provider-native id, globally unique with its provider
    provider: str
    name: str
    kind: str = "vm"  # vm, database, container, volume
    account: str = ""
    region: str = ""
    instance_type: str = ""
    vcpus: float | None = None
    memory_gib: float | None = None
    hourly_price: float | None = None  # on-demand list price, USD
    environment: str = "production"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesRef:
    """Which series a batch belongs to: one metric of one resource, with labels for filtering."""

    resource_id: str
    metric: str
    unit: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def series_id(self) -> str:
        return series_id_for(self.resource_id, self.metric)


def series_id_for(resource_id: str, metric: str) -> str:
    return f"{resource_id}/{metric}"


@dataclass
class SampleBatch:
    """Samples of one series: epoch seconds (int64, UTC) and float64 values of equal length."""

    series: SeriesRef
    timestamps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.timestamps.shape != self.values.shape or self.timestamps.ndim != 1:
            raise ValueError(f"{self.series.series_id}: timestamps and values must be 1-D and of equal length")

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])


@dataclass(frozen=True)
class CostRecord:
    """One FOCUS-shaped cost line (FOCUS 1.0 column names in snake case)."""

    provider: str
    charge_period_start: date
    charge_period_end: date
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    charge_category: str = "Usage"  # Usage, Purchase, Tax, Credit, Adjustment
    service_name: str = ""
    resource_id: str = ""
    region_id: str = ""
    sub_account_id: str = ""
    billing_currency: str = "USD"
    tags: dict[str, str] = field(default_factory=dict)
    source: str = ""
    estimated: bool = False  # the provider says this figure may still change: its day is read again until final


@dataclass(frozen=True)
class ApiUsage:
    """Paid calls of one provider API made by one stream: how many, how many billed units, at what list price."""

    stream: str  # inventory, metrics, costs
    api: str  # "cloudwatch:GetMetricData", "bigquery:jobs.query", ...
    calls: float
    units: float  # what the price is per: metrics requested, requests, bytes billed
    unit: str  # "metric", "request", "byte"
    usd_per_unit: Decimal

    @property
    def usd(self) -> Decimal:
        return Decimal(str(self.units)) * self.usd_per_unit


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) in UTC."""

    start: datetime
    end: datetime
