"""Turn Azure SDK exceptions into one-line CollectorErrors that say which setting, role or endpoint to fix."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import CredentialUnavailableError

from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)
from collector.config import AzureSourceSettings


@dataclass(frozen=True)
class AzureApi:
    """One Azure API we call: what it is, and the role and action that allow it."""

    what: str
    role: str
    action: str


AADSTS = re.compile(r"AADSTS\d+")  # e.g. AADSTS7000215 invalid secret, AADSTS700016 unknown app
COMPUTE = AzureApi("list virtual machines", "Reader", "Microsoft.Compute/virtualMachines/read")
SKUS = AzureApi("list VM sizes (resource SKUs)", "Reader", "Microsoft.Compute/skus/read")
METRICS = AzureApi("read metrics (metrics:getBatch)", "Monitoring Reader", "Microsoft.Insights/metrics/read")
COSTS = AzureApi("query costs (Cost Management)", "Cost Management Reader", "Microsoft.CostManagement/query/read")


def _error_code(exc: HttpResponseError) -> str:
    """ARM's error.code, or OAuth's "error" string from Entra ID; the reason phrase as a last resort."""
    code = getattr(exc.error, "code", None) if exc.error is not None else None
    if not code and exc.response is not None:
        try:
            body = json.loads(exc.response.text())
        except (ValueError, TypeError, AttributeError):
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else error
    if not code:  # azure-identity raises without a response; its text carries Entra ID's AADSTS code
        found = AADSTS.search(str(exc.message or ""))
        code = found.group(0) if found else None
    return str(code or exc.reason or "")


def _origin(exc: HttpResponseError, fallback: str) -> str:
    """scheme://host[:port] of the endpoint that answered, so a token endpoint is not blamed on ARM."""
    request = getattr(exc.response, "request", None)
    parts = urlsplit(str(getattr(request, "url", "") or ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else fallback


def _credential_hint(cfg: AzureSourceSettings) -> str:
    if cfg.client_id:
        return (
            f"check tenant_id {cfg.tenant_id}, client_id {cfg.client_id} and the client secret in "
            f"environment variable {cfg.client_secret_env}"
        )
    return (
        "set providers.azure.tenant_id and client_id with the secret in "
        f"{cfg.client_secret_env}, or sign in with `az login` / a managed identity"
    )


@contextmanager
def translated(cfg: AzureSourceSettings, api: AzureApi, scope: str, endpoint: str) -> Iterator[None]:
    """Re-raise SDK errors from calling `api` on `scope` (a subscription id) at `endpoint` as CollectorErrors.

    Messages never quote the SDK's text: it can carry request details, and never needs to.
    """
    name = cfg.name
    try:
        yield
    except CollectorError:
        raise
    except CredentialUnavailableError:
        raise MissingCredentialsError(f"{name}: no Azure credential found; {_credential_hint(cfg)}") from None
    except HttpResponseError as exc:  # ClientAuthenticationError (token refused, ARM 401) included
        code = _error_code(exc)
        if isinstance(exc, ClientAuthenticationError) or exc.status_code == 401:
            raise MissingCredentialsError(
                f"{name}: {_origin(exc, 'Entra ID')} refused the credential ({code or 'HTTP 401'}) while trying to "
                f"{api.what}; {_credential_hint(cfg)}"
            ) from None
        if exc.status_code == 403:
            who = f"client {cfg.client_id}" if cfg.client_id else "the signed-in identity"
            raise PermissionDeniedError(
                f"{name}: {who} may not {api.what} in subscription {scope} ({code}); assign it the "
                f"{api.role} role on /subscriptions/{scope} (action {api.action})"
            ) from None
        if exc.status_code == 429:
            raise ThrottledError(
                f"{name}: Azure kept throttling {api.what} for subscription {scope} after {cfg.retry.max_attempts} "
                f"attempts (waits capped at {cfg.max_throttle_wait_seconds:g} s); run less often or raise "
                "providers.azure.retry.max_attempts"
            ) from None
        raise CollectorError(
            f"{name}: {api.what} in subscription {scope} failed with HTTP {exc.status_code} {code}".rstrip()
        ) from None
    except (ServiceRequestError, ServiceResponseError):
        raise EndpointUnreachableError(
            f"{name}: cannot reach {endpoint} to {api.what}; check the network, proxy and the endpoint settings "
            "(management_endpoint, metrics_endpoint, authority_host)"
        ) from None
