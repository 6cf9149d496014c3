"""Fixtures for the Azure collector: a TLS CA, the loopback Azure server, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure_fleet import CLIENT_ID, SECRET, SECRET_ENV, STORAGE_ID, SUB_A, SUB_B, TENANT, fleet
from azure_loopback import FakeAzure, LoopbackAzure
from azure_tls import make_tls_files

from collector.config import AzureSourceSettings, RetrySettings


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_tls_files(tmp_path_factory.mktemp("azure-tls"))


@pytest.fixture
def fake_azure(tls_files: tuple[Path, Path, Path]) -> Iterator[FakeAzure]:
    _ca, cert, key = tls_files
    fake = FakeAzure(vms=fleet(), extra_cost_resources=[(STORAGE_ID, "Storage")])
    server = LoopbackAzure(fake, cert, key)
    yield fake
    server.stop()


@pytest.fixture
def azure_settings(
    fake_azure: FakeAzure, tls_files: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AzureSourceSettings]:
    """Build settings against the loopback server; keyword arguments override fields."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    ca, _cert, _key = tls_files

    def make(**overrides: object) -> AzureSourceSettings:
        fields: dict[str, object] = {
            "enabled": True,
            "subscriptions": [SUB_A, SUB_B],
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "client_secret_env": SECRET_ENV,
            "authority_host": fake_azure.base_url,
            "management_endpoint": fake_azure.base_url,
            "metrics_endpoint": fake_azure.base_url,
            "ca_bundle": ca,
            "interval_minutes": 5,
            "retry": RetrySettings(max_attempts=4, max_backoff_seconds=1.5),
        }
        fields.update(overrides)
        return AzureSourceSettings.model_validate(fields)

    return make
