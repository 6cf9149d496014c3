"""Fixtures for the GCP collector: a loopback Google cloud (HTTP + gRPC), a real service-account key, settings."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import _regional_access_boundary_utils

from collector.config import GcpSourceSettings, RetrySettings
from services.db.migrate import upgrade
from services.metrics import SqlMetricStore, open_metric_store
from tests.integration.gcp.gcp_loopback import GoogleHttpServer, GoogleState
from tests.integration.gcp.gcp_monitoring_grpc import MonitoringData, MonitoringGrpcServer

ACCOUNT = "headroom-collector@proj-a.iam.gserviceaccount.com"
BILLING_TABLE = "billing-proj.billing_export.gcp_billing_export_resource_v1_0000AA_BBBBBB"
COMPUTE = "https://www.googleapis.com/compute/v1/projects"
# (project, id, name, zone, machine type, status, labels)
InstanceRow = tuple[str, str, str, str, str, str, dict[str, str]]
INSTANCES: list[InstanceRow] = [
    ("proj-a", "4715281900000000001", "web-1", "us-central1-a", "e2-standard-4", "RUNNING", {"env": "prod"}),
    ("proj-a", "4715281900000000002", "web-2", "us-central1-b", "e2-standard-4", "RUNNING", {"environment": "staging"}),
    ("proj-a", "4715281900000000003", "db-1", "europe-west1-b", "n2-highmem-8", "RUNNING", {"team": "data"}),
    ("proj-a", "4715281900000000004", "batch-1", "us-central1-c", "n2-custom-6-23040", "TERMINATED", {}),
    ("proj-a", "4715281900000000005", "cache-1", "us-east4-a", "e2-medium", "RUNNING", {"env": "dev"}),
    ("proj-b", "5815281900000000006", "api-1", "europe-west1-d", "n2-standard-2", "RUNNING", {"env": "prod"}),
]


def instance_json(project: str, iid: str, name: str, zone: str, mtype: str, status: str, labels: dict[str, str]
                  ) -> dict[str, Any]:  # fmt: skip
    """A Compute v1 Instance resource as the API returns it (id is a uint64 rendered as a string)."""
    return {
        "kind": "compute#instance", "id": iid, "name": name, "creationTimestamp": "2026-01-05T10:00:00.000-08:00",
        "zone": f"{COMPUTE}/{project}/zones/{zone}", "status": status, "labels": labels,
        "machineType": f"{COMPUTE}/{project}/zones/{zone}/machineTypes/{mtype}",
        "selfLink": f"{COMPUTE}/{project}/zones/{zone}/instances/{name}",
    }  # fmt: skip


def billing_rows() -> list[dict[str, Any]]:
    """Daily export rows as the billing query returns them; credits are negative, as in the export."""
    rows = []
    for day in (date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)):
        for service, resource, cost, credit, cost_type in (
            ("Compute Engine", "projects/proj-a/instances/web-1", "12.345678", "-1.250000", "regular"),
            ("Compute Engine", "projects/proj-a/instances/db-1", "40.100000", "-4.010000", "regular"),
            ("Cloud Storage", "", "3.200001", "0", "regular"),
            ("Compute Engine", "", "0.850000", "0", "tax"),
        ):
            rows.append({"usage_date": day, "service": service, "project_id": "proj-a", "region": "us-central1",
                         "resource_name": resource, "cost_type": cost_type, "currency": "USD",
                         "cost": Decimal(cost) + day.day, "credits": Decimal(credit)})  # fmt: skip
    return rows


@dataclass
class LoopbackGoogle:
    state: GoogleState
    monitoring: MonitoringData
    http: GoogleHttpServer
    grpc: MonitoringGrpcServer


def write_service_account(path: Path, token_uri: str, email: str = ACCOUNT) -> tuple[str, str]:
    """A throwaway RSA key in a service-account JSON; returns (private_key_id, public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key_id = secrets.token_hex(20)
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "proj-a", "private_key_id": key_id, "private_key": private_pem,
        "client_email": email, "client_id": "104857600000000000001", "token_uri": token_uri,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    }))  # fmt: skip
    return key_id, public_pem


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGoogle]:
    """The loopback cloud. google-auth looks up a service account's Regional Access Boundary at
    iamcredentials.googleapis.com after each token refresh; that lookup is sent here too, so that no
    request leaves loopback."""
    state = GoogleState(billing_table=BILLING_TABLE, billing_rows=billing_rows())
    for row in INSTANCES:
        state.instances.setdefault(row[0], []).append(instance_json(*row))
    data = MonitoringData(instances={p: [(i[1], i[3]) for i in INSTANCES if i[0] == p] for p in ("proj-a", "proj-b")})
    http = GoogleHttpServer(state)
    grpc_server = MonitoringGrpcServer(state, data)
    monkeypatch.setattr(
        _regional_access_boundary_utils,
        "get_service_account_rab_endpoint",
        lambda email: f"{http.url}/v1/projects/-/serviceAccounts/{email}/allowedLocations",
    )
    yield LoopbackGoogle(state, data, http, grpc_server)
    grpc_server.stop()
    http.stop()


@pytest.fixture
def service_account(google: LoopbackGoogle, tmp_path: Path) -> Path:
    """A service-account JSON whose key the loopback cloud knows and whose token_uri points at it."""
    path = tmp_path / "sa.json"
    key_id, public_pem = write_service_account(path, google.state.token_uri)
    google.state.keys[key_id] = public_pem
    google.state.accounts[ACCOUNT] = key_id
    return path


@pytest.fixture
def gcp_settings(google: LoopbackGoogle, service_account: Path) -> Callable[..., GcpSourceSettings]:
    """Settings pointing every API at the loopback cloud; keyword arguments override fields."""

    def make(**overrides: Any) -> GcpSourceSettings:
        fields: dict[str, Any] = {
            "enabled": True, "name": "gcp-test", "projects": ["proj-a", "proj-b"], "credentials_file": service_account,
            "billing_table": BILLING_TABLE, "monitoring_endpoint": google.grpc.url,
            "compute_endpoint": google.http.url, "bigquery_endpoint": google.http.url,
            "alignment_period_seconds": 300, "history_days": 1, "settled_after_days": 3, "timeout_seconds": 10,
            "retry": RetrySettings(max_attempts=4, max_backoff_seconds=2.0),
        }  # fmt: skip
        fields.update(overrides)
        return GcpSourceSettings(**fields)

    return make


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[str, SqlMetricStore]]:
    """A migrated SQLite database and the metric store on it."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    assert isinstance(store, SqlMetricStore)
    yield db_url, store
    store.close()
