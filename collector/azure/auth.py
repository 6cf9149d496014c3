"""Entra ID credentials and the transport options every Azure client of this source shares."""

from __future__ import annotations

import os
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import ClientSecretCredential, DefaultAzureCredential

from collector.base import MissingCredentialsError
from collector.config import AzureSourceSettings

from .retry import ThrottleRetryPolicy

ARM_SCOPE = "https://management.azure.com/.default"


def transport_options(cfg: AzureSourceSettings) -> dict[str, Any]:
    """Keyword arguments for azure-core pipelines: TLS trust (ca_bundle) only; empty means the defaults."""
    return {"connection_verify": str(cfg.ca_bundle)} if cfg.ca_bundle else {}


def client_options(cfg: AzureSourceSettings) -> dict[str, Any]:
    """Keyword arguments for every SDK client: transport options plus the throttle-aware retry policy."""
    policy = ThrottleRetryPolicy(cfg.retry, max_wait=cfg.max_throttle_wait_seconds)
    return {**transport_options(cfg), "retry_policy": policy}


def build_credential(cfg: AzureSourceSettings) -> TokenCredential:
    """A service principal (tenant_id, client_id, secret from the variable named by client_secret_env),
    or DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI) without client_id.

    The secret is read here and handed to azure-identity only; it never appears in a message.
    """
    options: dict[str, Any] = transport_options(cfg)
    if cfg.authority_host:
        # a custom authority (sovereign cloud, private cloud, tests) has no instance-discovery metadata
        options.update(authority=cfg.authority_host, disable_instance_discovery=True)
    if not cfg.client_id:
        return DefaultAzureCredential(**options)
    if not cfg.tenant_id:
        raise MissingCredentialsError(
            f"{cfg.name}: client_id is set but tenant_id is not; set HEADROOM_PROVIDERS__AZURE__TENANT_ID "
            "(or providers.azure.tenant_id in config/providers.yml)"
        )
    secret = os.environ.get(cfg.client_secret_env)
    if not secret:
        raise MissingCredentialsError(
            f"{cfg.name}: environment variable {cfg.client_secret_env} is not set; put the client secret of "
            f"app {cfg.client_id} there (providers.azure.client_secret_env names the variable)"
        )
    return ClientSecretCredential(cfg.tenant_id, cfg.client_id, secret, **options)
