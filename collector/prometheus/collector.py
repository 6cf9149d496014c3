"""The Prometheus collector: hosts from node exporter, containers from cAdvisor and kube-state-metrics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import numpy as np

from collector.base import Collector, CollectorError
from collector.config import PrometheusSourceSettings
from collector.prometheus.client import PrometheusClient, PromSeries, aligned_grid
from collector.prometheus.queries import (
    CONTAINER_QUERIES,
    CONTAINER_SIZES,
    HOST_INFO,
    HOST_MEMORY,
    HOST_QUERIES,
    HOST_VCPUS,
    MetricQuery,
)
from collector.records import METRICS, Resource, SampleBatch, SeriesRef

GIB = 1024**3


def host_resource_id(instance: str) -> str:
    return f"prometheus:{instance}"


def container_resource_id(namespace: str, pod: str, container: str) -> str:
    return f"k8s:{namespace}/{pod}/{container}"


class PrometheusCollector(Collector):
    """One Prometheus server. Hosts are keyed by their scrape `instance`; containers by namespace/pod/container.

    Host metrics are percentages (CPU, memory, root-filesystem use) and bytes per step (network). Container
    CPU and memory are percentages of the container's request, or of its limit when it has no request;
    a server without cAdvisor or kube-state-metrics simply yields no containers.
    """

    streams = ("inventory", "metrics")

    def __init__(self, cfg: PrometheusSourceSettings, client: PrometheusClient | None = None) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._client = client

    @property
    def client(self) -> PrometheusClient:
        if self._client is None:
            self._client = PrometheusClient(self.cfg)
        return self._client

    def check(self) -> None:
        info = self.client.buildinfo()
        if "version" not in info:
            raise CollectorError(
                f"source {self.name}: {self.cfg.url} answered /api/v1/status/buildinfo without a version;"
                " point url at a Prometheus server"
            )

    # -- discovery ----------------------------------------------------------------------------------
    def discover(self) -> Iterator[Resource]:
        yield from self.discover_hosts()
        yield from self.discover_containers()

    def discover_hosts(self) -> list[Resource]:
        info = {s.labels.get("instance", ""): s.labels for s in self.client.query(HOST_INFO)}
        vcpus = _by_instance(self.client.query(HOST_VCPUS))
        memory = _by_instance(self.client.query(HOST_MEMORY))
        hosts = []
        for instance in sorted((set(info) | set(vcpus) | set(memory)) - {""}):
            labels = info.get(instance, {})
            tags = {"instance": instance, "job": labels.get("job", "")}
            tags.update({k: labels[k] for k in ("machine", "release", "sysname") if labels.get(k)})
            hosts.append(
                Resource(
                    resource_id=host_resource_id(instance),
                    provider=self.cfg.provider,
                    name=labels.get("nodename") or instance,
                    kind="vm",
                    instance_type=labels.get("machine", ""),
                    vcpus=vcpus.get(instance),
                    memory_gib=round(memory[instance] / GIB, 3) if instance in memory else None,
                    tags={k: v for k, v in tags.items() if v},
                )
            )
        return hosts

    def discover_containers(self) -> list[Resource]:
        # (namespace, pod, container) -> {"requests": {"cpu": cores, "memory": bytes}, "limits": {...}}
        sizes: dict[tuple[str, str, str], dict[str, dict[str, float]]] = {}
        for kind, expr in CONTAINER_SIZES.items():
            for series in self.client.query(expr):
                key = _container_key(series.labels)
                if key is None or not series.points:
                    continue
                entry = sizes.setdefault(key, {"requests": {}, "limits": {}})
                entry[kind][series.labels.get("resource", "")] = series.points[-1][1]
        containers = []
        for (namespace, pod, container), entry in sorted(sizes.items()):
            requests, limits = entry["requests"], entry["limits"]
            tags = {"namespace": namespace, "pod": pod, "container": container}
            if "cpu" in limits:
                tags["cpu_limit"] = f"{limits['cpu']:g}"
            if "memory" in limits:
                tags["memory_limit_gib"] = f"{limits['memory'] / GIB:g}"
            containers.append(
                Resource(
                    resource_id=container_resource_id(namespace, pod, container),
                    provider="kubernetes",
                    name=f"{namespace}/{pod}/{container}",
                    kind="container",
                    account=namespace,
                    vcpus=requests.get("cpu"),
                    memory_gib=round(requests["memory"] / GIB, 6) if "memory" in requests else None,
                    environment=namespace,
                    tags=tags,
                )
            )
        return containers

    # -- metrics -------------------------------------------------------------------------------------
    def first_since(self, until: datetime) -> datetime:
        return until - timedelta(days=self.cfg.initial_history_days)

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        """Every query over the step grid inside [since, until); since None = initial_history_days back."""
        start = since or until - timedelta(days=self.cfg.initial_history_days)
        step = self.cfg.step_seconds
        grid = aligned_grid(int(start.timestamp()), int(until.timestamp()), step)
        if grid is None:
            return
        for query in (*HOST_QUERIES, *CONTAINER_QUERIES):
            yield from self.run_query(query, grid[0], grid[1], step)

    def run_query(self, query: MetricQuery, first: int, last: int, step: int) -> Iterable[SampleBatch]:
        for series in self.client.query_range(query.expr(step, self.cfg.rate_window_seconds), first, last, step):
            ref = self.series_ref(query, series.labels)
            if ref is None or not series.points:
                continue
            points = np.asarray(series.points, dtype=np.float64)
            yield SampleBatch(ref, points[:, 0].astype(np.int64), points[:, 1])

    def series_ref(self, query: MetricQuery, labels: dict[str, str]) -> SeriesRef | None:
        common = {"source": self.name, "metric_source": "prometheus"}
        if query.key == ("instance",):
            instance = labels.get("instance")
            if not instance:
                return None
            resource_id = host_resource_id(instance)
            tags = {"provider": self.cfg.provider, "instance": instance, "kind": "vm", **common}
        else:
            key = _container_key(labels)
            if key is None:
                return None
            resource_id = container_resource_id(*key)
            tags = {
                "provider": "kubernetes",
                "namespace": key[0],
                "pod": key[1],
                "container": key[2],
                "kind": "container",
                **common,
            }
        return SeriesRef(resource_id=resource_id, metric=query.metric, unit=METRICS[query.metric], labels=tags)


def _by_instance(series: list[PromSeries]) -> dict[str, float]:
    return {s.labels["instance"]: s.points[-1][1] for s in series if s.labels.get("instance") and s.points}


def _container_key(labels: dict[str, str]) -> tuple[str, str, str] | None:
    key = (labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", ""))
    return key if all(key) else None
