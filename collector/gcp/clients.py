"""Credentials and the three Google clients (Monitoring over gRPC, Compute over REST, BigQuery over REST)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import google.auth
import grpc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exc
from google.auth.credentials import Credentials
from google.cloud import bigquery, compute_v1, monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport
from google.oauth2 import service_account

from collector.base import CollectorError, MissingCredentialsError
from collector.config import GcpSourceSettings
from collector.gcp.errors import SET_CREDENTIALS, one_line

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
MONITORING_HOST = "monitoring.googleapis.com"


def load_credentials(cfg: GcpSourceSettings) -> Credentials:
    """The service-account (or other) JSON named by credentials_file, else Application Default Credentials."""
    try:
        if cfg.credentials_file is not None:
            credentials = service_account.Credentials.from_service_account_file(
                str(cfg.credentials_file), scopes=list(SCOPES)
            )
        else:
            credentials, _ = google.auth.default(scopes=list(SCOPES))
    except (OSError, ValueError, auth_exc.DefaultCredentialsError) as exc:  # absent, unreadable or not a key
        where = (
            f"credentials_file {cfg.credentials_file}" if cfg.credentials_file else "Application Default Credentials"
        )
        raise MissingCredentialsError(
            f"no usable Google credentials in {where} ({one_line(exc, 160)}): {SET_CREDENTIALS}"
        ) from None
    return credentials


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def monitoring_client(cfg: GcpSourceSettings, credentials: Credentials) -> monitoring_v3.MetricServiceClient:
    """Cloud Monitoring speaks gRPC only in this SDK (no REST transport).

    monitoring_endpoint "host:port" keeps TLS; "http://127.0.0.1:port" (loopback only, for tests and local
    proxies) uses gRPC local credentials, which still carry the bearer token but refuse non-loopback peers.
    """
    if not cfg.monitoring_endpoint:
        return monitoring_v3.MetricServiceClient(credentials=credentials)
    endpoint = cfg.monitoring_endpoint
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    host, port = parts.hostname or "", parts.port or 443
    if parts.scheme == "http":
        if not _is_loopback(host):
            raise CollectorError(
                f"monitoring_endpoint {endpoint}: plaintext http:// is allowed only on loopback; give host:port for TLS"
            )
        transport = MetricServiceGrpcTransport(
            host=f"{host}:{port}",
            credentials=credentials,
            ssl_channel_credentials=grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
            always_use_jwt_access=True,  # what the client does when it builds the transport itself
        )
        return monitoring_v3.MetricServiceClient(transport=transport)
    options = ClientOptions(api_endpoint=f"{host}:{port}")
    return monitoring_v3.MetricServiceClient(credentials=credentials, client_options=options)


def _options(endpoint: str | None) -> dict[str, Any] | None:
    return {"api_endpoint": endpoint} if endpoint else None


def instances_client(cfg: GcpSourceSettings, credentials: Credentials) -> compute_v1.InstancesClient:
    return compute_v1.InstancesClient(
        credentials=credentials, transport="rest", client_options=_options(cfg.compute_endpoint)
    )


def bigquery_client(cfg: GcpSourceSettings, credentials: Credentials, project: str) -> bigquery.Client:
    return bigquery.Client(project=project, credentials=credentials, client_options=_options(cfg.bigquery_endpoint))


def endpoint_label(configured: str | None, default: str) -> str:
    """The endpoint as a user would recognise it in an error message."""
    return configured or default
