"""The distributed mode as local processes: the `command:` lines of docker-compose.yml, run with the environment
compose gives them, pointed at real PostgreSQL, Redis and InfluxDB. Used by tests/integration/test_distributed.py
and bench/distributed_bench.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from testbed.manifests import compose, compose_commands
from testbed.servers import LOCALHOST, free_port, log_tail, wait_until

# What a container would get from .env and its volumes; the test servers stand in for postgres/redis/influxdb.
SETTINGS_THE_TEST_PROVIDES = (
    "HEADROOM_DATABASE_URL", "HEADROOM_METRICS_URL", "HEADROOM_BROKER_URL", "HEADROOM_RESULT_BACKEND",
    "HEADROOM_SECRET_KEY", "HEADROOM_ARTIFACTS_URL",
)


def headroom_argv(argv: list[str]) -> list[str]:
    """`headroom ...` from the compose file, with `headroom` resolved to this venv's entry point."""
    assert argv[0] == "headroom", argv
    return [str(Path(sys.executable).with_name("headroom")), *argv[1:]]


def compose_environment(service: str) -> dict[str, str]:
    """The literal settings compose gives a service; interpolated ones (${...}) must be among those we provide."""
    declared = {str(k): str(v) for k, v in (compose()["services"][service].get("environment") or {}).items()}
    interpolated = {k for k, v in declared.items() if "${" in v}
    missing = interpolated - set(SETTINGS_THE_TEST_PROVIDES)
    assert not missing, f"compose service {service} takes {sorted(missing)} from .env: the test must provide them"
    return {k: v for k, v in declared.items() if k not in interpolated}


@dataclass
class Cluster:
    workdir: Path
    settings: dict[str, str]  # HEADROOM_* shared by every process (the test servers, the demo fleet)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_urls: list[str] = field(default_factory=list)
    worker_nodes: dict[str, str] = field(default_factory=dict)  # process name -> Celery node name
    worker_metrics: dict[str, str] = field(default_factory=dict)  # process name -> its /metrics URL

    def env(self, service: str, name: str, **extra: str) -> dict[str, str]:
        data_dir = self.workdir / name / "var"
        data_dir.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HEADROOM_", "PROMETHEUS_"))}
        return {**base, **compose_environment(service), **self.settings, "HEADROOM_DATA_DIR": str(data_dir),
                **extra}

    def run(self, service: str, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run a one-shot command to completion: migrate, or another `headroom` subcommand with the service's env."""
        argv = headroom_argv(compose_commands()[service]) if not args else headroom_argv(["headroom", *args])
        proc = subprocess.run(argv, env=self.env(service, f"{service}-oneshot", **extra), cwd=self.workdir,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        return proc

    def start(self, service: str, name: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start a long-running service's command as process `name`, in its own process group (like a container)."""
        return self._popen(headroom_argv(compose_commands()[service]), service, name, **extra)

    def spawn(self, service: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start `headroom <args>` with a service's environment in the background (a one-shot run alongside)."""
        return self._popen(headroom_argv(["headroom", *args]), service, f"{service}-{args[0]}", **extra)

    def _popen(self, argv: list[str], service: str, name: str, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, env=self.env(service, name, **extra), cwd=self.workdir, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes[name] = proc
        return proc

    def start_api(self, name: str, *, wait: bool = True) -> str:
        port = free_port()
        self.start("api", name, HEADROOM_API_HOST=LOCALHOST, HEADROOM_API_PORT=str(port))
        url = f"http://{LOCALHOST}:{port}"
        self.api_urls.append(url)
        if wait:
            self.wait_for_apis()
        return url

    def wait_for_apis(self, timeout: float = 90) -> None:
        for url in self.api_urls:
            wait_until(lambda url=url: httpx.get(f"{url}/api/ready", timeout=5).status_code == 200,  # type: ignore[misc]
                       what=f"API at {url}", timeout=timeout, log=self.workdir / "api-1.log")

    def start_worker(self, name: str, concurrency: int = 1) -> str:
        port = free_port()
        node = f"{name}@{LOCALHOST}"
        self.start("worker", name, HEADROOM_DEPLOY__WORKER_NAME=node, HEADROOM_DEPLOY__WORKER_METRICS_PORT=str(port),
                   HEADROOM_DEPLOY__WORKER_CONCURRENCY=str(concurrency))
        self.worker_nodes[name] = node
        self.worker_metrics[name] = f"http://{LOCALHOST}:{port}/metrics"
        return node

    def wait_for_workers(self, app: Any, timeout: float = 90) -> None:
        nodes = set(self.worker_nodes.values())

        def all_answer() -> bool:
            replies = app.control.ping(destination=sorted(nodes), timeout=2)
            return {node for reply in replies for node in reply} >= nodes

        wait_until(all_answer, what=f"workers {sorted(nodes)}", timeout=timeout,
                   log=self.workdir / f"{next(iter(self.worker_nodes))}.log")

    def signal(self, name: str, signum: int) -> None:
        os.killpg(self.processes[name].pid, signum)

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group: the worker and its task processes die at once, as with a lost node."""
        proc = self.processes[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log\n{log_tail(self.workdir / f'{name}.log', 25)}" for name in self.processes)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def cluster_settings(*, database_url: str, metrics_url: str, broker_url: str, result_backend: str, workdir: Path,
                     resources: int, days: int, chunk_size: int, redeliver_after: int, model: str) -> dict[str, str]:
    (workdir / "config").mkdir(parents=True, exist_ok=True)  # no providers.yml: only the demo fleet, sized here
    (workdir / "artifacts").mkdir(parents=True, exist_ok=True)  # the shared volume (s3:// in Kubernetes)
    return {
        "HEADROOM_DATABASE_URL": database_url,
        "HEADROOM_METRICS_URL": metrics_url,
        "HEADROOM_BROKER_URL": broker_url,
        "HEADROOM_RESULT_BACKEND": result_backend,
        "HEADROOM_SECRET_KEY": secrets.token_urlsafe(32),
        "HEADROOM_ARTIFACTS_URL": str(workdir / "artifacts"),
        "HEADROOM_CONFIG_DIR": str(workdir / "config"),
        "HEADROOM_FRONTEND_DIST": str(workdir / "no-dashboard"),
        "HEADROOM_PROVIDERS__DEMO__RESOURCES": str(resources),
        "HEADROOM_PROVIDERS__DEMO__DAYS": str(days),
        "HEADROOM_PROVIDERS__DEMO__STEP_MINUTES": "15",
        "HEADROOM_FORECASTING__MODEL": model,
        "HEADROOM_TRAINING__CHUNK_SIZE": str(chunk_size),
        "HEADROOM_TRAINING__VISIBILITY_TIMEOUT_SECONDS": str(redeliver_after),
        "HEADROOM_LOG_LEVEL": "INFO",
    }


@contextmanager
def running_cluster(workdir: Path, settings: dict[str, str]) -> Iterator[Cluster]:
    cluster = Cluster(workdir=workdir, settings=settings)
    try:
        yield cluster
    finally:
        cluster.stop()
