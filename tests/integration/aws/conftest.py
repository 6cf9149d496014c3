"""AWS fixtures: moto's real server as a subprocess on loopback, a fault proxy in front, clean credentials."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from aws_fault_proxy import FaultProxy

from collector.config import AwsSourceSettings
from services.db.migrate import upgrade
from services.metrics import SqlMetricStore

REGION = "us-east-1"
CREDENTIAL_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m moto.server` on a free loopback port, for the whole session."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto server did not start on {url} (see {log.name})") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static test keys and nothing else: no user profile, no metadata service, no proxy variables."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never call 169.254.169.254


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """moto's server, emptied before the test."""
    httpx.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    return moto_server


@pytest.fixture
def unused_endpoint() -> str:
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    p = FaultProxy(moto_url)
    yield p
    p.stop()


@pytest.fixture
def aws(moto_url: str) -> Any:
    """boto3 clients straight to moto, for seeding: aws('ec2').run_instances(...)."""

    def client(service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=moto_url)  # type: ignore[call-overload]

    return client


@pytest.fixture
def make_settings() -> Any:
    """make_settings(endpoint, **fields): AWS source settings on a loopback endpoint; pricing off unless asked
    for (moto has no Price List API)."""

    def make(endpoint: str, **overrides: Any) -> AwsSourceSettings:
        values: dict[str, Any] = {"enabled": True, "endpoint_url": endpoint, "regions": [REGION], "pricing": False}
        return AwsSourceSettings(**(values | overrides))

    return make


@pytest.fixture
def sqlite_stores(tmp_path: Path) -> Iterator[tuple[str, SqlMetricStore]]:
    """A migrated SQLite database and the SqlMetricStore on it."""
    db_url = f"sqlite:///{tmp_path / 'aws.db'}"
    upgrade(db_url)
    store = SqlMetricStore(db_url)
    yield db_url, store
    store.close()
