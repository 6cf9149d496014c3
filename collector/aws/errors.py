"""Translate boto3/botocore failures into the collector's one-line, actionable errors."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
    ReadTimeoutError,
)

from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)

# botocore client name -> IAM service prefix, so a denied call names the action to grant
IAM_PREFIX = {
    "ec2": "ec2",
    "rds": "rds",
    "autoscaling": "autoscaling",
    "cloudwatch": "cloudwatch",
    "ce": "ce",
    "pricing": "pricing",
    "sts": "sts",
}
DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "AuthorizationError"}
)
THROTTLED_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
        "RequestThrottled", "SlowDown", "EC2ThrottledException",
    }
)  # fmt: skip
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure",
        "InvalidAccessKeyId", "ExpiredToken", "ExpiredTokenException", "InvalidToken",
    }
)  # fmt: skip
WHAT_TO_SET = "set AWS_PROFILE, or profile / role_arn under aws: in config/providers.yml"


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a provider message fits on one line, and cut it short."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def iam_action(service: str, operation: str) -> str:
    """'ec2', 'DescribeInstances' -> 'ec2:DescribeInstances'."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def translate(exc: Exception, *, service: str, operation: str, region: str, chain: str, waited: float) -> Exception:
    """The CollectorError for a failed call (or the exception itself when it is not an AWS failure)."""
    action = iam_action(service, operation)
    where = f"{action} in {region}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return MissingCredentialsError(f"no usable AWS credentials for {where} (looked in {chain}): {WHAT_TO_SET}")
    if isinstance(exc, ProfileNotFound):
        return MissingCredentialsError(f"AWS profile not found ({one_line(str(exc))}): {WHAT_TO_SET}")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ProxyConnectionError | ReadTimeoutError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "") or "the AWS endpoint"
        return EndpointUnreachableError(
            f"cannot reach {endpoint} for {where}: check network, proxy and endpoint_url in config/providers.yml"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = one_line(str(error.get("Message", "")))
        attempts = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        if code in DENIED_CODES:
            return PermissionDeniedError(
                f"AWS denied {where} ({code}): grant the IAM action {action} to the collector's role or user"
            )
        if code in THROTTLED_CODES:
            return ThrottledError(
                f"AWS kept throttling {where} ({code}) after {attempts} attempts over {waited:.1f}s: "
                "raise retry.max_attempts under aws: in config/providers.yml or run collection less often"
            )
        if code in REJECTED_CREDENTIAL_CODES:
            return MissingCredentialsError(
                f"AWS rejected the credentials from {chain} for {where} ({code}): {WHAT_TO_SET} to valid keys"
            )
        return CollectorError(f"{where} failed ({code}): {message}")
    if isinstance(exc, BotoCoreError):
        return CollectorError(f"{where} failed: {one_line(str(exc))}")
    return exc


class AwsCaller:
    """Runs calls of one client, mapping failures with translate(); paginators are iterated inside the guard."""

    def __init__(self, client: Any, *, region: str, chain: str) -> None:
        self.client = client
        self.service: str = client.meta.service_model.service_name
        self.region = region
        self.chain = chain
        self._methods = {api: name for name, api in client.meta.method_to_api_mapping.items()}

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            waited = time.monotonic() - started
            raise translate(
                exc, service=self.service, operation=operation, region=self.region, chain=self.chain, waited=waited
            ) from exc

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One API call, e.g. call("GetCallerIdentity")."""
        method: Callable[..., dict[str, Any]] = getattr(self.client, self._methods[operation])
        with self._guard(operation):
            return method(**params)

    def pages(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated operation (botocore's paginator follows NextToken/Marker)."""
        paginator = self.client.get_paginator(self._methods[operation])
        with self._guard(operation):
            yield from paginator.paginate(**params)
