"""The PromQL Headroom runs: node exporter host metrics, cAdvisor container usage, kube-state-metrics sizes."""

from __future__ import annotations

from dataclasses import dataclass

HOST_KEY = ("instance",)
CONTAINER_KEY = ("namespace", "pod", "container")
_BY_CONTAINER = "namespace, pod, container"
_REAL_CONTAINERS = 'container!="", container!="POD"'  # cAdvisor also reports the pod cgroup and the pause container


@dataclass(frozen=True)
class MetricQuery:
    """One metric of the METRICS vocabulary, as a PromQL template whose series are keyed by `key` labels."""

    metric: str
    template: str  # {window}: the rate window, {step}: the query step in seconds
    key: tuple[str, ...]

    def expr(self, step: int, window: int = 300) -> str:
        """The PromQL at this step; the rate() window is `window` seconds, or the step when that is longer, so
        no sample between two evaluations is skipped."""
        return self.template.format(window=f"{max(window, step)}s", step=step)


HOST_QUERIES: tuple[MetricQuery, ...] = (
    MetricQuery(
        "cpu_utilization",
        '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[{window}])))',
        HOST_KEY,
    ),
    MetricQuery(
        "memory_utilization",
        "100 * (1 - max by (instance) (node_memory_MemAvailable_bytes)"
        " / max by (instance) (node_memory_MemTotal_bytes))",
        HOST_KEY,
    ),
    MetricQuery(
        "disk_utilization",
        '100 * (1 - max by (instance) (node_filesystem_avail_bytes{{mountpoint="/", fstype!="rootfs"}})'
        ' / max by (instance) (node_filesystem_size_bytes{{mountpoint="/", fstype!="rootfs"}}))',
        HOST_KEY,
    ),
    # bytes moved per step (rate x step), the same meaning as CloudWatch's Sum per period
    MetricQuery(
        "network_in_bytes",
        'sum by (instance) (rate(node_network_receive_bytes_total{{device!="lo"}}[{window}])) * {step}',
        HOST_KEY,
    ),
    MetricQuery(
        "network_out_bytes",
        'sum by (instance) (rate(node_network_transmit_bytes_total{{device!="lo"}}[{window}])) * {step}',
        HOST_KEY,
    ),
)


def _container_share(usage: str, resource: str) -> str:
    """100 * usage / request, or / limit for containers without a request: percent of what was reserved."""
    usage_by = f"sum by ({_BY_CONTAINER}) ({usage})"
    sizes = [
        f'sum by ({_BY_CONTAINER}) (kube_pod_container_resource_{kind}{{{{resource="{resource}"}}}})'
        for kind in ("requests", "limits")
    ]
    return " or ".join(f"100 * ({usage_by} / {size})" for size in sizes)


CONTAINER_QUERIES: tuple[MetricQuery, ...] = (
    MetricQuery(
        "cpu_utilization",
        _container_share(f"rate(container_cpu_usage_seconds_total{{{{{_REAL_CONTAINERS}}}}}[{{window}}])", "cpu"),
        CONTAINER_KEY,
    ),
    MetricQuery(
        "memory_utilization",
        _container_share(f"container_memory_working_set_bytes{{{{{_REAL_CONTAINERS}}}}}", "memory"),
        CONTAINER_KEY,
    ),
)

# discovery (instant queries)
HOST_INFO = "node_uname_info"
HOST_VCPUS = 'count by (instance) (node_cpu_seconds_total{mode="idle"})'
HOST_MEMORY = "max by (instance) (node_memory_MemTotal_bytes)"
CONTAINER_SIZES = {
    kind: f'sum by ({_BY_CONTAINER}, resource) (kube_pod_container_resource_{kind}{{resource=~"cpu|memory"}})'
    for kind in ("requests", "limits")
}
