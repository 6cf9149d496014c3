"""A real Prometheus scraping a real node exporter (and a tiny kube-state-metrics/cAdvisor-format exporter)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from testbed.servers import LOCALHOST, ManagedServer, ensure_binary, free_port, port_open, start_process, wait_until

# A pod as kube-state-metrics and the kubelet's cAdvisor expose it: 0.5 CPU / 256 MiB requested, 1 CPU / 512 MiB
# limit, using 0.25 CPU and 128 MiB, so its utilisation of the request is 50 % for both.
KUBE_POD = 'namespace="shop",pod="web-0",container="nginx"'
CPU_USED_CORES = 0.25
KUBE_METRICS = f"""# TYPE kube_pod_container_resource_requests gauge
kube_pod_container_resource_requests{{{KUBE_POD},node="n1",resource="cpu",unit="core"}} 0.5
kube_pod_container_resource_requests{{{KUBE_POD},node="n1",resource="memory",unit="byte"}} 268435456
# TYPE kube_pod_container_resource_limits gauge
kube_pod_container_resource_limits{{{KUBE_POD},node="n1",resource="cpu",unit="core"}} 1
kube_pod_container_resource_limits{{{KUBE_POD},node="n1",resource="memory",unit="byte"}} 536870912
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{{{KUBE_POD},id="/kubepods/web-0/nginx"}} 134217728
container_memory_working_set_bytes{{namespace="shop",pod="web-0",container="",id="/kubepods/web-0"}} 999999999
# TYPE container_cpu_usage_seconds_total counter
"""


class _KubeExporter(BaseHTTPRequestHandler):
    started = time.time()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        used = CPU_USED_CORES * (time.time() - self.started)
        body = (KUBE_METRICS + f'container_cpu_usage_seconds_total{{{KUBE_POD},cpu="total"}} {used:.6f}\n').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class PrometheusStack:
    url: str
    node_instance: str  # the scrape instance label of the node exporter
    kube_instance: str
    servers: list[ManagedServer] = field(default_factory=list)


def _scraped(url: str, job: str, samples: int) -> bool:
    query = f'count_over_time(up{{job="{job}"}}[1m])'
    result = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) >= samples


@pytest.fixture(scope="session")
def prometheus_stack() -> Iterator[PrometheusStack]:
    node_bin = ensure_binary("prometheus-node-exporter", "prometheus-node-exporter")
    prom_bin = ensure_binary("prometheus", "prometheus")
    workdir = Path(tempfile.mkdtemp(prefix="headroom-prom-"))
    kube = ThreadingHTTPServer((LOCALHOST, 0), _KubeExporter)
    threading.Thread(target=kube.serve_forever, daemon=True).start()
    node_port, prom_port = free_port(), free_port()
    node_instance, kube_instance = f"{LOCALHOST}:{node_port}", f"{LOCALHOST}:{kube.server_address[1]}"
    (workdir / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: node, static_configs: [{{targets: ['{node_instance}']}}]}}\n"
        f"  - {{job_name: kube, static_configs: [{{targets: ['{kube_instance}']}}]}}\n"
    )
    stack = PrometheusStack(
        url=f"http://{LOCALHOST}:{prom_port}", node_instance=node_instance, kube_instance=kube_instance
    )
    try:
        node = start_process("node-exporter", [node_bin, f"--web.listen-address={node_instance}"], workdir, node_port)
        stack.servers.append(node)
        wait_until(lambda: port_open(node_port), what="node exporter", timeout=30, log=node.log)
        prom_argv = [
            prom_bin,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address={LOCALHOST}:{prom_port}",
        ]
        prom = start_process("prometheus", prom_argv, workdir, prom_port)
        stack.servers.append(prom)
        # a few scrapes of each target, so rate() over them has something to work with
        wait_until(
            lambda: _scraped(stack.url, "node", 8) and _scraped(stack.url, "kube", 8),
            what="prometheus",
            timeout=60,
            log=prom.log,
        )
        yield stack
    finally:
        kube.shutdown()
        kube.server_close()
        for server in reversed(stack.servers):
            server.workdir = None  # both share workdir: remove it once, below
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class GatewayHandler(BaseHTTPRequestHandler):
    """Forwards GETs to Prometheus, like a reverse proxy in front of it that can throttle and demand a token."""

    gateway: Gateway

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        gw = self.gateway
        gw.seen.append((self.path, self.headers.get("Authorization", "")))
        if gw.token is not None and self.headers.get("Authorization") != f"Bearer {gw.token}":
            self._reply(401, b'{"status":"error","error":"unauthorized"}', {})
            return
        if gw.fail_next > 0:
            gw.fail_next -= 1
            self._reply(gw.fail_status, b"slow down", {"Retry-After": "0"})
            return
        upstream = httpx.get(gw.upstream + self.path, timeout=10)
        self._reply(upstream.status_code, upstream.content, {"Content-Type": "application/json"})

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Gateway:
    upstream: str
    url: str = ""
    token: str | None = None  # demand "Authorization: Bearer <token>" when set
    fail_next: int = 0  # answer this many requests with fail_status first
    fail_status: int = 503
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization header) of each request


@pytest.fixture
def gateway(prometheus_stack: PrometheusStack) -> Iterator[Gateway]:
    """A loopback reverse proxy in front of the test Prometheus; each test sets its failures and token."""
    gw = Gateway(upstream=prometheus_stack.url)
    handler = type("BoundGateway", (GatewayHandler,), {"gateway": gw})
    server = ThreadingHTTPServer((LOCALHOST, 0), handler)
    gw.url = f"http://{LOCALHOST}:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield gw
    server.shutdown()
    server.server_close()
