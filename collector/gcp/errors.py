"""Turn google-auth, api_core and transport errors into one-line CollectorErrors naming the fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)
from collector.gcp.retrying import AttemptsExhausted, is_throttled

SET_CREDENTIALS = (
    "set credentials_file (gcp section of config/providers.yml) or GOOGLE_APPLICATION_CREDENTIALS "
    "to a service-account JSON key, or run `gcloud auth application-default login`"
)


@dataclass(frozen=True)
class GoogleApi:
    """One Google API we call: how to name it, where it is, and what grants access to it."""

    title: str
    endpoint: str
    roles: str  # the predefined roles that grant `permissions`
    permissions: str


def one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def auth_message(exc: Exception) -> str:
    """google-auth errors carry (message, response body); the message alone is what a user needs."""
    first = exc.args[0] if exc.args else exc
    return one_line(first, 160)


def server_message(exc: gexc.GoogleAPICallError) -> str:
    return one_line(exc.message or exc)


@contextmanager
def translated(api: GoogleApi, *, call: str, scope: str) -> Iterator[None]:
    """Run one API call; re-raise what went wrong as a CollectorError a user can act on.

    scope names where the permission is needed (a project, a dataset).
    """
    try:
        yield
    except CollectorError:
        raise
    except AttemptsExhausted as exc:
        last = exc.last
        if isinstance(last, gexc.ServiceUnavailable) and not isinstance(last, gexc.TooManyRequests):
            raise EndpointUnreachableError(
                f"{api.title} at {api.endpoint} stayed unavailable for {call} ({exc.attempts} attempts over "
                f"{exc.waited:.0f}s): {server_message(last)}; check the network, proxy or endpoint setting"
            ) from None
        raise ThrottledError(
            f"{api.title} kept throttling {call} on {scope} ({exc.attempts} attempts over {exc.waited:.0f}s); "
            f"raise retry.max_attempts / retry.max_backoff_seconds or request more quota"
        ) from None
    except auth_exc.DefaultCredentialsError as exc:
        raise MissingCredentialsError(
            f"no usable Google credentials ({one_line(exc, 160)}): {SET_CREDENTIALS}"
        ) from None
    except auth_exc.RefreshError as exc:
        raise MissingCredentialsError(
            f"Google rejected the credential when {api.title} asked for a token ({auth_message(exc)}): "
            f"check the service-account key is current and not disabled, or {SET_CREDENTIALS}"
        ) from None
    except auth_exc.TransportError as exc:
        raise EndpointUnreachableError(
            f"cannot reach the Google token endpoint for {api.title}: {auth_message(exc)}; check the network or proxy"
        ) from None
    except gexc.Unauthorized as exc:
        raise MissingCredentialsError(
            f"{api.title} rejected the credential (401) for {call}: {server_message(exc)}; {SET_CREDENTIALS}"
        ) from None
    except gexc.Forbidden as exc:
        if is_throttled(exc):
            raise ThrottledError(f"{api.title} rate limit hit on {call} for {scope}: {server_message(exc)}") from None
        raise PermissionDeniedError(
            f"{api.title} denied {call} on {scope}: grant {api.roles} (permissions {api.permissions}) "
            f"to the collector's principal"
        ) from None
    except gexc.NotFound as exc:
        raise CollectorError(f"{api.title}: {scope} not found for {call}: {server_message(exc)}") from None
    except gexc.GoogleAPICallError as exc:
        if isinstance(exc, gexc.ServiceUnavailable):
            raise EndpointUnreachableError(
                f"{api.title} at {api.endpoint} is unavailable for {call}: {server_message(exc)}"
            ) from None
        hint = "; raise maximum_bytes_billed or lower history_days" if "bytes billed" in str(exc) else ""
        raise CollectorError(f"{api.title} failed {call} on {scope}: {server_message(exc)}{hint}") from None
    except gexc.RetryError as exc:
        raise ThrottledError(f"{api.title} gave up retrying {call} on {scope}: {one_line(exc, 160)}") from None
    except requests.exceptions.ConnectionError as exc:
        raise EndpointUnreachableError(
            f"cannot connect to {api.title} at {api.endpoint}: {type(exc).__name__}; check the network, proxy or "
            f"endpoint setting"
        ) from None
    except requests.exceptions.Timeout:
        raise EndpointUnreachableError(f"{api.title} at {api.endpoint} timed out on {call}") from None
