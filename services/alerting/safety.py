"""Outbound-request safety for alert channels: URL checks at save and send time, a pinned-address HTTP client.

A channel URL passes when it is https (or its host is on the allow-list) and every address its host resolves to
is public. The HTTP client then connects to the address that passed, never resolving again (no DNS-rebinding
window), keeps the name for the Host header and TLS SNI/certificate check, never follows redirects, and times out.
Allow-listed hosts (settings `alerts.allowed_hosts`) may use http and private addresses: that is how an
Alertmanager or Grafana on the internal network is reached on purpose.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
BODY_LOG_LIMIT = 300
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeDestinationError(ValueError):
    """A channel URL or host is refused; the message says which rule and how to allow it on purpose."""


@dataclass(frozen=True)
class Destination:
    """A checked host: the name used for Host/SNI and the address the connection must go to."""

    host: str
    port: int
    address: str
    allow_listed: bool


def parse_ipv4_legacy(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton forms that resolvers accept: 2130706433, 0177.0.0.1, 0x7f.1, 127.1 ... as an address, else None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers: list[int] = []
    for part in parts:
        if re.fullmatch(r"0[xX][0-9a-fA-F]*", part):
            numbers.append(int(part[2:] or "0", 16))
        elif re.fullmatch(r"0[0-7]*", part):
            numbers.append(int(part, 8))
        elif re.fullmatch(r"[1-9][0-9]*", part):
            numbers.append(int(part))
        else:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = (value << (8 * (5 - len(numbers)))) + last
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, compatible, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _IPV4_COMPAT:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address((int(ip) >> 8) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a connection to ip is refused (the address class), or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and not (ip.is_loopback or ip.is_unspecified):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = forbidden_reason(inner)
            return f"{reason} (IPv4 {inner} inside IPv6 {ip})" if reason else None
    if ip in _METADATA:
        return "the cloud metadata service (link-local)"
    for attr, label in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attr):
            return label
    if not ip.is_global:
        return "not publicly routable"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return parse_ipv4_legacy(host)


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """True when host is on the allow-list (exact, case-insensitive; '*.example.com' matches sub-domains)."""
    name = host.lower().rstrip(".")
    for entry in allowed_hosts:
        pattern = entry.lower().rstrip(".")
        if name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address host resolves to (a literal resolves to itself, legacy IPv4 forms included)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestinationError(f"host {host!r} does not resolve ({exc}); check the URL") from None
    seen: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


def check_host(host: str, port: int, *, allowed_hosts: Iterable[str]) -> Destination:
    """Resolve host once and return the address to connect to; raise UnsafeDestinationError when refused."""
    if not host:
        raise UnsafeDestinationError("the URL has no host")
    allowed = host_allowed(host, allowed_hosts)
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeDestinationError(f"host {host!r} resolves to no address")
    if not allowed:
        for ip in addresses:
            reason = forbidden_reason(ip)
            if reason:
                shown = host if str(ip) == host else f"{host!r}, which resolves to {ip},"
                raise UnsafeDestinationError(
                    f"refused: {shown} is a {reason} address; alert channels may only reach public hosts "
                    f"unless the host is listed in the setting alerts.allowed_hosts"
                )
    return Destination(host=host, port=port, address=str(addresses[0]), allow_listed=allowed)


def check_url(url: str, *, allowed_hosts: Iterable[str]) -> Destination:
    """Check a channel URL when it is saved and again when it is used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestinationError(f"not a valid URL ({exc})") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http"):
        raise UnsafeDestinationError(f"refused: scheme {parts.scheme or '(none)'!r}; use an https:// URL")
    if parts.username or parts.password:
        raise UnsafeDestinationError("refused: credentials in the URL; put tokens in the channel's token field")
    allowed = host_allowed(host, allowed_hosts)
    if parts.scheme != "https" and not allowed:
        raise UnsafeDestinationError(
            f"refused: {redact_url(url)} is not https; use https, or list {host!r} in alerts.allowed_hosts"
        )
    return check_host(host, port or (443 if parts.scheme == "https" else 80), allowed_hosts=allowed_hosts)


class PinnedTransport(httpx.HTTPTransport):
    """Checks every request's host at send time and connects to the checked address, keeping Host and SNI."""

    def __init__(self, *, allowed_hosts: Iterable[str], verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, retries=0)
        self._allowed = tuple(allowed_hosts)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        dest = check_url(str(request.url), allowed_hosts=self._allowed)
        request.url = request.url.copy_with(host=dest.address)
        request.headers["Host"] = f"{dest.host}:{request.url.port}" if request.url.port else dest.host
        request.extensions = {**request.extensions, "sni_hostname": dest.host}
        return super().handle_request(request)


def safe_client(
    *, allowed_hosts: Iterable[str], connect_timeout: float, read_timeout: float, verify: ssl.SSLContext | bool = True
) -> httpx.Client:
    """The only HTTP client alert channels use: pinned addresses, no redirects, bounded timeouts."""
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
    return httpx.Client(
        transport=PinnedTransport(allowed_hosts=allowed_hosts, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def redact_url(url: str) -> str:
    """scheme://host[:port]/… : a webhook URL's path and query often are the secret (Slack, Teams)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return "(invalid URL)"
    return f"{parts.scheme}://{netloc}/…" if parts.path not in ("", "/") or parts.query else f"{parts.scheme}://{netloc}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """text with every secret (and each URL's path) replaced by ***."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def truncate(body: str | bytes, limit: int = BODY_LOG_LIMIT) -> str:
    """A response body shortened for logs and the delivery log."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"
